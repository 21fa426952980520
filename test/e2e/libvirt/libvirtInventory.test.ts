// The libvirt inventory against a REAL libvirtd (qemu:///system, started by
// helpers/libvirtd.ts when it is not running), the real host agent and the real
// virt-sysprep (TCG). Domains are of type qemu, have no network interface at all, and are
// named `lvinv-<pid>-*`; afterAll destroys and undefines every one of them.
//   * listing: VMs with their state and disks, the template domain (our metadata, set with
//     virsh) listed as a template only, block/network disks reported unsupported, a pool;
//   * a domain started with `virsh start` behind the engine's back shows `up` within a
//     few seconds, a sysprep on it is refused 409 VM_NOT_DOWN and creates no job;
//     `virsh destroy` -> down again;
//   * one real sysprep on a domain whose disk is a copy of the fixture guest: succeeded,
//     the hostname on the disk is the domain's name.
import 'reflect-metadata';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { startEngine } from '../../../engine-plugin/engine';
import { libvirtWithDefaults } from '../../../engine-plugin/libvirt/LibvirtConfig';
import { METADATA_NS } from '../../../engine-plugin/libvirt/libvirtModel';
import { guestRead } from '../../helpers/disk';
import { copyGuestImage, GOLDEN_HOSTNAME, IDENTITY_PATHS } from '../../helpers/guestImage';
import { domainXml, fileDisk, removeDomains, startLibvirtEngine, startLibvirtStack, virsh } from './libvirtStack';
import { restApi, Stack } from '../engine/stack';

jest.setTimeout(8 * 60_000);

const execFileAsync = promisify(execFile);

const PREFIX = `lvinv-${process.pid}-`;
const NAMES = { a: `${PREFIX}a`, b: `${PREFIX}b`, odd: `${PREFIX}odd`, tpl: `${PREFIX}tpl`, sys: `${PREFIX}sys` };
const POOL = `${PREFIX}pool`;

