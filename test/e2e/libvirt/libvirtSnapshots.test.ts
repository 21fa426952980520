// Snapshots on the libvirt inventory against a REAL libvirtd (qemu:///system, started by
// helpers/libvirtd.ts when it is not running), the real host agent and the real
// virt-sysprep (TCG), through the real HTTP API and the real CLI. The domain is of type
// qemu with NO network interface, on a copy of the fixture guest disk; it is named
// `lvsnap-<pid>-*` and afterAll destroys and undefines it (its disk is in the stack's
// storage root, removed with the stack).
//   * create (internal qcow2 snapshot, seen by qemu-img) -> a safe-mode sysprep changes
//     the hostname on the disk and KEEPS the snapshot (qemu-img snapshot -l and GET) ->
//     revert puts the golden hostname back on the disk -> delete removes the snapshot;
//   * refusals: a running VM (409 VM_NOT_DOWN), a VM a job holds (409 VM_BUSY), a bad
//     name (400 naming "name"), an unknown snapshot (404, "sid"), a raw disk (409
//     DISK_UNSUPPORTED), a viewer (403), a revert to a snapshot virsh took of the running
//     domain (409 SNAPSHOT_NOT_OFFLINE: it would start it);
//   * a snapshot made with virsh under an odd name is listed and deleted (virsh quoting);
//   * `vm snapshots` and `vm snapshot create | revert | delete` from the CLI.
import 'reflect-metadata';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { guestRead } from '../../helpers/disk';
import { copyGuestImage, GOLDEN_HOSTNAME, IDENTITY_PATHS } from '../../helpers/guestImage';
import { cli as cliOf, removeDomains, startLibvirtEngine, startLibvirtStack, virsh } from './libvirtStack';
import { OPERATOR, Stack, VIEWER } from '../engine/stack';

jest.setTimeout(15 * 60_000);

const execFileAsync = promisify(execFile);

const PREFIX = `lvsnap-${process.pid}-`;
const VM = `${PREFIX}guest`;
const RAW = `${PREFIX}raw`;
const NEW_HOSTNAME = 'changed-by-sysprep';

/** A domain of type qemu (TCG), no <interface>, one file disk. */
const domainXml = (name: string, file: string, format: string) => `<domain type='qemu'>
  <name>${name}</name>
  <memory unit='MiB'>64</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64'>hvm</type></os>
  <devices><disk type='file' device='disk'><driver name='qemu' type='${format}'/><source file='${file}'/><target dev='vda' bus='virtio'/></disk></devices>
</domain>`;

