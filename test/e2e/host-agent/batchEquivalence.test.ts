// What issue 16 must show, at the agent (the real agent over gRPC and mutual TLS, the real
// guestfish session of a batch, the real virt-sysprep for the per-VM references):
//  * one batch of clones of three kinds of guest: a single disk whose / is mounted by
//    LABEL (every clone shares it), / and /var on two disks by UUID (shared too), and LVM
//    (every clone has the same volume group), plus one LVM guest with a volume group of
//    its own: each VM gets ITS OWN hostname and root password, and the marker written on
//    each VM before stays on that VM's disk;
//  * the clones whose mounts are provably their own share the appliance; the LVM twins
//    (one VG name for both) never do: they run alone and say why;
//  * equivalence: each kind's batched VM equals a per-VM virt-sysprep reset of an
//    identical copy (host-agent/batch/equivalence.ts: contents, modes, owners; values
//    random by design by their form).
// BATCH_POOL=N (npm run test:batch: 8) makes N clones of each kind, and every batched VM
// is checked against a per-VM reset of its own copy; npm test runs 2 of each and checks
// the first of each kind.
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { compareTrees, readTree } from '../../../host-agent/batch/equivalence';
import { IDENTITY_OPERATIONS } from '../../../engine-plugin/profiles/builtins';
import { toWireParams } from '../../../shared/wireParams';
import type { Job } from '../../../shared/wireTypes';
import { startTestAgent, TestAgent, waitForJob } from '../../helpers/agentHarness';
import { cachedLvmImage, cachedTwoDiskImage, cloneDisks, guestReadPerVm, MARKER_PATH, writeMarkers } from '../../helpers/batchImages';
import { cachedGuestImage, libguestfsEnv } from '../../helpers/guestImage';

interface Vm { name: string; kind: 'single' | 'two-disk' | 'lvm' | 'lvm-own-vg'; disks: string[]; ref?: string[] }

const POOL = Number(process.env.BATCH_POOL ?? 2);
if (!(Number.isInteger(POOL) && POOL >= 2 && POOL <= 16)) throw new Error(`BATCH_POOL: a whole number from 2 to 16, not ${process.env.BATCH_POOL}`);
/** npm test: a reference for the first VM of each kind; the pool run (BATCH_POOL > 2): for every batched VM. */
const wantsRef = (vm: Vm, i: number) => vm.kind !== 'lvm' && (POOL > 2 || i === 1);
/** An agent batch holds at most 16 (its max_batch_size here): a bigger pool goes as several batches, VMs dealt in turn. */
const MAX_BATCH = 16;

jest.setTimeout(POOL > 2 ? 3 * 3_600_000 : 1_500_000);

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
    t = await startTestAgent({ maxBatchSize: 16, maxJobs: 2 });
    const [single, two, lvm, ownVg] = await Promise.all([cachedGuestImage('debian').then((d) => [d]), cachedTwoDiskImage(), cachedLvmImage().then((d) => [d]), cachedLvmImage('vg_own').then((d) => [d])]);
    const sources = { single, 'two-disk': two, lvm, 'lvm-own-vg': ownVg } as const;
    for (const kind of ['single', 'two-disk', 'lvm', 'lvm-own-vg'] as const) {
      for (let i = 1; i <= (kind === 'lvm-own-vg' ? 1 : POOL); i++) {
        const name = `${kind}-${i}`;
        const vm: Vm = { name, kind, disks: await cloneDisks([...sources[kind]], t.dirs.root, name) };
        vms.push(vm);
      }
    }
    await writeMarkers(vms.map((v) => v.disks), vms.map((v) => `marker-${v.name}`));
    // The per-VM references: identical copies (markers included), made after the markers.
    for (const vm of vms) {
      if (wantsRef(vm, Number(vm.name.split('-').at(-1)))) vm.ref = await cloneDisks(vm.disks, t.dirs.root, `ref-${vm.name}`);
    }
  });
  afterAll(() => t?.stop());

  it(`a batch of ${3 * POOL + 1}: own values, markers home, LVM twins apart, each kind equal to a per-VM reset`, async () => {
    const batches = Math.ceil(vms.length / MAX_BATCH);
    const batchOf = (i: number) => ({ id: batches === 1 ? 'equivalence' : `equivalence-${i % batches}`, size: vms.filter((_, j) => j % batches === i % batches).length });
    const refs = vms.filter((v) => v.ref);
    const started = Date.now();
    await Promise.all([
      ...vms.map((vm, i) => t.client.startSysprep({ jobId: `b-${vm.name}`, disks: vm.disks.map((p) => ({ path: p })), spec: spec(vm), batch: batchOf(i) })),
      ...refs.map((vm) => t.client.startSysprep({ jobId: `ref-${vm.name}`, disks: vm.ref!.map((p) => ({ path: p })), spec: spec(vm) })),
    ]);
    const done: Job[] = await Promise.all(vms.map((vm) => waitForJob(t.client, `b-${vm.name}`)));
    await Promise.all(refs.map((vm) => waitForJob(t.client, `ref-${vm.name}`).then((j) => expect([vm.name, j.state]).toEqual([vm.name, 'SUCCEEDED']))));

    done.forEach((j, i) => expect([vms[i].name, j.state, j.error]).toEqual([vms[i].name, 'SUCCEEDED', null]));
    const outcome = (kind: Vm['kind']) => done.filter((_, i) => vms[i].kind === kind).map((j) => j.batch);
    const batched = { id: expect.stringMatching(/^equivalence/), batched: true, aloneReason: '' };
    for (const kind of ['single', 'two-disk', 'lvm-own-vg'] as const) expect([kind, outcome(kind)]).toEqual([kind, outcome(kind).map(() => batched)]);
    // The LVM twins share one volume group: none may be mounted in the shared appliance.
    for (const b of outcome('lvm')) expect(b).toEqual({ id: expect.stringMatching(/^equivalence/), batched: false, aloneReason: expect.stringMatching(/LVM PV .* is also on another VM's disks/) });
    process.stderr.write(`batch equivalence: ${vms.length} VMs in ${batches} batch(es) and ${refs.length} per-VM references ended in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);

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

    // Equivalence: each batched VM with a reference against its per-VM reset, two reads at a time.
    const env = libguestfsEnv();
    const read2 = (d: string[]) => readTree({ bin: 'guestfish', disks: d.map((p) => ({ path: p, format: 'qcow2' })), env, timeoutMs: 600_000 });
    for (const vm of refs) {
      expect([vm.name, done[vms.indexOf(vm)].batch?.batched]).toEqual([vm.name, true]);
      const [a, b] = await Promise.all([read2(vm.disks), read2(vm.ref!)]);
      expect([vm.name, compareTrees(a, b)]).toEqual([vm.name, []]);
    }
  });
});
