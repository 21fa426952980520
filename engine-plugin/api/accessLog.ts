// The access log ([engine] access_log): one JSON line per HTTP request, for the
// administrator's audit trail and traffic questions. A line holds what was asked and how
// it went, and never what authenticates or carries data: no Authorization header, no
// cookie, no body, no token (the caller's token NAME from [tokens], or the oVirt user's
// name, is what identifies him), and of the query string only the values of the keys the
// API declares (RouteSpec.query): any other key (access_token, the EventSource token)
// is kept by name with its value replaced.
//
// The file is opened for appending ('a'): logrotate (or the packages' logrotate entry)
// renames it and sends SIGHUP, on which the file is reopened under its name. A file that
// cannot be written never fails a request: the error is logged once, lines are dropped
// until the next reopen.
import type { RequestHandler, Request, Response } from 'express';
import { createWriteStream, mkdirSync, WriteStream } from 'node:fs';
import * as path from 'node:path';
import type { EngineConfig } from '../config';
import type { Caller } from '../jobs/Caller';
import type { Logger } from '../logger';

export const REDACTED = '[redacted]';

/** One access log line. */
export interface AccessLogLine {
  time: string;
  method: string;
  /** The express route pattern (/api/v1/jobs/:id); null: no route answered (404, static files). */
  route: string | null;
  /** The path without its query string. */
  path: string;
  /** Declared keys with their values, other keys with REDACTED; absent: no query. */
  query?: Record<string, string>;
  status: number;
  duration_ms: number;
  /** Body bytes sent (headers not counted). */
  bytes: number;
  /** The caller's token name (or oVirt user); absent: not authenticated. */
  caller?: string;
  remote?: string;
  /** The client went away before the answer was complete (an SSE stream closed, a reset). */
  aborted?: true;
}

/** The file [engine] access_log names: '' is off, unset is `<data_dir>/access.log`. */
export function accessLogFile(config: Pick<EngineConfig, 'accessLog' | 'dataDir'>): string {
  return config.accessLog ?? path.join(config.dataDir, 'access.log');
}

export class AccessLog {
  private stream!: WriteStream;
  private broken = false;
  private closed = false;
  private readonly onHangup = () => this.reopen();

  constructor(private readonly file: string, private readonly log: Logger) {
    mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    this.open();
    process.on('SIGHUP', this.onHangup);
  }

  /** The express middleware; `queryKeys`: the query parameters whose values may be logged. */
  middleware(queryKeys: Iterable<string>): RequestHandler {
    const keep = new Set(queryKeys);
    return (req, res, next) => {
      const started = process.hrtime.bigint();
      const bytes = countBodyBytes(res);
      const route = routePattern(req);
      let done = false;
      const end = (aborted: boolean) => {
        if (done) return;
        done = true;
        this.write({
          time: new Date().toISOString(),
          method: req.method,
          route: route(),
          path: req.originalUrl.split('?')[0],
          ...query(req, keep),
          status: res.statusCode,
          duration_ms: Math.round(Number(process.hrtime.bigint() - started) / 1e4) / 100,
          bytes: bytes(),
          ...caller(res),
          ...(req.socket.remoteAddress ? { remote: req.socket.remoteAddress } : {}),
          ...(aborted ? { aborted: true as const } : {}),
        });
      };
      res.once('finish', () => end(false));
      res.once('close', () => end(!res.writableFinished));
      next();
    };
  }

  /** Reopens the file under its name (after logrotate moved it away). */
  reopen(): void {
    if (this.closed) return;
    const old = this.stream;
    this.open();
    old.end();
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    process.off('SIGHUP', this.onHangup);
    return new Promise((resolve) => this.stream.end(resolve));
  }

  private open(): void {
    this.broken = false;
    const stream = createWriteStream(this.file, { flags: 'a', mode: 0o600 });
    stream.on('error', (err) => {
      if (this.broken || stream !== this.stream) return;
      this.broken = true;
      this.log.error('the access log cannot be written; its lines are dropped until it is reopened (SIGHUP)', { file: this.file, error: err.message });
    });
    this.stream = stream;
  }

  private write(line: AccessLogLine): void {
    if (this.broken || this.closed) return;
    this.stream.write(JSON.stringify(line) + '\n');
  }
}

function query(req: Request, keep: ReadonlySet<string>): { query?: Record<string, string> } {
  const at = req.originalUrl.indexOf('?');
  if (at < 0) return {};
  const out: Record<string, string> = {};
  for (const [k, v] of new URLSearchParams(req.originalUrl.slice(at + 1))) out[k] = keep.has(k) ? v : REDACTED;
  return Object.keys(out).length ? { query: out } : {};
}

/**
 * The pattern of the route that took the request (/api/v1/jobs/:id), or null. Read when
 * the router sets req.route, where req.baseUrl is still the router's mount point: a
 * handler's error goes on to the error middleware after the router has reset baseUrl.
 */
function routePattern(req: Request): () => string | null {
  let pattern: string | null = null;
  let value: unknown;
  Object.defineProperty(req, 'route', {
    configurable: true,
    enumerable: true,
    get: () => value,
    set(v: { path?: unknown } | undefined) {
      value = v;
      if (v && typeof v.path === 'string') pattern = `${req.baseUrl}${v.path}`;
    },
  });
  return () => pattern;
}

function caller(res: Response): { caller?: string } {
  const c = res.locals.caller as Caller | undefined;
  return c?.name ? { caller: c.name } : {};
}

/** Counts the body bytes written through `res` (JSON, SSE, streamed text and files alike). */
function countBodyBytes(res: Response): () => number {
  let n = 0;
  const count = (chunk: unknown, encoding: unknown) => {
    if (typeof chunk === 'string') n += Buffer.byteLength(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8');
    else if (chunk instanceof Uint8Array) n += chunk.byteLength;
  };
  const write = res.write as (...a: unknown[]) => boolean;
  const end = res.end as (...a: unknown[]) => Response;
  res.write = function (this: Response, ...a: unknown[]) {
    count(a[0], a[1]);
    return write.apply(this, a);
  } as typeof res.write;
  res.end = function (this: Response, ...a: unknown[]) {
    count(a[0], a[1]);
    return end.apply(this, a);
  } as typeof res.end;
  return () => n;
}
