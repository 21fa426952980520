// `fetch` that trusts the given CA (--ca-file) for https URLs. Node 20's global fetch has
// no option for it: its undici Agent (`connect: { ca }`) is reachable only through the
// undici package, whose dispatcher must match the version bundled in the running Node.
// node:https takes `ca` itself, so the CLI sends https requests through it and hands
// ApiClient a standard Response whose body streams as it arrives (the job's SSE too).
// Only what ApiClient sends is supported: method, plain-object headers, a string body,
// an abort signal; no redirects (the API sends none) and no compressed encodings (none
// are asked for). Failures reject like fetch's: TypeError('fetch failed') with the
// socket's or TLS's error as `cause`, so ApiClient reports both kinds the same way.
import type { IncomingMessage } from 'node:http';
import * as https from 'node:https';
import { Readable } from 'node:stream';

/** Statuses whose responses have no body (the Response constructor refuses one). */
const NULL_BODY = new Set([101, 204, 205, 304]);

export function caFetch(ca: string): typeof fetch {
  // `ca` replaces the system CAs for these requests, as curl's --cacert does.
  const agent = new https.Agent({ ca, keepAlive: true });
  const caFetchImpl = (input: string | URL | Request, init: RequestInit = {}): Promise<Response> => {
    const url = new URL(input instanceof Request ? input.url : input);
    if (url.protocol !== 'https:') return fetch(input, init);
    if (init.body != null && typeof init.body !== 'string') return Promise.reject(new TypeError('caFetch sends string bodies only'));
    const signal = init.signal ?? undefined;
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise((resolve, reject) => {
      let res: IncomingMessage | undefined;
      const req = https.request(url, { method: init.method ?? 'GET', headers: init.headers as Record<string, string>, agent }, (r) => {
        res = r;
        const headers = new Headers();
        for (const [name, value] of Object.entries(r.headers)) for (const v of [value ?? []].flat()) headers.append(name, v);
        const status = r.statusCode!;
        const empty = NULL_BODY.has(status) || init.method === 'HEAD';
        if (empty) r.resume();
        const body = empty ? null : (Readable.toWeb(r) as unknown as ReadableStream<Uint8Array>);
        resolve(new Response(body, { status, statusText: r.statusMessage, headers }));
      });
      // As with fetch, an abort rejects the request, or errors the body being read, with the signal's reason.
      const onAbort = () => {
        res?.destroy(signal!.reason);
        req.destroy(signal!.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      req.on('close', () => signal?.removeEventListener('abort', onAbort));
      req.on('error', (err) => reject(signal?.aborted ? signal.reason : new TypeError('fetch failed', { cause: err })));
      req.end(init.body ?? undefined);
    });
  };
  return caFetchImpl as typeof fetch;
}
