// A small client of the oVirt REST API v4 (JSON) with the plugin's own SSO token.
//
// Protocol:
//  1. token: POST <url>/ovirt-engine/sso/oauth/token (form: grant_type=password,
//     scope=ovirt-app-api, username, password) -> {access_token}; kept in memory only.
//     The user name is <user>@<profile>: "name@internal" (aaa-jdbc), "name@ovirt@internalsso"
//     (Keycloak, new installs since 4.5.1); a refusal is 400 {error_code, error}
//     (ssoRefusal), reported with the code and a hint on the user name;
//  2. every call: Accept: application/json, Authorization: Bearer <token>, and
//     Correlation-Id: <engine job id> when the call belongs to a job (oVirt then shows
//     it in its own logs and events);
//  3. a 401 renews the token ONCE and repeats the call; a second 401 is an error;
//  4. calls made with a USER's token (the UI plugin's) are never renewed: a 401 there
//     means the user's session is over;
//  5. TLS is verified against the engine CA file (ca_file), never switched off.
import { readFileSync } from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import { isIP } from 'node:net';
import { inject, injectable } from 'tsyringe';
import { AuthError, NotFoundError, SysprepError, UnavailableError } from '../../shared/errors';
import { Logger } from '../logger';
import { OvirtConfig } from './OvirtConfig';

export const OVIRT_API = '/ovirt-engine/api';
export const OVIRT_SSO_TOKEN = '/ovirt-engine/sso/oauth/token';
const TIMEOUT_MS = 30_000;

export interface CallOptions {
  query?: Record<string, string | number | undefined>;
  body?: unknown;
  /** Engine job id: sent as Correlation-Id. */
  correlationId?: string;
  /** A user's SSO token instead of the plugin's own (never renewed). */
  userToken?: string;
  /** `Filter: true`: answer as a non-admin user would see it (user permissions apply). */
  filter?: boolean;
}

interface RawResponse {
  status: number;
  body: string;
}

/** oVirt answered with an HTTP error (not 401 / 404, which have their own errors). */
export class OvirtApiError extends SysprepError {
  constructor(readonly status: number, message: string, details: Record<string, unknown> = {}) {
    super(status >= 500 ? 'unavailable' : status === 409 ? 'conflict' : 'failed', 'OVIRT_ERROR', message, { status, ...details });
  }
}

/** The oVirt fault body: {"reason": ..., "detail": ...}. */
function faultOf(body: string): string {
  try {
    const j = JSON.parse(body) as { reason?: string; detail?: string; fault?: { reason?: string; detail?: string } };
    const f = j.fault ?? j;
    return [f.reason, f.detail].filter(Boolean).join(': ') || body.slice(0, 200);
  } catch {
    return body.slice(0, 200);
  }
}

/**
 * The SSO's refusal of a login: always HTTP 400, {error_code, error} for the REST API's
 * scope, {error, error_description} otherwise (ovirt-engine 0111fc6 enginesso
 * SsoService.sendJsonDataWithMessage); undefined when the body is neither.
 */
export function ssoRefusal(body: string): { code: string; message: string } | undefined {
  let j: { error_code?: unknown; error?: unknown; error_description?: unknown };
  try {
    j = JSON.parse(body);
  } catch {
    return undefined;
  }
  if (typeof j.error_code === 'string') return { code: j.error_code, message: typeof j.error === 'string' ? j.error : '' };
  if (typeof j.error === 'string') return { code: j.error, message: typeof j.error_description === 'string' ? j.error_description : '' };
  return undefined;
}

/** What to check when the SSO says access_denied: the profile part of the user name. */
const LOGIN_HINT = 'check username and password in [ovirt]: the user name ends with its profile, e.g. "ovirt-sysprep@internal" (aaa-jdbc) or "ovirt-sysprep@ovirt@internalsso" (Keycloak, new installs since oVirt 4.5.1), see docs/ovirt.md 1.1';

@injectable()
export class OvirtClient {
  private token?: string;
  private login?: Promise<string>;
  private readonly agent: http.Agent;
  private readonly base: URL;
  /** Counts, for tests and the health page. */
  readonly stats = { logins: 0, renewals: 0, calls: 0 };

  constructor(
    @inject(OvirtConfig) private readonly config: OvirtConfig,
    @inject(Logger) private readonly log: Logger,
  ) {
    this.base = new URL(config.url);
    this.agent = this.base.protocol === 'https:'
      ? new https.Agent({ keepAlive: true, maxSockets: 16, ca: config.caFile ? readFileSync(config.caFile) : undefined, rejectUnauthorized: true })
      : new http.Agent({ keepAlive: true, maxSockets: 16 });
  }

  close(): void {
    this.agent.destroy();
  }

  get<T>(path: string, opts: CallOptions = {}): Promise<T> {
    return this.call<T>('GET', path, opts);
  }

