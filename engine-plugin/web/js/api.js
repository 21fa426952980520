// The engine's REST API (/api/v1, docs/api.md) as the page uses it. The bearer token lives
// in sessionStorage: it is gone when the tab closes and is never written to the URL
// except for EventSource, which cannot send headers (`access_token`, GET only).

const BASE = new URL('../api/v1', document.baseURI).pathname.replace(/\/$/, '');
const TOKEN_KEY = 'ovirt-sysprep.token';

/** An error answer of the API: {"error": {code, message, details}}. */
export class ApiError extends Error {
  constructor(status, code, message, details = {}) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
  }
  /** The request field at fault (`params.hostname`, `vms[1]`), when the API names one. */
  get field() {
    return typeof this.details.field === 'string' ? this.details.field : undefined;
  }
}

export const session = {
  get token() {
    return sessionStorage.getItem(TOKEN_KEY);
  },
  set token(value) {
    if (value) sessionStorage.setItem(TOKEN_KEY, value);
    else sessionStorage.removeItem(TOKEN_KEY);
  },
};

/** One request with the token; an error answer (or no answer) becomes an ApiError. */
async function request(method, path, { body, accept = 'application/json' } = {}) {
  const headers = { accept };
  if (session.token) headers.authorization = `Bearer ${session.token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  let res;
  try {
    res = await fetch(BASE + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (err) {
    throw new ApiError(0, 'NETWORK', `the engine cannot be reached (${err.message})`);
  }
  if (!res.ok) {
    const text = await res.text();
    let e = {};
    try {
      e = (text ? JSON.parse(text) : {})?.error ?? {};
    } catch {
      throw new ApiError(res.status, 'BAD_ANSWER', `the engine answered ${res.status} with something that is not JSON`);
    }
    throw new ApiError(res.status, e.code ?? `HTTP_${res.status}`, e.message ?? `HTTP ${res.status}`, e.details ?? {});
  }
  return res;
}

export async function api(method, path, body) {
  const res = await request(method, path, { body });
  const text = await res.text();
  try {
    return text ? JSON.parse(text) : undefined;
  } catch {
    throw new ApiError(res.status, 'BAD_ANSWER', `the engine answered ${res.status} with something that is not JSON`);
  }
}

/** A plain-text resource (a job's log), whole. */
export async function apiText(path) {
  return (await request('GET', path, { accept: 'text/plain' })).text();
}

/** Every item of a paged listing ({items, next}), up to `max`. */
export async function listAll(path, max = 2000) {
  const items = [];
  let cursor;
  do {
    const sep = path.includes('?') ? '&' : '?';
    const page = await api('GET', `${path}${sep}limit=500${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    items.push(...page.items);
    cursor = page.next;
  } while (cursor && items.length < max);
  return items;
}

/** The Server-Sent Events stream of a job. */
export function jobEvents(jobId) {
  return new EventSource(`${BASE}/jobs/${encodeURIComponent(jobId)}/events?access_token=${encodeURIComponent(session.token ?? '')}`);
}