describe('libvirt inventory against a real libvirtd', () => {
  let s: Stack;
  const disk = (n: string) => path.join(s.storage, `${n}.qcow2`);
  const uuids: Record<string, string> = {};

  const define = async (name: string, disks: string) => {
    const file = path.join(s.dir, `${name}.xml`);
    writeFileSync(file, domainXml(name, disks));
    await virsh('define', '--file', file);
    uuids[name] = (await virsh('domuuid', '--domain', name)).trim();
  };
  const statusOf = async (name: string) => (await s.api('GET', `/vms/${uuids[name]}`)).body.status;
  /** Polls GET /vms until `name` shows `status`; the time it took (ms). */
  const waitListed = async (name: string, status: string, withinMs: number) => {
    const start = Date.now();
    for (;;) {
      const { body } = await s.api('GET', `/vms?search=${PREFIX}`);
      if (body.items.find((v: { name: string }) => v.name === name)?.status === status) return Date.now() - start;
      if (Date.now() - start > withinMs) throw new Error(`${name} not ${status} in GET /vms after ${withinMs} ms`);
      await new Promise((r) => setTimeout(r, 200));
    }
  };

  beforeAll(async () => {
    s = await startLibvirtStack();
    for (const n of [NAMES.a, NAMES.b, NAMES.tpl]) await execFileAsync('qemu-img', ['create', '-q', '-f', 'qcow2', disk(n), '16M']);
    await copyGuestImage(disk(NAMES.sys));
    await define(NAMES.a, fileDisk(disk(NAMES.a)));
    await define(NAMES.b, fileDisk(disk(NAMES.b)));
    await define(NAMES.tpl, fileDisk(disk(NAMES.tpl)));
    await define(NAMES.sys, fileDisk(disk(NAMES.sys)));
    await define(NAMES.odd, [
      fileDisk(disk(NAMES.a), 'vda'),
      "<disk type='block' device='disk'><driver name='qemu' type='raw'/><source dev='/dev/lvinv-none'/><target dev='vdb' bus='virtio'/></disk>",
      "<disk type='network' device='disk'><driver name='qemu' type='raw'/><source protocol='nbd' name='lvinv'><host name='127.0.0.1' port='10809'/></source><target dev='vdc' bus='virtio'/></disk>",
      "<disk type='file' device='cdrom'><target dev='hdc' bus='ide'/><readonly/></disk>",
    ].join(''));
    // Our metadata, as an administrator sets it (docs/libvirt.md).
    await virsh('metadata', '--domain', NAMES.tpl, '--uri', METADATA_NS.template, '--key', 'ovirt-sysprep', '--set', '<template/>');
    await virsh('metadata', '--domain', NAMES.a, '--uri', METADATA_NS.pool, '--key', 'ovirt-sysprep', '--set', `<pool name="${POOL}" index="2"/>`);
    await virsh('metadata', '--domain', NAMES.b, '--uri', METADATA_NS.pool, '--key', 'ovirt-sysprep', '--set', `<pool name="${POOL}" index="1"/>`);
    await virsh('metadata', '--domain', NAMES.a, '--uri', METADATA_NS.clone, '--key', 'ovirt-sysprep', '--set', `<clone template="${uuids[NAMES.tpl]}"/>`);

    await startLibvirtEngine(s);
  });

  afterAll(async () => {
    await removeDomains(PREFIX); // by prefix, not by the names above: whatever happened
    await s?.close();
  });

  it('lists the domains as VMs with their state and disks, the template domain as a template, and a pool', async () => {
    const { status, body } = await s.api('GET', `/vms?search=${PREFIX}`);
    expect(status).toBe(200);
    expect(body.items.map((v: { name: string }) => v.name)).toEqual([NAMES.a, NAMES.b, NAMES.odd, NAMES.sys]);
    expect(body.total).toBe(4);
    const a = body.items[0];
    expect(a).toEqual(expect.objectContaining({
      id: uuids[NAMES.a],
      name: NAMES.a,
      status: 'down',
      hostId: s.agent.hostId,
      poolId: POOL,
      templateId: uuids[NAMES.tpl],
      disks: [{ path: disk(NAMES.a), format: 'qcow2' }],
    }));
    // Block and network disks are listed with the reason no agent works on them; the cdrom is not a disk.
    const odd = body.items[2];
    expect(odd.disks.map((d: { path: string; unsupported?: string }) => [d.path, Boolean(d.unsupported)])).toEqual([
      [disk(NAMES.a), false],
      ['/dev/lvinv-none', true],
      ['nbd://127.0.0.1/lvinv', true],
    ]);
    // Paging: two pages of two, the cursor of the first gives the second.
    const p1 = (await s.api('GET', `/vms?search=${PREFIX}&limit=2`)).body;
    const p2 = (await s.api('GET', `/vms?search=${PREFIX}&limit=2&cursor=${p1.next}`)).body;
    expect([...p1.items, ...p2.items].map((v: { name: string }) => v.name)).toEqual([NAMES.a, NAMES.b, NAMES.odd, NAMES.sys]);
    expect(p2.next).toBeUndefined();

    const templates = (await s.api('GET', `/templates?search=${PREFIX}`)).body;
    expect(templates.items).toEqual([{ id: uuids[NAMES.tpl], name: NAMES.tpl, disks: [{ path: disk(NAMES.tpl), format: 'qcow2' }] }]);
    expect((await s.api('GET', `/vms/${NAMES.tpl}`)).status).toBe(404);
    expect((await s.api('GET', `/templates/${uuids[NAMES.tpl]}`)).body.name).toBe(NAMES.tpl);

    const pool = (await s.api('GET', `/pools/${POOL}`)).body;
    expect(pool).toEqual({ id: POOL, name: POOL, vmIds: [uuids[NAMES.b], uuids[NAMES.a]] });

    // By name or UUID; a job on the odd domain is refused for its disks.
    expect((await s.api('GET', `/vms/${NAMES.sys}`)).body.id).toBe(uuids[NAMES.sys]);
    expect(await s.api('GET', '/vms/00000000-0000-4000-8000-00000000d0d0')).toMatchObject({ status: 404, body: { error: { code: 'VM_NOT_FOUND' } } });
    const refused = await s.api('POST', `/vms/${uuids[NAMES.odd]}/sysprep`, {});
    expect(refused).toMatchObject({ status: 409, body: { error: { code: 'DISK_UNSUPPORTED', details: { disk: '/dev/lvinv-none' } } } });
  });

  it('follows a domain started and destroyed with virsh behind its back; a running domain is refused 409 VM_NOT_DOWN', async () => {
    await virsh('start', '--domain', NAMES.b);
    // States are read at every request, never cached: the listing follows at once.
    expect(await waitListed(NAMES.b, 'up', 5_000)).toBeLessThan(5_000);
    expect(await statusOf(NAMES.b)).toBe('up');

    const refused = await s.api('POST', `/vms/${NAMES.b}/sysprep`, { profile: 'clone-reset' });
    expect(refused).toMatchObject({ status: 409, body: { error: { code: 'VM_NOT_DOWN', details: { vm: NAMES.b, status: 'up' } } } });
    expect((await s.api('GET', `/jobs?vm=${uuids[NAMES.b]}`)).body.items).toEqual([]);

    await virsh('suspend', '--domain', NAMES.b);
    expect(await statusOf(NAMES.b)).toBe('up'); // paused: QEMU still holds the disk
    await virsh('destroy', '--domain', NAMES.b);
    expect(await waitListed(NAMES.b, 'down', 5_000)).toBeLessThan(5_000);
  });

  it('answers 503 LIBVIRT_UNREACHABLE naming the URI when libvirtd cannot be reached', async () => {
    // A real virsh on a socket where no daemon listens: what a stopped libvirtd looks like.
    const uri = `qemu+unix:///system?socket=${path.join(s.dir, 'no-libvirt-sock')}`;
    const other = await startEngine({ ...s.engineConfig, dataDir: path.join(s.dir, 'engine-unreachable'), inventory: 'libvirt', libvirt: libvirtWithDefaults({ uri }), hosts: [] });
    try {
      const { api } = restApi(other);
      for (const url of ['/vms', '/vms/anything', '/templates', '/pools']) {
        expect(await api('GET', url)).toMatchObject({ status: 503, body: { error: { code: 'LIBVIRT_UNREACHABLE', details: { uri } } } });
      }
    } finally {
      await other.stop();
    }
  });

  it('runs a real sysprep on a shut-off domain: succeeded, the hostname on its disk is the domain name', async () => {
    const { status, body } = await s.api('POST', `/vms/${NAMES.sys}/sysprep`, { profile: 'clone-reset' });
    expect(status).toBe(202);
    const job = await s.waitJob(body.job.id, 6 * 60_000);
    expect(job).toMatchObject({ state: 'succeeded', target: { id: uuids[NAMES.sys], name: NAMES.sys }, host: s.agent.hostId });
    const files = await guestRead(disk(NAMES.sys), [IDENTITY_PATHS.hostname]);
    expect(files[IDENTITY_PATHS.hostname]?.trim()).toBe(NAMES.sys);
    expect(files[IDENTITY_PATHS.hostname]?.trim()).not.toBe(GOLDEN_HOSTNAME);
  });
});
