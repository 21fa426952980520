// executeBatch's decisions (issue 16): ORCHESTRATION UNITS. The two batch ports are
// IN-TEST FAKES (a scripter that answers by the argv, a session that plans and "runs"
// scripts from a table and records the order of its calls), and so are the run of a
// member alone and the disk checker. Leases, overlays (qemu-img on tiny qcow2 files),
// the private files directory and the journal are the real ones. The real parts
// (batchScript.ts, BatchSession.ts: contracts A and B) are tested end to end after the
// merge: test/e2e-pending/batch.test.ts.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { BatchDeps, executeBatch, SCRIPT_NAME } from '../../../host-agent/batch/executeBatch';
import type { BatchScripter, BatchSessions, RootMounts, ScriptRun } from '../../../host-agent/batch/ports';
import type { Hypervisor } from '../../../host-agent/hypervisor';
import type { Runner } from '../../../host-agent/jobs/AgentJob';
import type { ExecutionDeps } from '../../../host-agent/jobs/executeJob';
import { JobManager } from '../../../host-agent/jobs/JobManager';
import { Journal } from '../../../host-agent/jobs/journal';
import type { JobRecord } from '../../../host-agent/jobs/types';
import type { DiskChecker } from '../../../host-agent/storage/diskCheck';
import { LeaseManager } from '../../../host-agent/storage/leases';
import { Overlays } from '../../../host-agent/storage/overlays';
import { SecretsDir } from '../../../host-agent/storage/secretsDir';
import { HOSTNAME_NOT_SET } from '../../../shared/catalog/guest/hostname';
import { createLogger } from '../../../shared/logger';
import { QemuImg } from '../../../shared/tools/qemuImg';

jest.setTimeout(30_000);
const log = createLogger({ service: 't', silent: true });
const tick = (ms = 0) => new Promise((r) => setTimeout(r, ms));

/** What the fake session does with a member's script: lines to print, then ok or an error; `hold` keeps it running. */
interface ScriptPlay {
  lines?: string[];
  error?: string;
  hold?: Promise<void>;
}

interface World {
  calls: string[];
  opened: { key: string; disks: string[] }[][];
  scriptModes: Record<string, number>;
  /** how each member's script was run: its parts, with the member's signal */
  runs: Record<string, { parts?: number; signal: boolean }>;
  alone: string[];
}

