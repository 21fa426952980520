// DELETE on the libvirt inventory against a REAL libvirtd (qemu:///system, started by
// helpers/libvirtd.ts when it is not running): a clone domain is undefined and only the
// overlay the product made is removed (listed in our clone metadata AND a disk of the
// domain AND in a clone directory inside a storage root); a running clone, a clone a job
// works on and a template that still has a clone are refused 409 IN_USE (and the busy
// clone's start 409 VM_BUSY); the template's disk stays. The clone
// domain is made here as the product's clone action will make it (an overlay in
// `<storage>/vms/<dir>/`, our clone metadata listing it). Domains are of type qemu with no
// OS and NO network interface, named `lvdel-<pid>-*`; afterAll undefines every one of them.
// One virt-sysprep starts here (to hold the VM with a job) and is cancelled.
import 'reflect-metadata';
import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { METADATA_NS } from '../../../engine-plugin/libvirt/libvirtModel';
import type { Stack } from '../engine/stack';
import { removeDomains, startLibvirtEngine, startLibvirtStack, virsh } from './libvirtStack';

jest.setTimeout(4 * 60_000);

const execFileAsync = promisify(execFile);
const PREFIX = `lvdel-${process.pid}-`;
const TPL = `${PREFIX}tpl`;
const CLONE = `${PREFIX}clone`;

const fileDisk = (file: string, dev: string) => `<disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='${file}'/><target dev='${dev}' bus='virtio'/></disk>`;
const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

