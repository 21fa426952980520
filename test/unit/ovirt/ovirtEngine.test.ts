// Contract tests of the engine in oVirt mode (inventory = ovirt) against the oVirt API
// test server and a FAKE agent: users of the UI plugin authorized by oVirt (403 before
// anything runs), jobs mirrored as oVirt external jobs (calls in order, Correlation-Id),
// the event watcher (index persisted: a restart neither misses nor repeats, back-off),
// and the lifecycle guard (tag during the job, cancel when the VM is started).
import { IDS, OvirtApiServer } from '../../helpers/ovirtApiServer';
import { ovirtHarness, OvirtHarness, until } from './ovirtHarness';

jest.setTimeout(60_000);

const jobEnded = (s: OvirtApiServer) => () => s.jobCalls().some((c) => /\/end$/.test(c.path) && !c.path.includes('/steps/'));

describe('engine with the oVirt inventory (contract, oVirt API test server + fake agent)', () => {
  let h: OvirtHarness;
  beforeEach(async () => {
    h = await ovirtHarness();
  });
  afterEach(() => h?.close());

  describe('users of the UI plugin (their oVirt SSO token)', () => {
    it('answers 403 before anything runs when the user does not see the VM', async () => {
      const bob = h.ovirt.tokenFor('bob@internal');
      const r = await h.api('POST', `/vms/${IDS.web01}/sysprep`, {}, bob);
      expect(r.status).toBe(403);
      expect(r.body.error.code).toBe('OVIRT_NOT_VISIBLE');
      // Visibility was asked with the USER's token and Filter: true.
      expect(h.ovirt.calls.find((c) => c.path === `/vms/${IDS.web01}` && c.user === 'bob@internal')).toMatchObject({ filter: true });
      expect((await h.api('GET', '/jobs')).body.total).toBe(0);
      expect(h.agent.startCalls).toEqual([]);
      expect(h.ovirt.jobCalls()).toEqual([]);
    });

    it('answers 403 when the user sees the VM but no role of his holds the permit', async () => {
      const carol = h.ovirt.tokenFor('carol@internal'); // UserRole: no edit_vm_properties
      const r = await h.api('POST', '/sysprep', { vms: [IDS.web01] }, carol);
      expect(r).toMatchObject({ status: 403, body: { error: { code: 'OVIRT_NOT_PERMITTED', details: { required: ['edit_vm_properties'] } } } });
      expect(h.ovirt.calls.some((c) => c.path === `/roles/00000000-0000-0000-0001-000000000001/permits`)).toBe(true);
      expect((await h.api('GET', '/jobs')).body.total).toBe(0);
      expect(h.agent.startCalls).toEqual([]);
    });

    it('lets a user with UserVmManager on the VM (directly or through a group) run it, recorded as that user', async () => {
      const alice = h.ovirt.tokenFor('alice@internal');
      const r = await h.api('POST', `/vms/web-01/sysprep`, {}, alice);
      expect(r.status).toBe(202);
      expect(r.body.job.requestedBy).toBe('ovirt:alice@internal-authz');
      expect((await h.waitJob(r.body.job.id)).state).toBe('succeeded');
      await until(jobEnded(h.ovirt), 5000, 'oVirt job end');
      const dave = h.ovirt.tokenFor('dave@internal'); // member of lab-admins
      expect((await h.api('POST', `/vms/${IDS.web01}/sysprep`, { dryRun: true }, dave)).status).toBe(202);
    });

    it('refuses an unknown or expired oVirt token with 401; admin tokens of the config keep working', async () => {
      expect((await h.api('GET', '/vms', undefined, 'not-a-token-of-anyone-0000')).status).toBe(401);
      const alice = h.ovirt.tokenFor('alice@internal');
      h.ovirt.expireTokens();
      expect((await h.api('GET', '/vms', undefined, alice)).status).toBe(401);
      expect((await h.api('GET', '/vms')).status).toBe(200);
    });

    it('serves the inventory from oVirt; the embedded-only actions are refused', async () => {
      const vms = await h.api('GET', '/vms?limit=2');
      expect(vms.body.items.map((v: { name: string }) => v.name)).toEqual(['db-01', 'lab-1']);
      expect(vms.body.next).toBe('2');
      expect((await h.api('GET', `/pools/lab`)).body.vmIds).toEqual([IDS.lab1]);
      // Import, templates and pools stay oVirt's; a VM that runs is not deleted.
      expect((await h.api('POST', '/vms', { name: 'x', disks: [{ path: '/x.qcow2' }] })).body.error.code).toBe('NOT_SUPPORTED');
      for (const url of ['/templates/golden-el9', '/pools/lab']) {
        expect(await h.api('DELETE', url)).toMatchObject({ status: 400, body: { error: { code: 'NOT_SUPPORTED', details: { field: 'inventory' } } } });
      }
      expect(await h.api('DELETE', '/vms/db-01')).toMatchObject({ status: 409, body: { error: { code: 'IN_USE', details: { field: 'id' } } } });
      // A VM oVirt reports up is refused before anything runs.
      expect((await h.api('POST', `/vms/db-01/sysprep`, {})).body.error.code).toBe('VM_NOT_DOWN');
    });
  });

  it('never seals a template that oVirt VMs are based on (any caller)', async () => {
    const r = await h.api('POST', '/templates/golden-el9/sysprep', {});
    expect(r).toMatchObject({ status: 409, body: { error: { code: 'TEMPLATE_IN_USE', details: { vms: expect.arrayContaining(['web-01', 'lab-1']) } } } });
    expect(h.ovirt.calls.find((c) => c.query.search === 'template.name=golden-el9')).toBeDefined();
    expect(h.agent.startCalls).toEqual([]);
  });

  describe('external jobs', () => {
    it('mirrors a job: POST /jobs, a step per operation, step ends, POST /jobs/{id}/end finished; Correlation-Id = engine job id', async () => {
      const r = await h.api('POST', `/vms/${IDS.web01}/sysprep`, { profile: 'clone-reset' });
      expect(r.status).toBe(202);
      const job = await h.waitJob(r.body.job.id);
      expect(job.state).toBe('succeeded');
      await until(jobEnded(h.ovirt), 5000, 'oVirt job end');
      const calls = h.ovirt.jobCalls();
      expect(calls.every((c) => c.correlationId === job.id)).toBe(true);
      expect(calls[0]).toMatchObject({ method: 'POST', path: '/jobs', body: { auto_cleared: true, description: expect.stringContaining('web-01') } });
      const ovirtJob = [...h.ovirt.jobs.values()][0];
      const seq = calls.slice(1).map((c) => c.path.replace(ovirtJob.id, 'J').replace(/steps\/[^/]+/, 'steps/S'));
      // Every step is added, then ended, before the next one; the job ends last.
      const ops = job.operations.length;
      expect(seq).toEqual([...Array.from({ length: ops }, () => ['/jobs/J/steps', '/jobs/J/steps/S/end']).flat(), '/jobs/J/end']);
      expect(calls.filter((c) => c.path === `/jobs/${ovirtJob.id}/steps`).map((c) => c.body)).toEqual(
        job.operations.map((op: string) => ({ type: 'executing', description: `${op} on VM web-01`, job: { id: ovirtJob.id } })),
      );
      expect(calls.at(-1)?.body).toEqual({ succeeded: true, force: true });
      expect(ovirtJob).toMatchObject({ status: 'finished', external: 'true' });
      expect(ovirtJob.steps.every((s: { status: string }) => s.status === 'finished')).toBe(true);
    });

    it('ends the oVirt job failed when the job fails, and one step per VM for a bulk job', async () => {
      const bad = h.ovirt.addVm({ name: 'bad-01' });
      h.agent.opts.failDisks = new Map([[(await h.api('GET', `/vms/${bad.id}`)).body.disks[0].path, 'VIRT_SYSPREP_FAILED']]);
      const r = await h.api('POST', '/sysprep', { vms: [IDS.web01, bad.id] });
      const job = await h.waitJob(r.body.job.id);
      expect(job.state).toBe('partial');
      await until(jobEnded(h.ovirt), 5000, 'oVirt job end');
      const ovirtJob = [...h.ovirt.jobs.values()][0];
      expect(ovirtJob.status).toBe('failed');
      expect(ovirtJob.steps.map((s: { description: string; status: string }) => [s.description.replace(/ on host .*/, ''), s.status]).sort()).toEqual([
        ['VM bad-01', 'failed'],
        ['VM web-01', 'finished'],
      ]);
    });

    it('ends an oVirt job left open by a restart when the engine starts again', async () => {
      const r = await h.api('POST', `/vms/${IDS.web01}/sysprep`, {});
      await until(() => h.ovirt.jobCalls().length > 0, 5000, 'oVirt job created');
      await h.engine.ovirt!.mirror.idle();
      await h.waitJob(r.body.job.id);
      h.ovirt.down = 503; // the end cannot reach oVirt
      await h.engine.ovirt!.mirror.idle();
      await h.restart();
      h.ovirt.down = undefined;
      await h.engine.ovirt!.mirror.reconcile();
      expect([...h.ovirt.jobs.values()][0].status).toBe('finished');
    });
  });

  describe('event watcher', () => {
    const watcher = () => h.engine.ovirt!.watcher;

    it('starts after the newest event, resets an imported VM once it is Down with its disks OK, and persists the index', async () => {
      await watcher().tick();
      expect(watcher().lastIndex()).toBe(4102); // the fixture's newest: the old code-53 event is not replayed
      const vm = h.ovirt.addVm({ name: 'imported-01', status: 'image_locked', diskStatus: 'locked' });
      h.ovirt.addEvent(1152, vm.id, 'Vm imported-01 was imported successfully to Data Center Default, Cluster Default');
      await watcher().tick();
      expect(watcher().lastIndex()).toBe(4103);
      expect((await h.api('GET', '/jobs')).body.total).toBe(0); // still locked by oVirt
      // `from` is exclusive (SyntaxChecker.generateSqlFromSyntaxContainer, ovirt-engine 0111fc63036):
      // from=<cursor - 1> reads the cursor's own event again, to see it is still the same.
      expect(h.ovirt.calls.filter((c) => c.path === '/events').at(-1)?.query).toMatchObject({ from: '4101', max: '200', search: 'page 1' });

      vm.status = 'down';
      vm.disk_attachments.disk_attachment[0].disk.status = 'ok';
      await watcher().tick();
      const jobs = (await h.api('GET', '/jobs?kind=auto-reset')).body;
      expect(jobs.total).toBe(1);
      expect(jobs.items[0]).toMatchObject({ target: { id: vm.id, name: 'imported-01' }, profile: 'clone-reset', requestedBy: 'auto-reset (import by ovirt)' });
      await until(() => h.agent.jobs.has(jobs.items[0].id), 5000, 'dispatched to the agent');
      expect(h.agent.jobs.get(jobs.items[0].id)?.params).toMatchObject({ hostname: 'imported-01' });
    });

    it('neither misses nor repeats events across a restart', async () => {
      await watcher().tick();
      h.ovirt.createVm('clone-vm', { name: 'clone-a', source: h.ovirt.vm(IDS.web01) });
      await watcher().tick();
      expect((await h.api('GET', '/jobs?kind=auto-reset')).body.total).toBe(1);
      await h.waitJob((await h.api('GET', '/jobs?kind=auto-reset')).body.items[0].id);

      await h.engine.stop();
      // While the engine is down: one more clone, one pool VM, one VM from Blank, a login.
      h.ovirt.createVm('from-template', { name: 'clone-b' });
      h.ovirt.createVm('pool', { name: 'lab-2', pool: IDS.poolLab });
      h.ovirt.createVm('scratch', { name: 'empty-01' });
      h.ovirt.addEvent(30);
      await h.restart();
      await watcher().tick();
      const jobs = (await h.api('GET', '/jobs?kind=auto-reset')).body.items as { target: { name: string }; requestedBy: string }[];
      expect(jobs.map((j) => [j.target.name, j.requestedBy]).sort()).toEqual([
        ['clone-a', 'auto-reset (clone by ovirt)'],
        ['clone-b', 'auto-reset (clone by ovirt)'],
        ['lab-2', 'auto-reset (pool by ovirt)'],
      ]);
      await watcher().tick();
      expect((await h.api('GET', '/jobs?kind=auto-reset')).body.total).toBe(3);
    });

    it('backs off while oVirt is unreachable (doubling up to the cap) and catches up after', async () => {
      await h.close();
      h = await ovirtHarness({ ovirt: { eventsIntervalSec: 10, eventsMaxBackoffSec: 60 } });
      await watcher().tick();
      expect(watcher().nextDelaySec()).toBe(10);
      h.ovirt.down = 503;
      const delays: number[] = [];
      for (let i = 0; i < 4; i++) {
        await watcher().tick();
        delays.push(watcher().nextDelaySec());
      }
      expect(delays).toEqual([20, 40, 60, 60]);
      expect(watcher().status.lastError).toContain('503');
      const vm = h.ovirt.addVm({ name: 'late-01' });
      h.ovirt.addEvent(1152, vm.id);
      h.ovirt.down = undefined;
      await watcher().tick();
      expect(watcher().status.lastError).toBe('');
      expect(watcher().nextDelaySec()).toBe(10);
      expect((await h.api('GET', '/jobs?kind=auto-reset')).body.total).toBe(1);
    });
  });

  describe('lifecycle guard', () => {
    it('tags the VM during its job, removes the tag after, and cancels the job when the VM is started', async () => {
      await h.close();
      h = await ovirtHarness({ agentMs: 4000 });
      const r = await h.api('POST', `/vms/${IDS.web01}/sysprep`, {});
      await until(() => (h.ovirt.vmTags.get(IDS.web01)?.size ?? 0) > 0, 5000, 'tag on the VM');
      const tag = h.ovirt.tags.find((t) => t.name === 'ovirt-sysprep-busy');
      expect([...h.ovirt.vmTags.get(IDS.web01)!]).toEqual([tag.id]);
      h.ovirt.vm(IDS.web01).status = 'powering_up'; // someone starts it in oVirt
      const job = await h.waitJob(r.body.job.id);
      expect(job.state).toBe('cancelled');
      await until(() => h.ovirt.vmTags.get(IDS.web01)?.size === 0, 5000, 'tag removed');
      await until(jobEnded(h.ovirt), 5000, 'oVirt job end');
      expect(h.ovirt.jobCalls().at(-1)?.body).toEqual({ succeeded: false, force: true }); // no "aborted" end in oVirt
    });
  });
});
