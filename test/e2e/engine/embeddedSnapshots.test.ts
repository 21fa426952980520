// Snapshots on the embedded inventory: the real engine, the real host agent and the real
// virt-sysprep (TCG), real qemu-img on the disks, through the real HTTP API.
//   * A VM cloned from the fixture guest disk (a qcow2 overlay in its clone directory):
//     create -> qemu-img lists it -> a safe-mode sysprep changes the hostname and keeps
//     the snapshot -> revert gives back the golden hostname -> delete removes it.
//   * A VM imported with two data disks: a snapshot is on both, a revert gives both their
//     old content back (qemu-io byte patterns); all or none: with the second disk held
//     open read-write (qemu-io), a create fails (409 DISK_IN_USE naming it) and leaves no
//     tag on the first disk;
//   * refusals: a VM marked up (409 VM_NOT_DOWN), a VM a job holds (409 VM_BUSY), a raw
//     disk (409 DISK_UNSUPPORTED naming it), a taken name (409 SNAPSHOT_EXISTS), an
//     all-digit name (400 naming "name"), an unknown snapshot (404 naming "sid").
// Everything is under the stack's directory, removed by close().
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { guestRead, holdWriteLock } from '../../helpers/disk';
import { copyGuestImage, GOLDEN_HOSTNAME, IDENTITY_PATHS } from '../../helpers/guestImage';
import { OPERATOR, Stack, startStack } from './stack';

jest.setTimeout(20 * 60_000);

const execFileAsync = promisify(execFile);
const NEW_HOSTNAME = 'changed-by-sysprep';

