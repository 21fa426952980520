// The network customisation end to end with the REAL virt-sysprep, on three guest
// flavours at once (Debian with ifupdown, a NetworkManager guest, an EL 8 guest with
// ifcfg): one bulk request gives each VM its own address from `ipFromIndex`, rendered
// per child at submission (the job is then cancelled: the files a real run writes on
// these flavours are checked by test/e2e/rooms/roomShowcase.test.ts, which does it for
// four VMs). A bulk request giving two VMs one address is refused 400 before any job exists.
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { cachedGuestImage, copyGuestImage, GOLDEN_NET, GuestFlavour, libguestfsEnv } from '../../helpers/guestImage';
import { readGuestFiles } from './guestFiles';
import { Stack, startStack } from './stack';

jest.setTimeout(20 * 60_000);

const run = promisify(execFile);
const FLAVOURS: GuestFlavour[] = ['debian', 'nm', 'el8'];

const IFUPDOWN = '/etc/network/interfaces';
const KEYFILE = '/etc/NetworkManager/system-connections/eth0.nmconnection';
const OLD_KEYFILE = '/etc/NetworkManager/system-connections/Wired connection 1.nmconnection';
const IFCFG = '/etc/sysconfig/network-scripts/ifcfg-eth0';
const NETWORK = [{ name: 'eth0', address: { ipFromIndex: '192.0.2.100/24' }, gateway: '192.0.2.1', dns: ['192.0.2.53'], search: ['lab.example.org'] }];

describe('network customisation (real virt-sysprep, three guest flavours)', () => {
  let s: Stack;
  const disks: Record<string, string> = {};
  const vmIds: string[] = [];

  beforeAll(async () => {
    // The flavour images are built in parallel (each once, cached), the stack meanwhile.
    const [stack] = await Promise.all([startStack({ maxJobs: 3 }), ...FLAVOURS.map((f) => cachedGuestImage(f))]);
    s = stack;
    for (const f of FLAVOURS) {
      disks[f] = path.join(s.storage, `net-${f}.qcow2`);
      await copyGuestImage(disks[f], f);
      const vm = await s.api('POST', '/vms', { name: `net-${f}`, disks: [{ path: disks[f] }] });
      expect(vm.status).toBe(201);
      vmIds.push(vm.body.vm.id);
    }
  });
  afterAll(() => s?.close());

  it('builds flavours that libguestfs inspects as Debian, Fedora and Rocky 8', async () => {
    const images = await Promise.all(FLAVOURS.map((f) => cachedGuestImage(f)));
    // One launch: inspect-os first (the other inspection calls need it), then each root.
    const calls = images.flatMap((_, i) => [':', 'inspect-get-distro', `/dev/sd${'abc'[i]}1`, ':', 'inspect-get-major-version', `/dev/sd${'abc'[i]}1`]);
    const { stdout } = await run('guestfish', ['--ro', ...images.flatMap((i) => ['-a', i]), 'run', ':', 'inspect-os', ...calls], { env: libguestfsEnv() });
    const lines = stdout.trim().split('\n');
    expect(lines.slice(0, 3)).toEqual(['/dev/sda1', '/dev/sdb1', '/dev/sdc1']);
    expect(lines.slice(3)).toEqual(['debian', '12', 'fedora', '39', 'rocky', '8']);
  });

  it('refuses a bulk request giving two VMs one static address: 400 naming the field and the VMs, no job', async () => {
    const r = await s.api('POST', '/sysprep', { vms: vmIds, operations: { only: ['customize'] }, params: { network: [{ name: 'eth0', address: '192.0.2.50/24' }] } });
    expect(r.status).toBe(400);
    expect(r.body.error).toMatchObject({ code: 'DUPLICATE_ACROSS_VMS', details: { field: 'params.network[0].address', vms: ['net-debian', 'net-nm'] } });
    expect(r.body.error.message).toMatch(/address 192.0.2.50 is given to both VM "net-debian" \(params.network\[0\].address\) and VM "net-nm"/);
    expect((await s.api('GET', '/jobs')).body.items).toEqual([]);
  });

  it('renders each VM its own address from ipFromIndex in the bulk request (the run itself is the room showcase\'s)', async () => {
    const r = await s.api('POST', '/sysprep', { vms: vmIds, operations: { only: ['customize'] }, params: { network: NETWORK } });
    expect(r.status).toBe(202);
    // What each child stored is the rendered value: a plain address per VM, fixed at submission.
    const parent = (await s.api('GET', `/jobs/${r.body.job.id}`)).body;
    const children = await Promise.all(parent.children.map(async (c: { id: string }) => (await s.api('GET', `/jobs/${c.id}`)).body));
    expect(children.map((c) => [c.target.name, c.request.params.network[0].address]).sort()).toEqual([
      ['net-debian', '192.0.2.101/24'], ['net-el8', '192.0.2.103/24'], ['net-nm', '192.0.2.102/24'],
    ]);
    // The same files written by a real run on these three flavours are checked by
    // test/e2e/rooms/roomShowcase.test.ts: this one is stopped, and changes nothing.
    expect((await s.api('POST', `/jobs/${r.body.job.id}/cancel`)).status).toBeLessThan(300);
    const job = await s.waitJob(r.body.job.id);
    expect(job.state).toBe('cancelled');
    const files = await readGuestFiles(FLAVOURS.map((f) => disks[f]), [IFUPDOWN, KEYFILE, OLD_KEYFILE, IFCFG]);
    expect(files[disks.debian][IFUPDOWN]).toContain(GOLDEN_NET.ip);
    expect(files[disks.nm][OLD_KEYFILE]).not.toBeNull();
    expect(files[disks.el8][IFCFG]).not.toBeNull();
  });
});
