// Short job ids (docs/api.md): every /jobs/{id}... route takes a unique prefix of at
// least 4 characters; an ambiguous one is 400 AMBIGUOUS_ID naming the field. Real engine
// and HTTP; the jobs with chosen ids are written into its store (a random UUID cannot be
// made to share a prefix), one is run for real on a FAKE agent (test/unit/engine/fakeAgent.ts).
import type { NewJob } from '../../../engine-plugin/jobs/JobStore';
import { harness, Harness } from './harness';

jest.setTimeout(60_000);

const OFF = { enabled: false, profile: 'clone-reset' };
const stored = (id: string): NewJob => ({
  id, kind: 'vm', target: { type: 'vm', id: `vm-${id}`, name: `vm-${id}` }, state: 'succeeded', requestedBy: 't',
  request: { params: {}, mode: 'safe', dryRun: false }, operations: ['machine-id'], createdAt: new Date().toISOString(),
  endedAt: new Date().toISOString(), progress: { done: 1, total: 1, current: '' }, steps: [], vmKey: `vm:vm-${id}`, disks: [],
});

describe('short job ids', () => {
  let h: Harness;
  let runId: string;

  beforeAll(async () => {
    h = await harness({ config: { autoReset: { clone: OFF, import: OFF, pool: OFF } } });
    h.engine.deps.store.insert(['abcd1234-0000-4000-8000-000000000001', 'abcd5678-0000-4000-8000-000000000002'].map(stored));
    const vm = await h.api('POST', '/vms', { name: 'short1', disks: [{ path: h.image('short1.qcow2') }] });
    const r = await h.api('POST', `/vms/${vm.body.vm.id}/sysprep`, {});
    expect(r.status).toBe(202);
    runId = r.body.job.id;
    await h.waitJob(runId);
  });
  afterAll(() => h.close());

  it.each([
    ['GET', ''],
    ['GET', '/children'],
  ])('%s /jobs/{prefix}%s finds the one job the prefix starts', async (method, tail) => {
    expect((await h.api(method, `/jobs/abcd1${tail}`)).status).toBe(200);
    const full = await h.api(method, `/jobs/abcd1234-0000-4000-8000-000000000001${tail}`);
    expect(full.status).toBe(200);
  });

  it('answers the job itself for a prefix, as for its full id', async () => {
    const short = await h.api('GET', `/jobs/${runId.slice(0, 8)}`);
    expect(short).toMatchObject({ status: 200, body: { id: runId, state: 'succeeded' } });
  });

  it('refuses an ambiguous prefix with 400 AMBIGUOUS_ID on field id, on every job route', async () => {
    for (const [method, tail] of [['GET', ''], ['GET', '/children'], ['GET', '/events'], ['POST', '/cancel']]) {
      const r = await h.api(method, `/jobs/abcd${tail}`);
      expect(r.status).toBe(400);
      expect(r.body.error).toMatchObject({ code: 'AMBIGUOUS_ID', details: { field: 'id', prefix: 'abcd' } });
    }
  });

  it('takes no prefix under 4 characters, and none that starts no job (404 JOB_NOT_FOUND)', async () => {
    const short = await h.api('GET', '/jobs/abc');
    expect(short.status).toBe(404);
    expect(short.body.error).toMatchObject({ code: 'JOB_NOT_FOUND', details: { field: 'id' } });
    expect(short.body.error.message).toMatch(/at least 4 characters/);
    expect((await h.api('GET', '/jobs/0000ffff')).body.error.code).toBe('JOB_NOT_FOUND');
  });

  it('cancels and streams by prefix: the resolved job, with its own answers', async () => {
    const cancel = await h.api('POST', `/jobs/${runId.slice(0, 6)}/cancel`, undefined, 'operator');
    expect(cancel.status).toBe(409);
    expect(cancel.body.error.code).toBe('JOB_FINISHED');
    const res = await fetch(`${h.engine.url}/api/v1/jobs/${runId.slice(0, 6)}/events?access_token=viewer-token-0123456789`);
    const text = await res.text();
    expect(text).toContain('event: snapshot');
    expect(text).toContain(`"id":"${runId}"`);
  });

  it('still checks the role before resolving anything', async () => {
    expect((await h.api('POST', '/jobs/abcd/cancel', undefined, 'viewer')).status).toBe(403);
    expect((await h.api('GET', '/jobs/abcd', undefined, null)).status).toBe(401);
  });
});