describe('libvirt snapshots against a real libvirtd and a real virt-sysprep', () => {
  let s: Stack;
  let disk: string;
  const snapshotsUrl = `/vms/${VM}/snapshots`;
  /** qemu-img's own word on the disk's internal snapshots (tags), not libvirt's or the engine's. */
  const qemuTags = async () => {
    const { stdout } = await execFileAsync('qemu-img', ['snapshot', '-U', '-l', '--', disk]);
    return stdout.split('\n').slice(2).map((l) => l.trim().split(/\s+/)[1]).filter(Boolean);
  };
  const hostname = async () => (await guestRead(disk, [IDENTITY_PATHS.hostname]))[IDENTITY_PATHS.hostname]?.trim();
  const names = async () => ((await s.api('GET', snapshotsUrl)).body.items as { name: string }[]).map((x) => x.name);
  const cli = (args: string[]) => cliOf(s, args);

  beforeAll(async () => {
    s = await startLibvirtStack();
    disk = path.join(s.storage, `${VM}.qcow2`);
    await copyGuestImage(disk);
    const raw = path.join(s.storage, `${RAW}.img`);
    await execFileAsync('qemu-img', ['create', '-q', '-f', 'raw', raw, '1M']);
    for (const [name, file, format] of [[VM, disk, 'qcow2'], [RAW, raw, 'raw']]) {
      const xml = path.join(s.dir, `${name}.xml`);
      writeFileSync(xml, domainXml(name, file, format));
      await virsh('define', '--file', xml);
    }
    await startLibvirtEngine(s);
  });

  afterAll(async () => {
    await removeDomains(PREFIX); // by prefix, not by the names above: whatever happened
    await s?.close();
  });

  it('create -> a safe-mode sysprep changes the disk and keeps the snapshot -> revert restores the disk -> delete', async () => {
    expect(await s.api('GET', snapshotsUrl)).toMatchObject({ status: 200, body: { items: [] } });
    expect(await hostname()).toBe(GOLDEN_HOSTNAME);

    const created = await s.api('POST', snapshotsUrl, { name: 'golden', description: 'as copied' }, OPERATOR);
    expect(created).toMatchObject({ status: 201, body: { id: 'golden', name: 'golden', description: 'as copied', vmState: 'shutoff', current: true } });
    expect(Date.parse(created.body.date)).toBeGreaterThan(Date.now() - 10 * 60_000);
    expect(await qemuTags()).toEqual(['golden']);
    expect(await s.api('POST', snapshotsUrl, { name: 'golden' }, OPERATOR)).toMatchObject({ status: 409, body: { error: { code: 'SNAPSHOT_EXISTS', details: { field: 'name' } } } });

    // A safe-mode sysprep: virt-sysprep works on an overlay, committed into the disk.
    const { status, body } = await s.api('POST', `/vms/${VM}/sysprep`, { profile: 'clone-reset', mode: 'safe', params: { hostname: NEW_HOSTNAME } });
    expect(status).toBe(202);
    // While the job holds the VM, no snapshot change.
    expect(await s.api('POST', snapshotsUrl, { name: 'during' }, OPERATOR)).toMatchObject({ status: 409, body: { error: { code: 'VM_BUSY' } } });
    expect(await s.api('POST', `${snapshotsUrl}/golden/revert`, undefined, OPERATOR)).toMatchObject({ status: 409, body: { error: { code: 'VM_BUSY' } } });
    const job = await s.waitJob(body.job.id, 12 * 60_000);
    expect(job).toMatchObject({ state: 'succeeded', request: { mode: 'safe' } });
    expect(await hostname()).toBe(NEW_HOSTNAME);
    // The commit kept the internal snapshot: qemu-img and the API still list it.
    expect(await qemuTags()).toEqual(['golden']);
    expect(await names()).toEqual(['golden']);

    const reverted = await s.api('POST', `${snapshotsUrl}/golden/revert`, undefined, OPERATOR);
    expect(reverted).toMatchObject({ status: 200, body: { name: 'golden', current: true } });
    expect((await virsh('domstate', '--domain', VM)).trim()).toBe('shut off');
    expect(await hostname()).toBe(GOLDEN_HOSTNAME);

    expect(await s.api('DELETE', `${snapshotsUrl}/golden`, undefined, OPERATOR)).toMatchObject({ status: 204 });
    expect(await qemuTags()).toEqual([]);
    expect(await names()).toEqual([]);
    expect(await hostname()).toBe(GOLDEN_HOSTNAME); // a delete leaves the current content
  });

  it('refuses bad names, unknown snapshots, raw disks, viewers and a running VM', async () => {
    expect(await s.api('POST', snapshotsUrl, { name: '-x' }, OPERATOR)).toMatchObject({ status: 400, body: { error: { details: { field: 'name' } } } });
    expect(await s.api('POST', snapshotsUrl, { name: 'ok', description: 'a\nb' }, OPERATOR)).toMatchObject({ status: 400, body: { error: { details: { field: 'description' } } } });
    expect(await s.api('POST', snapshotsUrl, {}, OPERATOR)).toMatchObject({ status: 400, body: { error: { details: { field: 'name' } } } });
    expect(await s.api('POST', `${snapshotsUrl}/nope/revert`, undefined, OPERATOR)).toMatchObject({ status: 404, body: { error: { code: 'SNAPSHOT_NOT_FOUND', details: { field: 'sid' } } } });
    expect(await s.api('DELETE', `${snapshotsUrl}/nope`, undefined, OPERATOR)).toMatchObject({ status: 404, body: { error: { code: 'SNAPSHOT_NOT_FOUND' } } });
    expect(await s.api('POST', `/vms/${RAW}/snapshots`, { name: 's1' }, OPERATOR)).toMatchObject({ status: 409, body: { error: { code: 'DISK_UNSUPPORTED' } } });
    expect((await s.api('POST', snapshotsUrl, { name: 's1' }, VIEWER)).status).toBe(403);
    expect((await s.api('GET', snapshotsUrl, undefined, VIEWER)).status).toBe(200);
    expect(await s.api('GET', '/vms/00000000-0000-4000-8000-00000000d0d0/snapshots')).toMatchObject({ status: 404, body: { error: { code: 'VM_NOT_FOUND' } } });

    await virsh('start', '--domain', VM);
    try {
      expect(await s.api('POST', snapshotsUrl, { name: 'live' }, OPERATOR)).toMatchObject({ status: 409, body: { error: { code: 'VM_NOT_DOWN', details: { status: 'up' } } } });
      expect((await s.api('GET', snapshotsUrl)).status).toBe(200); // reading is fine
      // A snapshot of the running domain made with virsh (RAM included): listed, never reverted to.
      await virsh('snapshot-create-as', '--domain', VM, '--name=live');
    } finally {
      await virsh('destroy', '--domain', VM);
    }
    expect((await s.api('GET', snapshotsUrl)).body.items).toEqual([expect.objectContaining({ name: 'live', vmState: 'running' })]);
    expect(await s.api('POST', `${snapshotsUrl}/live/revert`, undefined, OPERATOR)).toMatchObject({ status: 409, body: { error: { code: 'SNAPSHOT_NOT_OFFLINE', details: { field: 'sid' } } } });
    expect((await virsh('domstate', '--domain', VM)).trim()).toBe('shut off');
    expect(await s.api('DELETE', `${snapshotsUrl}/live`, undefined, OPERATOR)).toMatchObject({ status: 204 });
    expect(await qemuTags()).toEqual([]);
  });

  it('lists and deletes a snapshot made with virsh under a name virsh must quote', async () => {
    const odd = "lab 1; it's \"done\"";
    await virsh('snapshot-create-as', '--domain', VM, `--name=${odd}`);
    const { body } = await s.api('GET', snapshotsUrl);
    expect(body.items).toEqual([expect.objectContaining({ id: odd, name: odd, description: '', current: true })]);
    expect(await s.api('DELETE', `${snapshotsUrl}/${encodeURIComponent(odd)}`, undefined, OPERATOR)).toMatchObject({ status: 204 });
    expect(await names()).toEqual([]);
  });

  it('vm snapshots and vm snapshot create | revert | delete from the CLI', async () => {
    expect(await cli(['vm', 'snapshots', VM])).toEqual({ code: 0, out: `VM ${VM} has no snapshots\n`, err: '' });
    expect(await cli(['vm', 'snapshot', 'create', VM, 'base', '--description', 'from the CLI'])).toEqual({ code: 0, out: `snapshot base of VM ${VM} created\n`, err: '' });
    expect(await cli(['vm', 'snapshot', 'create', VM, 'next'])).toMatchObject({ code: 0 });
    const table = await cli(['vm', 'snapshots', VM, '-o', 'wide']);
    expect(table.out.split('\n')[0]).toMatch(/^NAME\s+DATE\s+VM STATE\s+PARENT\s+DESCRIPTION$/);
    expect(table.out).toMatch(/^base\s+\S+\s+shutoff\s+-\s+from the CLI$/m);
    expect(table.out).toMatch(/^next \*\s+\S+\s+shutoff\s+base\s+-$/m);
    expect(await cli(['vm', 'snapshot', 'revert', VM, 'base'])).toEqual({ code: 0, out: `VM ${VM} reverted to snapshot base\n`, err: '' });
    const json = JSON.parse((await cli(['vm', 'snapshots', VM, '-o', 'json'])).out);
    expect(json.map((x: { name: string; current: boolean }) => [x.name, x.current])).toEqual([['base', true], ['next', false]]);
    expect(await cli(['vm', 'snapshot', 'delete', VM, 'next'])).toEqual({ code: 0, out: `snapshot next of VM ${VM} deleted\n`, err: '' });
    expect(await cli(['vm', 'snapshot', 'delete', VM, 'base'])).toMatchObject({ code: 0 });
    expect(await cli(['vm', 'snapshot', 'revert', VM, 'base'])).toMatchObject({ code: 2, err: expect.stringMatching(/SNAPSHOT_NOT_FOUND/) });
    expect(await qemuTags()).toEqual([]);
  });
});