describe('embedded inventory snapshots (real qemu-img, real virt-sysprep)', () => {
  let s: Stack;
  let disk: string;
  let data: string[];
  const VM = 'snapvm';
  const url = `/vms/${VM}/snapshots`;
  const dataUrl = '/vms/datavm/snapshots';
  const qemuTags = async (file: string) => {
    const { stdout } = await execFileAsync('qemu-img', ['snapshot', '-U', '-l', '--', file]);
    return stdout.split('\n').slice(2).map((l) => l.trim().split(/\s+/)[1]).filter(Boolean);
  };
  /** qemu-io on a disk: writes a byte pattern; a read checks it (qemu-io exits 1 on "Pattern verification failed"). */
  const qemuIo = (file: string, cmd: string) => execFileAsync('qemu-io', ['-c', cmd, '--', file]);
  const hasPattern = (file: string, byte: string) => qemuIo(file, `read -P ${byte} 0 64k`).then(() => true, () => false);
  const hostname = async () => (await guestRead(disk, [IDENTITY_PATHS.hostname]))[IDENTITY_PATHS.hostname]?.trim();

  beforeAll(async () => {
    s = await startStack({ maxJobs: 1 });
    const golden = path.join(s.storage, 'golden.qcow2');
    await copyGuestImage(golden);
    expect((await s.api('POST', '/templates', { name: 'golden', disks: [{ path: golden }] })).status).toBe(201);
    const r = await s.api('POST', '/vms', { name: VM, template: 'golden' });
    expect(r).toMatchObject({ status: 201, body: { vm: { status: 'down', disks: [{ format: 'qcow2' }] } } });
    disk = r.body.vm.disks[0].path;

    data = ['data0.qcow2', 'data1.qcow2'].map((f) => path.join(s.storage, f));
    for (const d of data) {
      await execFileAsync('qemu-img', ['create', '-q', '-f', 'qcow2', '--', d, '16M']);
      await qemuIo(d, 'write -P 0x11 0 64k');
    }
    expect(await s.api('POST', '/vms', { name: 'datavm', disks: data.map((d) => ({ path: d, format: 'qcow2' })) })).toMatchObject({ status: 201, body: { vm: { status: 'down' } } });
  });
  afterAll(() => s?.close());

  it('create -> a safe-mode sysprep changes the disk and keeps the snapshot -> revert restores it -> delete', async () => {
    expect(await s.api('GET', url)).toMatchObject({ status: 200, body: { items: [] } });
    const created = await s.api('POST', url, { name: 'golden', description: 'as cloned' }, OPERATOR);
    expect(created).toMatchObject({ status: 201, body: { id: 'golden', name: 'golden', description: 'as cloned', vmState: 'shutoff', current: true } });
    expect(Date.parse(created.body.date)).toBeGreaterThan(Date.now() - 10 * 60_000);
    expect(await qemuTags(disk)).toEqual(['golden']);
    expect(await s.api('POST', url, { name: 'golden' }, OPERATOR)).toMatchObject({ status: 409, body: { error: { code: 'SNAPSHOT_EXISTS', details: { field: 'name' } } } });

    const { status, body } = await s.api('POST', `/vms/${VM}/sysprep`, { profile: 'clone-reset', mode: 'safe', params: { hostname: NEW_HOSTNAME } });
    expect(status).toBe(202);
    expect(await s.api('POST', url, { name: 'during' }, OPERATOR)).toMatchObject({ status: 409, body: { error: { code: 'VM_BUSY' } } });
    expect(await s.api('POST', `${url}/golden/revert`, undefined, OPERATOR)).toMatchObject({ status: 409, body: { error: { code: 'VM_BUSY' } } });
    const job = await s.waitJob(body.job.id, 15 * 60_000);
    expect(job).toMatchObject({ state: 'succeeded', request: { mode: 'safe' } });
    expect(await hostname()).toBe(NEW_HOSTNAME);
    // The agent's overlay was committed into the active layer: the snapshot tables are as they were.
    expect(await qemuTags(disk)).toEqual(['golden']);
    expect((await s.api('GET', url)).body.items).toEqual([expect.objectContaining({ name: 'golden', description: 'as cloned', current: true })]);

    expect(await s.api('POST', `${url}/golden/revert`, undefined, OPERATOR)).toMatchObject({ status: 200, body: { name: 'golden', current: true } });
    expect(await hostname()).toBe(GOLDEN_HOSTNAME);
    expect((await s.api('GET', `/vms/${VM}`)).body.status).toBe('down');

    expect(await s.api('DELETE', `${url}/golden`, undefined, OPERATOR)).toMatchObject({ status: 204 });
    expect(await qemuTags(disk)).toEqual([]);
    expect((await s.api('GET', url)).body.items).toEqual([]);
    expect(await hostname()).toBe(GOLDEN_HOSTNAME); // a delete leaves the current content
  });

  it('a VM with two disks: the snapshot is on both, a revert gives both their content back', async () => {
    expect(await s.api('POST', dataUrl, { name: 'before', description: 'pattern 0x11' }, OPERATOR)).toMatchObject({ status: 201, body: { name: 'before', current: true } });
    for (const d of data) expect(await qemuTags(d)).toEqual(['before']);
    for (const d of data) await qemuIo(d, 'write -P 0x22 0 64k');
    expect(await s.api('POST', dataUrl, { name: 'after' }, OPERATOR)).toMatchObject({ status: 201, body: { current: true } });
    const listed = (await s.api('GET', dataUrl)).body.items;
    expect(listed.map((x: { name: string; current: boolean; description: string }) => [x.name, x.current, x.description])).toEqual([['before', false, 'pattern 0x11'], ['after', true, '']]);

    expect(await s.api('POST', `${dataUrl}/before/revert`, undefined, OPERATOR)).toMatchObject({ status: 200, body: { name: 'before', current: true } });
    for (const d of data) expect(await hasPattern(d, '0x11')).toBe(true);
    expect(await s.api('POST', `${dataUrl}/after/revert`, undefined, OPERATOR)).toMatchObject({ status: 200 });
    for (const d of data) expect(await hasPattern(d, '0x22')).toBe(true);
    for (const name of ['before', 'after']) expect(await s.api('DELETE', `${dataUrl}/${name}`, undefined, OPERATOR)).toMatchObject({ status: 204 });
    for (const d of data) expect(await qemuTags(d)).toEqual([]);
    for (const d of data) expect(await hasPattern(d, '0x22')).toBe(true);
  });

  it('all or none: a disk held open read-write elsewhere fails the create and leaves no tag on the other disk', async () => {
    const holder = await holdWriteLock(data[1]);
    try {
      expect(await s.api('POST', dataUrl, { name: 'half' }, OPERATOR)).toMatchObject({ status: 409, body: { error: { code: 'DISK_IN_USE', details: { disk: data[1] } } } });
      expect(holder.exitedEarly()).toBe(false); // the refusal was for the lock, not for anything else
      expect(await qemuTags(data[0])).toEqual([]);
    } finally {
      await holder.release();
    }
    expect((await s.api('GET', dataUrl)).body.items).toEqual([]);
  });

  it('refuses a VM marked up, a raw disk, an all-digit name and an unknown snapshot', async () => {
    expect(await s.api('POST', `/vms/${VM}/start`, undefined, OPERATOR)).toMatchObject({ status: 200 });
    try {
      expect(await s.api('POST', url, { name: 'live' }, OPERATOR)).toMatchObject({ status: 409, body: { error: { code: 'VM_NOT_DOWN', details: { status: 'up' } } } });
      expect((await s.api('GET', url)).status).toBe(200);
    } finally {
      await s.api('POST', `/vms/${VM}/stop`, undefined, OPERATOR);
    }
    expect(await s.api('POST', url, { name: '12' }, OPERATOR)).toMatchObject({ status: 400, body: { error: { details: { field: 'name' } } } });
    expect(await s.api('POST', `${url}/nope/revert`, undefined, OPERATOR)).toMatchObject({ status: 404, body: { error: { code: 'SNAPSHOT_NOT_FOUND', details: { field: 'sid' } } } });
    expect(await s.api('DELETE', `${url}/nope`, undefined, OPERATOR)).toMatchObject({ status: 404, body: { error: { code: 'SNAPSHOT_NOT_FOUND' } } });

    const raw = path.join(s.storage, 'raw.img');
    await execFileAsync('qemu-img', ['create', '-q', '-f', 'raw', '--', raw, '1M']);
    const imported = await s.api('POST', '/vms', { name: 'rawvm', disks: [{ path: raw, format: 'raw' }] });
    expect(imported.status).toBe(201);
    if (imported.body.job) await s.waitJob(imported.body.job.id);
    expect(await s.api('POST', '/vms/rawvm/snapshots', { name: 's1' }, OPERATOR)).toMatchObject({ status: 409, body: { error: { code: 'DISK_UNSUPPORTED', details: { disk: raw } } } });
    expect(await s.api('GET', '/vms/rawvm/snapshots')).toMatchObject({ status: 200, body: { items: [] } });
  });
});
