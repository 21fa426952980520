// DELETE /vms/{id}, /templates/{id}, /pools/{id} on the embedded inventory (issue 11,
// contract 4): 204; 409 IN_USE naming `id` while a job works on it, the VM is up or a
// clone/pool still uses the template; the disks' owner rows are freed; only files the
// engine made (a clone's overlays in its own directory) are removed. Agents are FAKES
// here (fakeAgent.ts: a job just takes jobMs); the API, SQLite and the files are real.
import { existsSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { harness, Harness } from './harness';

jest.setTimeout(60_000);

const off = { enabled: false, profile: 'clone-reset' };

describe('inventory delete', () => {
  let h: Harness;
  let base: string;

  beforeAll(async () => {
    h = await harness({ agents: [{ jobMs: 1500 }], config: { autoReset: { clone: off, import: off, pool: off } } });
    base = h.image('golden.qcow2');
    expect((await h.api('POST', '/templates', { name: 'golden', disks: [{ path: base }] })).status).toBe(201);
  });
  afterAll(() => h.close());

  it('refuses a clone while its sysprep runs, then deletes it and only its overlay', async () => {
    const vm = (await h.api('POST', '/vms', { name: 'c1', template: 'golden' })).body.vm;
    const overlay = vm.disks[0].path as string;
    expect(overlay).toBe(path.join(h.storage, 'vms', vm.id, 'disk0.qcow2'));
    const planted = path.join(path.dirname(overlay), 'notes.txt'); // not the engine's: stays
    writeFileSync(planted, 'mine\n');

    const job = (await h.api('POST', `/vms/${vm.id}/sysprep`, { operations: { only: ['machine-id'] } })).body.job;
    const busy = await h.api('DELETE', '/vms/c1');
    expect(busy).toMatchObject({ status: 409, body: { error: { code: 'IN_USE', details: { field: 'id', jobId: job.id } } } });
    expect(existsSync(overlay)).toBe(true);

    await h.waitJob(job.id);
    const r = await h.api('DELETE', '/vms/c1');
    expect(r).toEqual({ status: 204, body: undefined });
    expect((await h.api('GET', `/vms/${vm.id}`)).status).toBe(404);
    expect(existsSync(overlay)).toBe(false);
    expect(existsSync(planted)).toBe(true);
    expect(existsSync(base)).toBe(true);
  });

  it('removes the clone directory when only the engine wrote in it', async () => {
    const vm = (await h.api('POST', '/vms', { name: 'c2', template: 'golden' })).body.vm;
    expect((await h.api('DELETE', `/vms/${vm.id}`)).status).toBe(204);
    expect(existsSync(path.join(h.storage, 'vms', vm.id))).toBe(false);
  });

  it('keeps an imported VM\'s disk and frees it for a new owner', async () => {
    const disk = h.image('imported.qcow2');
    expect((await h.api('POST', '/vms', { name: 'imp', disks: [{ path: disk }] })).status).toBe(201);
    expect((await h.api('POST', '/templates', { name: 'steal', disks: [{ path: disk }] })).body.error.code).toBe('DISK_OWNED');
    expect((await h.api('DELETE', '/vms/imp')).status).toBe(204);
    expect(existsSync(disk)).toBe(true);
    expect((await h.api('POST', '/vms', { name: 'imp-again', disks: [{ path: disk }] })).status).toBe(201);
  });

  it('refuses a VM that is up, naming id', async () => {
    const disk = h.image('running.qcow2');
    const vm = (await h.api('POST', '/vms', { name: 'up1', disks: [{ path: disk }] })).body.vm;
    await h.api('POST', `/vms/${vm.id}/start`);
    expect(await h.api('DELETE', '/vms/up1')).toMatchObject({ status: 409, body: { error: { code: 'IN_USE', details: { field: 'id', status: 'up' } } } });
    await h.api('POST', `/vms/${vm.id}/stop`);
    expect((await h.api('DELETE', '/vms/up1')).status).toBe(204);
  });

  it('deletes a pool with its VMs and overlays, refusing while one of them is busy', async () => {
    const made = await h.api('POST', '/pools', { name: 'lab', template: 'golden', size: 2 });
    expect(made.status).toBe(201);
    const vms = await Promise.all(made.body.pool.vmIds.map(async (id: string) => (await h.api('GET', `/vms/${id}`)).body));
    const job = (await h.api('POST', `/vms/${vms[1].id}/sysprep`, { operations: { only: ['machine-id'] } })).body.job;
    const busy = await h.api('DELETE', '/pools/lab');
    expect(busy).toMatchObject({ status: 409, body: { error: { code: 'IN_USE', details: { field: 'id', jobId: job.id } } } });
    expect((await h.api('GET', `/vms/${vms[0].id}`)).status).toBe(200); // nothing deleted

    await h.waitJob(job.id);
    expect((await h.api('DELETE', '/pools/lab')).status).toBe(204);
    expect((await h.api('GET', '/pools/lab')).status).toBe(404);
    for (const vm of vms) {
      expect((await h.api('GET', `/vms/${vm.id}`)).status).toBe(404);
      expect(existsSync(vm.disks[0].path)).toBe(false);
    }
  });

  it('refuses a template that a clone or a job uses; its disk stays and is free again', async () => {
    const disk = h.image('t2.qcow2');
    const t = (await h.api('POST', '/templates', { name: 't2', disks: [{ path: disk }] })).body;
    await h.api('POST', '/vms', { name: 'on-t2', template: 't2' });
    expect(await h.api('DELETE', '/templates/t2')).toMatchObject({ status: 409, body: { error: { code: 'IN_USE', details: { field: 'id', vms: ['on-t2'] } } } });
    expect((await h.api('DELETE', '/vms/on-t2')).status).toBe(204);

    const seal = (await h.api('POST', '/templates/t2/sysprep', {})).body.job;
    expect(await h.api('DELETE', `/templates/${t.id}`)).toMatchObject({ status: 409, body: { error: { code: 'IN_USE', details: { jobId: seal.id } } } });
    await h.waitJob(seal.id);
    expect((await h.api('DELETE', `/templates/${t.id}`)).status).toBe(204);
    expect((await h.api('GET', '/templates/t2')).status).toBe(404);
    expect(existsSync(disk)).toBe(true);
    expect((await h.api('POST', '/templates', { name: 't2-again', disks: [{ path: disk }] })).status).toBe(201);
  });

  it('answers an unknown name with 404 naming id, and only admins may delete', async () => {
    for (const [url, code] of [['/vms/nope', 'VM_NOT_FOUND'], ['/templates/nope', 'TEMPLATE_NOT_FOUND'], ['/pools/nope', 'POOL_NOT_FOUND']]) {
      expect(await h.api('DELETE', url)).toMatchObject({ status: 404, body: { error: { code, details: { field: 'id' } } } });
    }
    for (const role of ['operator', 'viewer'] as const) expect((await h.api('DELETE', '/templates/golden', undefined, role)).status).toBe(403);
    expect((await h.api('GET', '/templates/golden')).status).toBe(200);
  });
});
