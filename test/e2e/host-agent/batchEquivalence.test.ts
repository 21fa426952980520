// What issue 16 must show, at the agent (the real agent over gRPC and mutual TLS, the real
// guestfish session of a batch, the real virt-sysprep for the per-VM references):
//  * one batch of 6 clones of three kinds of guest: a single disk whose / is mounted by
//    LABEL (every clone shares it), / and /var on two disks by UUID (shared too), and LVM
//    (every clone has the same volume group): each VM gets ITS OWN hostname and root
//    password, and the marker written on each VM before stays on that VM's disk;
//  * the clones whose mounts are provably their own share the appliance; of the two LVM
//    clones (one VG name for both) at most one does, the other runs alone and says why;
//  * equivalence: each kind's batched VM equals a per-VM virt-sysprep reset of an
//    identical copy (host-agent/batch/equivalence.ts: contents, modes, owners; values
//    random by design by their form).
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { compareTrees, readTree } from '../../../host-agent/batch/equivalence';
import { IDENTITY_OPERATIONS } from '../../../engine-plugin/profiles/builtins';
import { toWireParams } from '../../../shared/wireParams';
import type { Job } from '../../../shared/wireTypes';
import { startTestAgent, TestAgent, waitForJob } from '../../helpers/agentHarness';
import { cachedLvmImage, cachedTwoDiskImage, cloneDisks, guestReadPerVm, MARKER_PATH, writeMarkers } from '../../helpers/batchImages';
import { cachedGuestImage, libguestfsEnv } from '../../helpers/guestImage';

jest.setTimeout(1_500_000);

interface Vm { name: string; kind: 'single' | 'two-disk' | 'lvm'; disks: string[]; ref?: string[] }

/** The operations of clone-reset the installed tool knows (the engine drops the others the same way). */
function installedIdentityOperations(): string[] {
  const known = new Set(execFileSync('virt-sysprep', ['--list-operations'], { encoding: 'utf8' }).split('\n').map((l) => l.split(/\s+/)[0]));
  return IDENTITY_OPERATIONS.filter((o) => known.has(o));
}

const spec = (vm: Vm) => ({
  only: installedIdentityOperations(),
  ...toWireParams({ hostname: vm.name, identity: 'all', rootPassword: { value: `pw-of-${vm.name}` } }),
});

describe('batch mode: per-VM values, markers and equivalence on three kinds of guest (real tools)', () => {
  let t: TestAgent;
  const vms: Vm[] = [];
  beforeAll(async () => {
    t = await startTestAgent({ maxBatchSize: 8, maxJobs: 2 });
    const [single, two, lvm] = await Promise.all([cachedGuestImage('debian').then((d) => [d]), cachedTwoDiskImage(), cachedLvmImage().then((d) => [d])]);
    const sources = { single, 'two-disk': two, lvm } as const;
    for (const kind of ['single', 'two-disk', 'lvm'] as const) {
      for (const i of [1, 2]) {
        const name = `${kind}-${i}`;
        vms.push({ name, kind, disks: await cloneDisks([...sources[kind]], t.dirs.root, name) });
      }
    }
    await writeMarkers(vms.map((v) => v.disks), vms.map((v) => `marker-${v.name}`));
    // The per-VM references: identical copies (markers included) of the first VM of each kind.
    for (const vm of vms.filter((v) => v.name.endsWith('-1'))) vm.ref = await cloneDisks(vm.disks, t.dirs.root, `ref-${vm.name}`);
  });
  afterAll(() => t?.stop());

  it('a batch of 6: own values, markers home, LVM twins apart, each kind equal to a per-VM reset', async () => {
    const batch = { id: 'equivalence', size: vms.length };
    const refs = vms.filter((v) => v.ref);
    await Promise.all([
      ...vms.map((vm) => t.client.startSysprep({ jobId: `b-${vm.name}`, disks: vm.disks.map((p) => ({ path: p })), spec: spec(vm), batch })),
      ...refs.map((vm) => t.client.startSysprep({ jobId: `ref-${vm.name}`, disks: vm.ref!.map((p) => ({ path: p })), spec: spec(vm) })),
    ]);
    const done: Job[] = await Promise.all(vms.map((vm) => waitForJob(t.client, `b-${vm.name}`)));
    await Promise.all(refs.map((vm) => waitForJob(t.client, `ref-${vm.name}`).then((j) => expect([vm.name, j.state]).toEqual([vm.name, 'SUCCEEDED']))));

    done.forEach((j, i) => expect([vms[i].name, j.state, j.error]).toEqual([vms[i].name, 'SUCCEEDED', null]));
    const outcome = (kind: Vm['kind']) => done.filter((_, i) => vms[i].kind === kind).map((j) => j.batch);
    for (const kind of ['single', 'two-disk'] as const) expect(outcome(kind)).toEqual([{ id: 'equivalence', batched: true, aloneReason: '' }, { id: 'equivalence', batched: true, aloneReason: '' }]);
    const lvm = outcome('lvm');
    expect(lvm.filter((b) => b?.batched).length).toBeLessThanOrEqual(1);
    for (const b of lvm.filter((x) => !x?.batched)) expect(b?.aloneReason).toMatch(/volume group|VG|vg_golden/i);

    // Markers stayed on their own disks; each VM has its own hostname and root password (one read per VM).
    const read = await guestReadPerVm(vms.map((v) => v.disks), [MARKER_PATH, '/etc/hostname', '/etc/shadow']);
    vms.forEach((vm, i) => {
      const files = read[i];
      expect([vm.name, files[MARKER_PATH], files['/etc/hostname']]).toEqual([vm.name, `marker-${vm.name}`, `${vm.name}\n`]);
      const hash = files['/etc/shadow']!.split('\n').find((l) => l.startsWith('root:'))!.split(':')[1];
      const salt = hash.split('$')[2];
      const again = execFileSync('openssl', ['passwd', '-6', '-salt', salt, '-stdin'], { input: `pw-of-${vm.name}`, encoding: 'utf8' }).trim();
      expect([vm.name, hash]).toEqual([vm.name, again]);
    });

    // Equivalence: the batched VM of each kind against its per-VM reference.
    const env = libguestfsEnv();
    for (const vm of refs) {
      if (!done[vms.indexOf(vm)].batch?.batched) continue; // ran alone: it IS a per-VM reset
      const [a, b] = await Promise.all([vm.disks, vm.ref!].map((d) => readTree({ bin: 'guestfish', disks: d.map((p) => ({ path: p, format: 'qcow2' })), env, timeoutMs: 600_000 })));
      expect([vm.name, compareTrees(a, b)]).toEqual([vm.name, []]);
    }
  });
});