describe('libvirt delete against a real libvirtd', () => {
  let s: Stack;
  const f: Record<string, string> = {};

  const define = async (name: string, disks: string) => {
    const file = path.join(s.dir, `${name}.xml`);
    writeFileSync(file, `<domain type='qemu'><name>${name}</name><memory unit='MiB'>64</memory><vcpu>1</vcpu><os><type arch='x86_64'>hvm</type></os><devices>${disks}</devices></domain>`);
    await virsh('define', '--file', file);
    return (await virsh('domuuid', '--domain', name)).trim();
  };
  const defined = async (name: string) => (await virsh('list', '--all', '--name')).split('\n').map((n) => n.trim()).includes(name);

  beforeAll(async () => {
    s = await startLibvirtStack();
    f.tpl = path.join(s.storage, `${TPL}.qcow2`);
    f.dir = path.join(s.storage, 'vms', `${PREFIX}c`);
    f.overlay = path.join(f.dir, 'disk0.qcow2');
    f.extra = path.join(s.storage, `${PREFIX}extra.qcow2`); // a disk added by hand: not ours
    f.victim = path.join(s.storage, `${PREFIX}victim.qcow2`); // named by edited metadata, not a disk of the domain
    mkdirSync(f.dir, { recursive: true, mode: 0o755 });
    chmodSync(path.dirname(f.dir), 0o755);
    for (const x of [f.tpl, f.extra, f.victim]) await execFileAsync('qemu-img', ['create', '-q', '-f', 'qcow2', x, '16M']);
    await execFileAsync('qemu-img', ['create', '-q', '-f', 'qcow2', '-b', f.tpl, '-F', 'qcow2', f.overlay]);
    f.tplSum = sha256(f.tpl);
    f.tplUuid = await define(TPL, fileDisk(f.tpl, 'vda'));
    await virsh('metadata', '--domain', TPL, '--uri', METADATA_NS.template, '--key', 'ovirt-sysprep', '--set', '<template/>');
    await define(CLONE, fileDisk(f.overlay, 'vda') + fileDisk(f.extra, 'vdb'));
    await virsh('metadata', '--domain', CLONE, '--uri', METADATA_NS.clone, '--key', 'ovirt-sysprep', '--set',
      `<clone template="${f.tplUuid}"><overlay file="${f.overlay}"/><overlay file="${f.victim}"/></clone>`);
    await startLibvirtEngine(s);
  });

  afterAll(async () => {
    await removeDomains(PREFIX);
    await s?.close();
  });

  it('refuses a VM a job works on: delete 409 IN_USE, start 409 VM_BUSY (the product never boots a disk being worked on)', async () => {
    // A sysprep on the clone (no OS on its disks: virt-sysprep would boot its appliance for
    // tens of seconds under TCG, then fail); cancelled once the refusals are seen.
    const { status, body } = await s.api('POST', `/vms/${CLONE}/sysprep`, { profile: 'clone-reset' });
    expect(status).toBe(202);
    const jobId = body.job.id;
    try {
      expect(await s.api('DELETE', `/vms/${CLONE}`)).toMatchObject({ status: 409, body: { error: { code: 'IN_USE', details: { field: 'id', jobId } } } });
      expect(await s.api('POST', `/vms/${CLONE}/start`)).toMatchObject({ status: 409, body: { error: { code: 'VM_BUSY', details: { jobId } } } });
      expect(await defined(CLONE)).toBe(true);
      expect((await virsh('domstate', '--domain', CLONE)).trim()).toBe('shut off');
    } finally {
      await s.api('POST', `/jobs/${jobId}/cancel`);
      await s.waitJob(jobId, 3 * 60_000);
    }
  });

  it('refuses a template with a clone (delete 409 IN_USE, seal 409 TEMPLATE_IN_USE) and a running clone (409 IN_USE), then undefines the clone and removes only its overlay', async () => {
    expect(await s.api('DELETE', `/templates/${TPL}`)).toMatchObject({ status: 409, body: { error: { code: 'IN_USE', details: { field: 'id', vms: [CLONE] } } } });
    expect(await defined(TPL)).toBe(true);
    // A seal would write the disk the clone's overlay is backed by: refused, nothing queued.
    const jobsBefore = (await s.api('GET', '/jobs')).body.items.length;
    expect(await s.api('POST', `/templates/${TPL}/sysprep`, {})).toMatchObject({ status: 409, body: { error: { code: 'TEMPLATE_IN_USE', details: { vms: [CLONE] } } } });
    expect((await s.api('GET', '/jobs')).body.items).toHaveLength(jobsBefore);

    expect(await s.api('POST', `/vms/${CLONE}/start`)).toMatchObject({ status: 200, body: { status: 'up' } }); // whole answer: a failure shows libvirt's reason
    expect(await s.api('DELETE', `/vms/${CLONE}`)).toMatchObject({ status: 409, body: { error: { code: 'IN_USE', details: { field: 'id', status: 'up' } } } });
    expect(await defined(CLONE)).toBe(true);
    expect(await s.api('POST', `/vms/${CLONE}/stop`)).toMatchObject({ status: 200, body: { status: 'down' } });

    expect((await s.api('DELETE', `/vms/${CLONE}`)).status).toBe(204);
    expect(await defined(CLONE)).toBe(false);
    expect(existsSync(f.overlay)).toBe(false);
    expect(existsSync(f.dir)).toBe(false); // the clone directory, left empty
    expect(existsSync(f.extra)).toBe(true); // a disk the product did not make
    expect(existsSync(f.victim)).toBe(true); // listed, but not a disk of the domain
    expect(await s.api('DELETE', `/vms/${CLONE}`)).toMatchObject({ status: 404, body: { error: { code: 'VM_NOT_FOUND' } } });
  });

  it('then undefines the template domain; its disk stays, unchanged', async () => {
    expect(await s.api('DELETE', `/vms/${TPL}`)).toMatchObject({ status: 404, body: { error: { code: 'VM_NOT_FOUND' } } });
    expect((await s.api('DELETE', `/templates/${f.tplUuid}`)).status).toBe(204);
    expect(await defined(TPL)).toBe(false);
    expect(sha256(f.tpl)).toBe(f.tplSum);
    expect(await s.api('DELETE', '/pools/anything')).toMatchObject({ status: 404, body: { error: { code: 'POOL_NOT_FOUND' } } });
  });
});