describe('executeBatch (fake batch ports, real leases and overlays)', () => {
  let dir: string;
  let images: string;
  let deps: ExecutionDeps;
  let secrets: SecretsDir;

  beforeEach(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'exec-batch-'));
    images = path.join(dir, 'images');
    mkdirSync(images);
    mkdirSync(path.join(dir, 'log'));
    secrets = new SecretsDir(path.join(dir, 'secrets'), path.join(dir, 'data'), log);
    await secrets.recover();
    const qemuImg = new QemuImg();
    deps = {
      leases: new LeaseManager('h', 20_000, log),
      overlays: new Overlays(qemuImg, path.join(dir, 'overlays')),
      qemuImg,
      secrets,
      hypervisor: { env: async () => ({ FAKE_ENV: '1' }) } as unknown as Hypervisor,
      logger: log,
      trace: false,
      minFreeBytesForPackages: 1,
    } as unknown as ExecutionDeps;
  });
  afterEach(async () => {
    await secrets.release();
    rmSync(dir, { recursive: true, force: true });
  });

  function disk(name: string): string {
    const p = path.join(images, `${name}.qcow2`);
    execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', p, '1M']);
    return p;
  }

  /** STAND-IN disk checker: the test's qcow2 files as they are. */
  const checker = {
    async check(disks: { path: string }[]) {
      return disks.map((d) => ({ path: d.path, real: d.path, root: images, format: 'qcow2', virtualSize: 1 << 20, actualSize: 0, backingFile: '', inUse: false }));
    },
  } as unknown as DiskChecker;

  /**
   * A manager whose batches go through executeBatch with FAKE ports:
   * `unbatchable` job ids get { batchable: false }, `planAlone` ones are refused by the
   * plan, `plays` says what each member's script does, `openError` fails the session.
   */
  function setup(opts: { unbatchable?: Record<string, string>; planAlone?: Record<string, string>; plays?: Record<string, ScriptPlay>; openError?: string } = {}) {
    const world: World = { calls: [], opened: [], scriptModes: {}, runs: {}, alone: [] };
    const scripter: BatchScripter = {
      async script(input) {
        const jobId = /overlays\/([^/]+)\/disk0/.exec(input.argv.join(' '))![1];
        world.calls.push(`script ${jobId} ${input.toolVersion}`);
        expect(input.argv).not.toContain('-v'); // trace off: the script follows the VM's own argv
        const reason = opts.unbatchable?.[jobId];
        return reason ? { batchable: false, reason } : { batchable: true, script: `#!/bin/sh\n# ${jobId}\n`, secrets: [`hash-of-${jobId}`], steps: ['machine-id', 'customize'], parts: 2 };
      },
    };
    const sessions: BatchSessions = {
      async open(o) {
        world.calls.push(`open ${o.members.map((m) => m.key).join(',')}`);
        world.opened.push(o.members.map((m) => ({ key: m.key, disks: m.disks.map((d) => d.path) })));
        expect(o.env.FAKE_ENV).toBe('1');
        if (opts.openError) throw new Error(opts.openError);
        return {
          pid: undefined,
          async plan() {
            return o.members.map((m, i) =>
              opts.planAlone?.[m.key] ? { key: m.key, alone: opts.planAlone[m.key] } : { key: m.key, plan: { key: m.key, roots: [{ root: `/dev/sd${'abcdefgh'[i]}1`, mounts: [{ device: `/dev/sd${'abcdefgh'[i]}1`, mountpoint: '/' }] }] } },
            );
          },
          async runScript(root: RootMounts, scriptPath: string, onLine: (l: string) => void, how?: ScriptRun) {
            const jobId = path.basename(path.dirname(scriptPath));
            world.calls.push(`run ${jobId} ${root.root}`);
            world.runs[jobId] = { parts: how?.parts, signal: how?.signal instanceof AbortSignal };
            world.scriptModes[jobId] = statSync(scriptPath).mode & 0o777;
            expect(readFileSync(scriptPath, 'utf8')).toContain(`# ${jobId}`);
            const play = opts.plays?.[jobId] ?? {};
            await play.hold;
            (play.lines ?? ['ovirt-sysprep-step: machine-id', 'ovirt-sysprep-step: customize']).forEach(onLine);
            return play.error ? { ok: false as const, error: play.error } : { ok: true as const };
          },
          async close() {
            world.calls.push('close');
          },
        };
      },
    };
    const runAlone: Runner = async (job) => {
      world.calls.push(`alone ${job.id}`);
      world.alone.push(job.id);
      job.onProgress({ kind: 'operation', elapsed: 1, operation: 'machine-id' });
    };
    const origCommit = deps.overlays.commit.bind(deps.overlays);
    deps.overlays.commit = async (set) => {
      world.calls.push(`commit ${path.basename(set.dir)}`);
      return origCommit(set);
    };
    const batchDeps: BatchDeps = { execution: deps, scripter, sessions, toolVersion: 'virt-sysprep 1.48.2', runAlone };
    const jobs = new JobManager(
      { hostId: 'h', maxJobs: 2, defaultTimeoutSec: 60, defaultMode: 'safe', logDir: path.join(dir, 'log'), operations: ['machine-id', 'customize'].map((name) => ({ name, description: '', defaultEnabled: true })), maxBatchSize: 8, batchGatherMs: 60_000 },
      new Journal(path.join(dir, 'jobs')),
      checker,
      runAlone,
      log,
      (id, members) => executeBatch(batchDeps, id, members),
    );
    return { world, jobs };
  }

  const request = (jobId: string, size: number, extra: Record<string, unknown> = {}) => ({
    jobId, disks: [{ path: disk(jobId) }], spec: { only: ['machine-id'], params: { hostname: `host-${jobId}` } }, batch: { id: 'b1', size }, ...extra,
  });

  async function untilFinal(jobs: JobManager, ids: string[]): Promise<JobRecord[]> {
    for (let i = 0; i < 300; i++) {
      const recs = ids.map((id) => jobs.get(id));
      if (recs.every((r) => ['SUCCEEDED', 'INCOMPLETE', 'FAILED', 'CANCELLED'].includes(r.state))) return recs;
      await tick(20);
    }
    throw new Error(`not final: ${ids.map((id) => `${id}=${jobs.get(id).state}`).join(' ')}`);
  }

  it('three members in ONE session, each on its own overlays, scripts one after another, commits only after the session closed', async () => {
    const { world, jobs } = setup({ plays: { b: { lines: ['ovirt-sysprep-step: machine-id', `warning: ${HOSTNAME_NOT_SET}`, 'warning: random seed could not be set for this type of guest', 'ovirt-sysprep-step: customize', 'hash-of-b leaked?'] } } });
    for (const id of ['a', 'b', 'c']) await jobs.start(request(id, 3));
    const [a, b, c] = await untilFinal(jobs, ['a', 'b', 'c']);
    expect(world.opened).toHaveLength(1);
    expect(world.opened[0].map((m) => m.key)).toEqual(['a', 'b', 'c']); // member order
    world.opened[0].forEach((m) => expect(m.disks).toEqual([path.join(dir, 'overlays', m.key, 'disk0.qcow2')]));
    expect(world.calls.filter((x) => x.startsWith('run'))).toEqual(['run a /dev/sda1', 'run b /dev/sdb1', 'run c /dev/sdc1']);
    const close = world.calls.indexOf('close');
    expect(world.calls.filter((x) => x.startsWith('commit')).sort()).toEqual(['commit a', 'commit b', 'commit c']);
    world.calls.filter((x) => x.startsWith('commit')).forEach((x) => expect(world.calls.indexOf(x)).toBeGreaterThan(close));
    expect(world.calls.filter((x) => x.startsWith('script'))).toEqual(expect.arrayContaining(['script a virt-sysprep 1.48.2']));
    expect(Object.values(world.scriptModes)).toEqual([0o600, 0o600, 0o600]);
    expect(Object.values(world.runs)).toEqual([0, 1, 2].map(() => ({ parts: 2, signal: true })));
    for (const r of [a, c]) expect(r).toMatchObject({ state: 'SUCCEEDED', batch: { id: 'b1', batched: true, aloneReason: '' } });
    expect(a.steps.map((s) => [s.operation, s.state])).toEqual([['machine-id', 'done'], ['customize', 'done']]);
    // b's warnings, decided as in a per-VM run (toolWarnings.ts): its hostname script's line makes it INCOMPLETE.
    expect(b).toMatchObject({ state: 'INCOMPLETE', batch: { batched: true }, warnings: [{ message: HOSTNAME_NOT_SET, field: 'params.hostname' }, { message: 'random seed could not be set for this type of guest', field: '' }] });
    const bLog = readFileSync(b.logPath, 'utf8');
    expect(bLog).toContain('# batch b1');
    expect(bLog).not.toContain('hash-of-b'); // the script's secrets are cut from the member's log
    expect(world.alone).toEqual([]);
    // Nothing left behind: overlays discarded, private files removed, leases released.
    expect(existsSync(path.join(dir, 'overlays', 'a'))).toBe(false);
    expect(existsSync(path.join(secrets.dir, 'a'))).toBe(false);
    expect(await deps.leases.holder({ real: path.join(images, 'a.qcow2'), root: images })).toBeNull();
  });

  it('decides per member: not a candidate, no batch form, refused by the plan, failed script => alone (after the session, one by one), with its reason', async () => {
    const { world, jobs } = setup({
      unbatchable: { u: 'operation "lvm-uuids" has no batch form' },
      planAlone: { p: 'fstab line 2: UUID=1234 is on no disk of this VM' },
      plays: { f: { lines: ['ovirt-sysprep-step: machine-id', 'warning: something odd'], error: 'sh: exit status 1' } },
    });
    await jobs.start(request('ok', 5));
    await jobs.start(request('u', 5));
    await jobs.start(request('p', 5));
    await jobs.start(request('f', 5));
    await jobs.start(request('inplace', 5, { mode: 'IN_PLACE' }));
    const [ok, u, p, f, inplace] = await untilFinal(jobs, ['ok', 'u', 'p', 'f', 'inplace']);
    expect(world.opened[0].map((m) => m.key)).toEqual(['ok', 'p', 'f']); // u and inplace never joined
    expect(ok.batch).toEqual({ id: 'b1', batched: true, aloneReason: '' });
    expect(u.batch).toEqual({ id: 'b1', batched: false, aloneReason: 'operation "lvm-uuids" has no batch form' });
    expect(p.batch).toEqual({ id: 'b1', batched: false, aloneReason: 'fstab line 2: UUID=1234 is on no disk of this VM' });
    expect(f.batch).toEqual({ id: 'b1', batched: false, aloneReason: expect.stringMatching(/batch script failed \(sh: exit status 1\): retried alone/) });
    expect(inplace.batch?.aloneReason).toMatch(/IN_PLACE/);
    for (const r of [u, p, f, inplace]) expect(r.state).toBe('SUCCEEDED');
    // The retried member starts over: the batched attempt's steps and warnings are gone.
    expect(f.steps.map((s) => s.operation)).toEqual(['machine-id']);
    expect(f.warnings).toEqual([]);
    // Alone runs come after the session closed; the failed member's batched overlays were never committed.
    const close = world.calls.indexOf('close');
    world.calls.filter((x) => x.startsWith('alone')).forEach((x) => expect(world.calls.indexOf(x)).toBeGreaterThan(close));
    expect(world.alone.sort()).toEqual(['f', 'inplace', 'p', 'u']);
    expect(world.calls.filter((x) => x.startsWith('commit'))).toEqual(['commit ok']);
  });

  it('a session that cannot open: every seated member is retried alone, nobody fails for it', async () => {
    const { world, jobs } = setup({ openError: 'appliance did not start' });
    await jobs.start(request('a', 2));
    await jobs.start(request('b', 2));
    const recs = await untilFinal(jobs, ['a', 'b']);
    recs.forEach((r) => expect(r).toMatchObject({ state: 'SUCCEEDED', batch: { batched: false, aloneReason: expect.stringMatching(/session failed \(appliance did not start\)/) } }));
    expect(world.alone.sort()).toEqual(['a', 'b']);
    expect(world.calls.filter((x) => x.startsWith('commit'))).toEqual([]);
  });

  it('a member cancelled during its script: its overlays discarded, not committed, CANCELLED; the others go on', async () => {
    let release!: () => void;
    const hold = new Promise<void>((r) => (release = r));
    const { world, jobs } = setup({ plays: { a: { hold } } });
    await jobs.start(request('a', 2));
    await jobs.start(request('b', 2));
    for (let i = 0; i < 200 && !world.calls.includes('run a /dev/sda1'); i++) await tick(10);
    jobs.cancel('a');
    release();
    const [a, b] = await untilFinal(jobs, ['a', 'b']);
    expect(a.state).toBe('CANCELLED');
    expect(b).toMatchObject({ state: 'SUCCEEDED', batch: { batched: true } });
    expect(world.calls).not.toContain('run a /dev/sda2');
    expect(world.calls.filter((x) => x.startsWith('commit'))).toEqual(['commit b']);
    expect(world.alone).toEqual([]);
    expect(existsSync(path.join(dir, 'overlays', 'a'))).toBe(false);
  });

  it('a member whose lease is held elsewhere fails alone (LEASE_HELD); the batch goes on without it', async () => {
    const { world, jobs } = setup();
    const held = disk('taken');
    const other = await deps.leases.acquireAll([{ real: held, root: images }], 'someone-else', () => undefined);
    try {
      await jobs.start(request('a', 2));
      await jobs.start({ ...request('t', 2), disks: [{ path: held }] });
      const [a, t] = await untilFinal(jobs, ['a', 't']);
      expect(a).toMatchObject({ state: 'SUCCEEDED', batch: { batched: true } });
      expect(t).toMatchObject({ state: 'FAILED', error: { code: 'LEASE_HELD' } });
      expect(world.opened[0].map((m) => m.key)).toEqual(['a']);
    } finally {
      await deps.leases.releaseAll(other);
    }
  });
});
