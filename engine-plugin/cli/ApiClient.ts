// The engine's REST API (/api/v1) as the CLI uses it: JSON requests with the bearer
// token, typed errors from {"error": {code, message, details}}, list pages followed
// through their cursors, a job's Server-Sent Events, and streamed text (a job's log).
import { ApiError, ConnectionError } from './exitCodes';
import { readSse, SseEvent } from './sse';

export interface Page<T> {
  items: T[];
  next?: string;
  total?: number;
}

export class ApiClient {
  constructor(
    readonly url: string,
    private readonly token: string,
    private readonly fetchImpl: typeof fetch = fetch,
  ) {}

  get<T = any>(path: string, query: Record<string, string | number | undefined> = {}): Promise<T> {
    return this.request<T>('GET', path, undefined, query);
  }

  post<T = any>(path: string, body: unknown = {}): Promise<T> {
    return this.request<T>('POST', path, body);
  }

  put<T = any>(path: string, body: unknown): Promise<T> {
    return this.request<T>('PUT', path, body);
  }

  /** DELETE; the engine answers 204 with no body. */
  delete(path: string): Promise<void> {
    return this.request<void>('DELETE', path);
  }

  /** Every item of a paged list, up to `max`. */
  async list<T = any>(path: string, query: Record<string, string | number | undefined> = {}, max = Infinity): Promise<T[]> {
    const items: T[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.get<Page<T>>(path, { ...query, cursor, limit: Math.min(max - items.length, 500) });
      items.push(...page.items);
      cursor = page.next;
    } while (cursor && items.length < max);
    return items;
  }

  /** The job's event stream; ends when the engine closes it (after the final state). */
  async *events(jobId: string, signal?: AbortSignal): AsyncGenerator<SseEvent> {
    const res = await this.send('GET', `/jobs/${encodeURIComponent(jobId)}/events`, undefined, {}, signal, 'text/event-stream');
    if (!res.ok) throw await this.toError(res);
    if (!res.body) return;
    yield* readSse(res.body as unknown as AsyncIterable<Uint8Array>);
  }

  /** A plain-text answer as it arrives (a job's log), chunk by chunk; an answer cut short fails. */
  async *text(path: string, signal?: AbortSignal): AsyncGenerator<Uint8Array> {
    const res = await this.send('GET', path, undefined, {}, signal, 'text/plain');
    if (!res.ok) throw await this.toError(res);
    if (!res.body) return;
    try {
      yield* res.body as unknown as AsyncIterable<Uint8Array>;
    } catch (err) {
      if ((err as Error).name === 'AbortError') throw err;
      throw new ConnectionError(`the engine at ${this.url} cut the answer short: ${(err as Error).message}`);
    }
  }

  private async request<T>(method: string, path: string, body?: unknown, query: Record<string, string | number | undefined> = {}): Promise<T> {
    const res = await this.send(method, path, body, query);
    if (!res.ok) throw await this.toError(res);
    const text = await res.text();
    return (text ? JSON.parse(text) : undefined) as T;
  }

  private async send(method: string, path: string, body: unknown, query: Record<string, string | number | undefined>, signal?: AbortSignal, accept = 'application/json'): Promise<Response> {
    const qs = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== '') qs.set(k, String(v));
    const target = `${this.url}/api/v1${path}${qs.size ? `?${qs}` : ''}`;
    try {
      return await this.fetchImpl(target, {
        method,
        signal,
        headers: {
          authorization: `Bearer ${this.token}`,
          accept,
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (err) {
      if ((err as Error).name === 'AbortError') throw err;
      throw new ConnectionError(unreachable(this.url, err as Error));
    }
  }

  private async toError(res: Response): Promise<Error> {
    const text = await res.text().catch(() => '');
    try {
      const e = JSON.parse(text).error;
      if (e && typeof e.code === 'string') return new ApiError(res.status, e.code, String(e.message ?? e.code), e.details ?? {});
    } catch {
      /* not the API's error body */
    }
    return new ConnectionError(`${this.url} answered HTTP ${res.status} ${res.statusText}: is it an ovirt-sysprep engine? ${text.slice(0, 200)}`);
  }
}

/** Certificate checks that fail when the client does not trust the engine's CA. */
const UNTRUSTED = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'CERT_UNTRUSTED', 'CERT_SIGNATURE_FAILURE',
]);

/** Why a request got no answer, said so that the administrator knows what to change. */
export function unreachable(url: string, err: Error): string {
  const cause = (err as { cause?: { code?: string; message?: string; reason?: string } }).cause;
  const code = cause?.code ?? '';
  // OpenSSL's messages carry codes and source locations; the reason is the readable part.
  const message = cause?.message ?? err.message;
  const reason = cause?.reason ?? /error:[0-9A-F]+:[^:]*:[^:]*:([^:]+)/.exec(message)?.[1] ?? message.split('\n')[0];
  const what = [code, reason].filter(Boolean).join(': ');
  const base = `cannot reach the engine at ${url}`;
  if (UNTRUSTED.has(code)) return `${base}: its TLS certificate is not trusted (${what}); give the CA that signed it with --ca-file FILE (or OVIRT_SYSPREP_CA_FILE, or ca_file in cli.conf)`;
  if (code === 'CERT_HAS_EXPIRED' || code === 'CERT_NOT_YET_VALID') return `${base}: its TLS certificate is not valid now (${what})`;
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') return `${base}: its TLS certificate is for another name (${what}); use a host name of the certificate in the URL`;
  if (url.startsWith('https:') && /EPROTO|SSL|wrong version/i.test(what)) return `${base}: TLS handshake failed (${what}); does the engine serve http:// on this port?`;
  if (url.startsWith('http:') && /UND_ERR_SOCKET|ECONNRESET/.test(code)) return `${base}: the connection was closed without an answer (${what}); if the engine serves HTTPS, use an https:// URL`;
  return `${base}: ${code || cause?.message || err.message}`;
}
