// A standby engine's forwarding when there is nobody to forward to (decision 64): over
// real HTTP, the proxy and the error middleware as the API mounts them. The leader's side
// (a real forward, the takeover) is test/e2e/standby/standby.test.ts.
import express from 'express';
import type { AddressInfo } from 'node:net';
import { errorMiddleware } from '../../../../engine-plugin/api/errors';
import { createLogger } from '../../../../engine-plugin/logger';
import { leaderProxy } from '../../../../engine-plugin/standby/leaderProxy';
import type { Leadership } from '../../../../engine-plugin/standby/Leadership';

async function serve(leader: ReturnType<Leadership['leader']>): Promise<{ url: string; close(): Promise<void> }> {
  const app = express();
  app.use(leaderProxy({ isLeader: false, leader: () => leader } as unknown as Leadership));
  app.get('/api/v1/jobs', (_req, res) => void res.json({ items: [] }));
  app.use(errorMiddleware(createLogger('error', '')));
  const server = app.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => new Promise((r) => server.close(() => r())) };
}

describe('a standby without a leader to forward to', () => {
  it.each([
    ['no engine leads yet', undefined],
    ['the leader does not answer', { url: 'http://127.0.0.1:1', engine: 'gone', since: '' }],
  ])('%s: a change is 503 LEADER_UNAVAILABLE with Retry-After, a read is answered', async (_what, leader) => {
    const s = await serve(leader as ReturnType<Leadership['leader']>);
    try {
      const post = await fetch(`${s.url}/api/v1/pools/p/sysprep`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
      expect(post.status).toBe(503);
      expect(post.headers.get('retry-after')).toBe('2');
      expect(await post.json()).toMatchObject({ error: { code: 'LEADER_UNAVAILABLE', details: { retryAfterSec: 2 } } });
      const get = await fetch(`${s.url}/api/v1/jobs`);
      expect(get.status).toBe(200);
      expect(get.headers.get('retry-after')).toBeNull();
    } finally {
      await s.close();
    }
  });
});