  /** GET that answers undefined on 404 (unknown, or not visible with a user token). */
  async find<T>(path: string, opts: CallOptions = {}): Promise<T | undefined> {
    try {
      return await this.call<T>('GET', path, opts);
    } catch (err) {
      if (err instanceof NotFoundError) return undefined;
      throw err;
    }
  }

  post<T>(path: string, body: unknown, opts: CallOptions = {}): Promise<T> {
    return this.call<T>('POST', path, { ...opts, body });
  }

  delete(path: string, opts: CallOptions = {}): Promise<unknown> {
    return this.call('DELETE', path, opts);
  }

  async call<T>(method: string, path: string, opts: CallOptions = {}): Promise<T> {
    const url = new URL(`${this.base.pathname.replace(/\/$/, '')}${OVIRT_API}${path}`, this.base);
    for (const [k, v] of Object.entries(opts.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    const body = opts.body === undefined ? undefined : JSON.stringify(opts.body);
    const headers: Record<string, string> = { Accept: 'application/json', Version: '4' };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (opts.correlationId) headers['Correlation-Id'] = opts.correlationId;
    if (opts.filter) headers.Filter = 'true';

    let renewed = false;
    for (;;) {
      const token = opts.userToken ?? (await this.serviceToken());
      const res = await this.send(method, url, { ...headers, Authorization: `Bearer ${token}` }, body);
      this.stats.calls++;
      if (res.status === 401) {
        if (opts.userToken) throw new AuthError('the oVirt session of this user is not valid (log in to oVirt again)');
        if (renewed) throw new UnavailableError('OVIRT_AUTH', `oVirt refused the plugin's token right after a new login (${method} ${path})`);
        renewed = true;
        this.stats.renewals++;
        this.log.info('oVirt token refused: logging in again', { method, path });
        if (this.token === token) this.token = undefined;
        continue;
      }
      if (res.status === 404) throw new NotFoundError('OVIRT_NOT_FOUND', `oVirt has no ${path}`, { path });
      if (res.status >= 400) throw new OvirtApiError(res.status, `oVirt answered ${res.status} to ${method} ${path}: ${faultOf(res.body)}`, { path });
      if (!res.body) return undefined as T;
      try {
        return JSON.parse(res.body) as T;
      } catch {
        throw new OvirtApiError(502, `oVirt answered ${method} ${path} with a body that is not JSON`, { path });
      }
    }
  }

  /** The plugin's token: one login at a time, shared by concurrent callers. */
  private serviceToken(): Promise<string> {
    if (this.token) return Promise.resolve(this.token);
    this.login ??= this.doLogin().then(
      (t) => {
        this.token = t;
        this.login = undefined;
        return t;
      },
      (err) => {
        this.login = undefined;
        throw err;
      },
    );
    return this.login;
  }

  private async doLogin(): Promise<string> {
    const password = this.config.passwordFile ? readFileSync(this.config.passwordFile, 'utf8').replace(/\r?\n$/, '') : this.config.password;
    const form = new URLSearchParams({ grant_type: 'password', scope: 'ovirt-app-api', username: this.config.username, password }).toString();
    const url = new URL(`${this.base.pathname.replace(/\/$/, '')}${OVIRT_SSO_TOKEN}`, this.base);
    const res = await this.send('POST', url, { Accept: 'application/json', 'Content-Type': 'application/x-www-form-urlencoded' }, form);
    let token: unknown;
    try {
      token = (JSON.parse(res.body) as { access_token?: unknown }).access_token;
    } catch {
      /* reported below */
    }
    if (res.status !== 200 || typeof token !== 'string' || !token) {
      // Never log the password; oVirt's own message names the user.
      const refusal = ssoRefusal(res.body);
      const what = refusal ? `${refusal.code}: ${refusal.message}` : `HTTP ${res.status}: ${res.body.slice(0, 200)}`;
      const hint = refusal?.code === 'access_denied' ? ` (${LOGIN_HINT})` : '';
      throw new UnavailableError('OVIRT_LOGIN_FAILED', `oVirt SSO refused the login of ${this.config.username} (${what})${hint}`, { status: res.status, ssoError: refusal?.code });
    }
    this.stats.logins++;
    return token;
  }

  private send(method: string, url: URL, headers: Record<string, string>, body?: string): Promise<RawResponse> {
    const mod = url.protocol === 'https:' ? https : http;
    return new Promise((resolve, reject) => {
      // No SNI for an IP address (RFC 6066); the certificate is still checked against it.
      const servername = isIP(url.hostname.replace(/^\[|\]$/g, '')) ? '' : url.hostname;
      const req = mod.request(url, { method, headers: body === undefined ? headers : { ...headers, 'Content-Length': String(Buffer.byteLength(body)) }, agent: this.agent, timeout: TIMEOUT_MS, servername }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(new Error(`no answer in ${TIMEOUT_MS / 1000} s`)));
      req.on('error', (err) => reject(new UnavailableError('OVIRT_UNREACHABLE', `oVirt engine ${url.origin} is unreachable: ${err.message}`, { url: url.origin })));
      req.end(body);
    });
  }
}
