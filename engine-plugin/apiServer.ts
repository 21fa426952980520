// The REST API's listening socket. Every request carries a bearer token (or an oVirt
// user's SSO token), so the API speaks HTTPS when [engine] tls_cert and tls_key are set,
// and plain HTTP only where no network sees it (a loopback `listen`) or where the
// administrator said so ([engine] allow_insecure_http = true: a TLS-terminating proxy
// that reaches the engine over a private network).
// apiTransport() decides and reads the PEM files before the engine starts anything, so a
// wrong setting or an unusable certificate is an error at start, not at the first client.
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import { isLoopback } from '../shared/grpc';
import { ConfigError, EngineConfig } from './config';

/** TLS 1.0 and 1.1 are refused whatever Node's defaults (--tls-min-v1.0) say. */
export const API_TLS_MIN_VERSION = 'TLSv1.2';

export type ApiTransport = ({ scheme: 'https'; cert: Buffer; key: Buffer } | { scheme: 'http' }) & {
  /** Something the administrator should see in the log (plain HTTP on the network, an expired certificate). */
  warning?: string;
};

/** How the API will be served, from [engine] listen, tls_cert, tls_key and allow_insecure_http. */
export function apiTransport(config: Pick<EngineConfig, 'listen' | 'tlsCert' | 'tlsKey' | 'allowInsecureHttp'>): ApiTransport {
  const { tlsCert, tlsKey } = config;
  if (Boolean(tlsCert) !== Boolean(tlsKey)) {
    throw new ConfigError(`[engine] ${tlsCert ? 'tls_cert is set but tls_key is not' : 'tls_key is set but tls_cert is not'}: HTTPS needs both (PEM files: the certificate, and its private key)`);
  }
  if (tlsCert && tlsKey) {
    if (config.allowInsecureHttp) throw new ConfigError('[engine] tls_cert/tls_key and allow_insecure_http = true contradict each other: with a certificate the engine serves HTTPS only; remove allow_insecure_http');
    const { cert, key, certificate } = readPemPair(tlsCert, tlsKey);
    const expired = Date.parse(certificate.validTo) < Date.now();
    return { scheme: 'https', cert, key, warning: expired ? `tls_cert ${tlsCert} expired on ${certificate.validTo}: clients will refuse it` : undefined };
  }
  const [host] = splitListen(config.listen);
  if (isLoopback(host)) return { scheme: 'http' };
  if (config.allowInsecureHttp) return { scheme: 'http', warning: 'plain HTTP on a non-loopback address (allow_insecure_http = true): API tokens cross the network in clear text' };
  throw new ConfigError(
    `[engine] listen = ${config.listen} is not a loopback address and the engine has no certificate: API tokens would cross the network in clear text. ` +
      'Set [engine] tls_cert and tls_key (PEM; e.g. a certificate issued by the oVirt engine CA, docs/ovirt.md), ' +
      'or listen on 127.0.0.1 (a TLS proxy on this host can front it), or set [engine] allow_insecure_http = true if a TLS-terminating proxy must reach the engine over a private network',
  );
}

function readPemPair(certFile: string, keyFile: string): { cert: Buffer; key: Buffer; certificate: X509Certificate } {
  const read = (file: string, key: string) => {
    try {
      return readFileSync(file);
    } catch (err) {
      throw new ConfigError(`[engine] ${key} = ${file}: cannot read it: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  };
  const cert = read(certFile, 'tls_cert');
  const key = read(keyFile, 'tls_key');
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(cert);
  } catch (err) {
    throw new ConfigError(`[engine] tls_cert = ${certFile}: not a PEM certificate (${(err as Error).message})`);
  }
  let privateKey;
  try {
    privateKey = createPrivateKey(key);
  } catch (err) {
    throw new ConfigError(`[engine] tls_key = ${keyFile}: not an unencrypted PEM private key (${(err as Error).message})`);
  }
  if (!certificate.checkPrivateKey(privateKey)) throw new ConfigError(`[engine] tls_key = ${keyFile} is not the private key of tls_cert = ${certFile}`);
  return { cert, key, certificate };
}

export interface ApiServer {
  server: http.Server | https.Server;
  /** scheme://address:port of the bound socket. */
  url: string;
}

/** Binds the API (HTTPS or HTTP as apiTransport decided) on [engine] listen. */
export async function listenApi(app: http.RequestListener, listen: string, transport: ApiTransport): Promise<ApiServer> {
  const [host, port] = splitListen(listen);
  const server = transport.scheme === 'https'
    ? https.createServer({ cert: transport.cert, key: transport.key, minVersion: API_TLS_MIN_VERSION }, app)
    : http.createServer(app);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  return { server, url: `${transport.scheme}://${addr.family === 'IPv6' ? `[${addr.address}]` : addr.address}:${addr.port}` };
}

export function splitListen(listen: string): [string, number] {
  const m = /^(.*):(\d+)$/.exec(listen);
  if (!m) throw new ConfigError(`listen must be HOST:PORT, got ${JSON.stringify(listen)}`);
  return [m[1].replace(/^\[|\]$/g, ''), Number(m[2])];
}
