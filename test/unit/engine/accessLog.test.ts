// The access log ([engine] access_log) of a real engine on 127.0.0.1 (test harness:
// real express, real SQLite, fake agents): one JSON line per request with the route
// pattern, the caller's token name and the declared query values; never a token (header
// or access_token query), a body, or an undeclared query value. Reopened on SIGHUP.
import { existsSync, readFileSync, renameSync } from 'node:fs';
import * as path from 'node:path';
import { REDACTED } from '../../../engine-plugin/api/accessLog';
import { Harness, harness, TOKENS } from './harness';

const SECRET_BODY = 'hunter2-body-secret';

describe('access log', () => {
  let h: Harness;
  afterEach(() => h?.close());

  const lines = (file: string) => readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
  /** The lines appear when the engine's write stream has written them. */
  async function waitLines(file: string, n: number) {
    for (let i = 0; i < 200; i++) {
      if (existsSync(file) && lines(file).length >= n) return lines(file);
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error(`${file}: fewer than ${n} lines`);
  }

  it('is <data_dir>/access.log by default: one line per request, no token, no body, no undeclared query value', async () => {
    h = await harness();
    const file = path.join(h.dir, 'engine', 'access.log');
    expect((await h.api('GET', `/jobs?state=running&limit=5&access_token=${TOKENS.viewer.token}&x=${SECRET_BODY}`)).status).toBe(200);
    expect((await h.api('GET', '/jobs/no-such-job')).status).toBe(404);
    expect((await h.api('PUT', '/profiles/p1', { description: SECRET_BODY, operations: ['no-such-op'], params: { root_password: `password:${SECRET_BODY}` } }, 'operator')).status).toBe(403);
    expect((await h.api('GET', '/hosts', undefined, null)).status).toBe(401);
    // EventSource's way: the token in the query (GET only), never logged.
    const sse = await fetch(`${h.engine.url}/api/v1/jobs?access_token=${TOKENS.admin.token}`);
    expect(sse.status).toBe(200);
    await sse.text();

    const got = await waitLines(file, 5);
    expect(got).toHaveLength(5);
    expect(got[0]).toEqual({
      time: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      method: 'GET',
      route: '/api/v1/jobs',
      path: '/api/v1/jobs',
      query: { state: 'running', limit: '5', access_token: REDACTED, x: REDACTED },
      status: 200,
      duration_ms: expect.any(Number),
      bytes: expect.any(Number),
      caller: 'alice',
      remote: '127.0.0.1',
    });
    expect(got[0].bytes).toBeGreaterThan(0);
    expect(got[1]).toMatchObject({ method: 'GET', route: '/api/v1/jobs/:id', path: '/api/v1/jobs/no-such-job', status: 404, caller: 'alice' });
    expect(got[2]).toMatchObject({ method: 'PUT', route: '/api/v1/profiles/:name', path: '/api/v1/profiles/p1', status: 403, caller: 'oscar' });
    expect(got[3]).toMatchObject({ method: 'GET', path: '/api/v1/hosts', status: 401 });
    expect(got[3].caller).toBeUndefined();
    expect(got[4]).toMatchObject({ caller: 'alice', query: { access_token: REDACTED } });

    const text = readFileSync(file, 'utf8');
    for (const t of Object.values(TOKENS)) expect(text).not.toContain(t.token);
    expect(text).not.toContain(SECRET_BODY);
    expect(text).not.toMatch(/authorization|bearer|cookie/i);
  });

  it('reopens the file on SIGHUP (logrotate moved it away); access_log = "" is off', async () => {
    const file = path.join(require('node:os').tmpdir(), `access-${process.pid}-${Date.now()}.log`);
    h = await harness({ config: { accessLog: file } });
    await h.api('GET', '/hosts');
    await waitLines(file, 1);
    renameSync(file, `${file}.1`);
    process.emit('SIGHUP', 'SIGHUP');
    await h.api('GET', '/templates');
    expect((await waitLines(file, 1)).map((l) => l.path)).toEqual(['/api/v1/templates']);
    expect(lines(`${file}.1`).map((l) => l.path)).toEqual(['/api/v1/hosts']);
    require('node:fs').rmSync(`${file}.1`);
    require('node:fs').rmSync(file);

    await h.restart({ accessLog: '' });
    await h.api('GET', '/hosts');
    expect(existsSync(path.join(h.dir, 'engine', 'access.log'))).toBe(false);
    expect(existsSync(file)).toBe(false);
  });
});
