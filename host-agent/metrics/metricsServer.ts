// The agent's metrics over plain HTTP on `metrics_listen` (decision 60): GET /metrics in
// the Prometheus text format, anything else 404. No token and no TLS: the page holds
// counts and durations only (no job ids, paths or names), and the gRPC port keeps its
// mutual TLS. Off unless configured.
import { createServer, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import type { Logger } from '../../shared/logger';
import { exposition } from '../../shared/metrics';

export interface MetricsServer {
  /** host:port it listens on (the real port when `listen` asked for 0). */
  address: string;
  close(): Promise<void>;
}

/** `listen`: HOST:PORT, `[IPv6]:PORT` for IPv6. */
export async function startMetricsServer(listen: string, registry: Registry, log: Logger): Promise<MetricsServer> {
  const m = /^(.*):(\d+)$/.exec(listen);
  if (!m || !m[1]) throw new Error(`metrics_listen must be HOST:PORT, got ${JSON.stringify(listen)}`);
  const host = m[1].replace(/^\[|\]$/g, '');
  const server: Server = createServer((req, res) => {
    if (req.method !== 'GET' || req.url?.split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: GET /metrics\n');
      return;
    }
    exposition(registry).then(
      ({ contentType, body }) => res.writeHead(200, { 'content-type': contentType }).end(body),
      (err: Error) => {
        log.error('metrics could not be collected', { error: err.message });
        res.writeHead(500, { 'content-type': 'text/plain' }).end('metrics could not be collected\n');
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(Number(m[2]), host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const address = `${host.includes(':') ? `[${host}]` : host}:${port}`;
  log.info('agent metrics listening', { address });
  return {
    address,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
