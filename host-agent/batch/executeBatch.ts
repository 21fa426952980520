// The run of one batch (issue 16, decision 53): the members' VMs in ONE libguestfs
// appliance (one guestfish session), each VM on its own overlays and committed on its
// own. Each member keeps everything a job has (its leases, overlays, private files,
// record, journal, events, cancel, timeout); only the appliance is shared.
//
// Per member, in its own guarded() scope (storage/guarded.ts: released in reverse
// however it ends):
//  1. not a candidate (IN_PLACE mode, dry run, not a sysprep) => alone;
//  2. its leases (a lease that fails fails THIS member, as a job's would), the in-use
//     probe, its overlays;
//  3. its argv exactly as executeJob builds it for the VM alone (trace off) -> its batch
//     script (BatchScripter, contract A); no batch form => alone, with the reason;
//  4. its files and the script into its 0600 private directory; it takes its seat in the
//     shared session (BatchSessions, contract B), which opens once every member has
//     taken or given up its seat, on the seated members' overlays in member order;
//  5. the session's plan for it (its roots, mounted from its OWN devices only) or why
//     not (=> alone); its script in each root: `ovirt-sysprep-step: NAME` lines are its
//     progress, `warning:` lines its warnings; a failed script (or session) => alone;
//  6. when the session is closed (the appliance holds every overlay open and locked until
//     then): leases still its own, commit.
// A member "alone" (steps 1, 3, 5, or its batched attempt failed) has given back all it
// held; it then runs as any job (the runner for one job: executeJob, fresh overlays)
// after the session closed, in the batch's slot, one after another. A cancelled member
// skips what is left, its overlays are discarded, the others go on.
import { createWriteStream, mkdirSync, WriteStream } from 'node:fs';
import * as path from 'node:path';
import { JobFailure, SysprepError } from '../../shared/errors';
import type { Logger } from '../../shared/logger';
import type { AgentJob, JobWork, MemberRun, Runner } from '../jobs/AgentJob';
import { assertNotInUse, ExecutionDeps, secretStrings } from '../jobs/executeJob';
import { openedAs } from '../storage/diskCheck';
import { guarded } from '../storage/guarded';
import { buildArgv } from '../sysprep/argv';
import { parseWarningLine } from '../sysprep/progress';
import { abortReason } from '../sysprep/runner';
import { TraceRedactor } from '../sysprep/traceRedaction';
import { hasWindowsParams } from '../windows/guestfishPlan';
import type { BatchScripter, BatchSessions, MemberPlan } from './ports';
import { Seat, SharedSession } from './sharedSession';

export interface BatchDeps {
  execution: ExecutionDeps;
  scripter: BatchScripter;
  sessions: BatchSessions;
  /** `virt-sysprep --version` of the host (the scripts follow the installed tool). */
  toolVersion: string;
  /** The run of one job (executeJob; executeSparsify for a sparsify member): what "alone" means. */
  runAlone: Runner;
}

/** The name of the member's script in its private directory. */
export const SCRIPT_NAME = 'batch-script.sh';
const STEP = /^ovirt-sysprep-step: ([a-z0-9-]+)\s*$/;

type Outcome = { batched: true } | { alone: string; retried?: boolean };

/** One promise per member (in order), each settling when that member's job is done. */
export function executeBatch(deps: BatchDeps, batchId: string, members: MemberRun[]): Promise<void>[] {
  const logger = deps.execution.logger.child({ batchId });
  const sessionLog = path.join(path.dirname(members[0].job.record.logPath), 'batches', `${batchId}.log`);
  mkdirSync(path.dirname(sessionLog), { recursive: true, mode: 0o750 });
  const session = new SharedSession(deps.sessions, members.length, {
    env: () => deps.execution.hypervisor.env(),
    logPath: sessionLog,
    timeoutMs: Math.max(...members.map((m) => m.job.record.timeoutSec)) * 1000,
    logger,
  });
  let alone = Promise.resolve();
  const runAlone = (run: MemberRun, reason: string, retried: boolean) => {
    run.job.batchOutcome({ id: batchId, batched: false, aloneReason: reason });
    const turn = alone.then(async () => {
      await session.closed;
      run.signal.throwIfAborted();
      if (retried) run.job.retryingAlone();
      logger.info('batch member runs alone', { jobId: run.job.id, reason });
      await deps.runAlone(run.job, run.work, run.signal);
    });
    alone = turn.catch(() => undefined);
    return turn;
  };
  return members.map(async (run, index) => {
    const outcome = await attempt(deps, batchId, run, index, session, sessionLog, logger);
    if ('alone' in outcome) return runAlone(run, outcome.alone, !!outcome.retried);
    run.job.batchOutcome({ id: batchId, batched: true, aloneReason: '' });
  });
}

/** Why a member cannot be batched whatever its argv, or null. */
function notACandidate(job: AgentJob, work: JobWork): string | null {
  const r = job.record;
  if ((r.action ?? 'sysprep') !== 'sysprep') return `action ${r.action} is not batched`;
  if (r.mode !== 'SAFE') return 'IN_PLACE mode is not batched (a batched VM is committed from its overlays only when it succeeded)';
  if (r.dryRun) return 'a dry run is not batched';
  if (!r.operations.length) return 'no virt-sysprep operation selected';
  // Not in the argv: executeJob runs them in a guestfish session of their own.
  if (hasWindowsParams(work.spec.params)) return 'Windows customisations are not batched';
  return null;
}

/** The member's batched attempt, steps 1-6 of the header. Throws when the member fails (its job fails). */
async function attempt(deps: BatchDeps, batchId: string, run: MemberRun, index: number, session: SharedSession, sessionLog: string, batchLogger: Logger): Promise<Outcome> {
  const { job, work } = run;
  const { execution: x } = deps;
  const jobId = job.id;
  const logger = batchLogger.child({ jobId });
  const seat = session.seat(index);
  const deadline = memberDeadline(job.record.timeoutSec * 1000);
  const signal = AbortSignal.any([run.signal, deadline.signal]);
  try {
    const why = notACandidate(job, work);
    if (why) return { alone: why };
    return await guarded(logger, async (hold): Promise<Outcome> => {
      const leases = await hold('leases', () => x.leases.acquireAll(work.disks, jobId, (err) => job.abort(err)), (held) => x.leases.releaseAll(held));
      await assertNotInUse(x.qemuImg, work.disks);
      signal.throwIfAborted();
      const overlays = await hold('overlays', () => x.overlays.create(jobId, work.disks.map(openedAs)), (o) => x.overlays.discard(o));
      const filesDir = x.secrets.jobDir(jobId);
      const plan = buildArgv({ disks: overlays.disks, spec: work.spec, dryRun: false, filesDir, trace: false });
      // A generator that fails (a password it cannot hash...) costs this VM its batching, not its run.
      const script = await deps.scripter.script({ argv: plan.argv, files: plan.files, toolVersion: deps.toolVersion }).catch((err: Error) => ({ batchable: false as const, reason: `no batch script: ${err.message}` }));
      if (!script.batchable) return { alone: script.reason };
      const scriptPath = path.join(filesDir, SCRIPT_NAME);
      await hold('private files', () => x.secrets.write(jobId, [...plan.files, { path: scriptPath, content: script.script }]), () => x.secrets.remove(jobId));
      signal.throwIfAborted();

      let memberPlan: MemberPlan | { alone: string };
      try {
        memberPlan = await untilAborted(seat.join({ key: jobId, disks: overlays.disks }, { launching: () => job.spawned(0), opened: (pid) => opened(job, pid) }), signal);
      } catch (err) {
        if (signal.aborted) throw err;
        return { alone: `the batch session failed (${(err as Error).message}): retried alone`, retried: true };
      }
      if ('alone' in memberPlan) return { alone: memberPlan.alone };
      if (!memberPlan.roots.length) return { alone: 'no operating system root found on its own disks' };

      const secrets = [...script.secrets, ...plan.files.map((f) => f.content), ...secretStrings(work.spec.params)];
      const failed = await runRoots(job, memberPlan, { path: scriptPath, parts: script.parts }, seat, signal, secrets, batchId, sessionLog);
      seat.leave(); // its scripts are done: the session may close once the others' are
      if (failed) {
        logger.warn('batch script failed: the member is retried alone', { error: failed });
        return { alone: `its batch script failed (${failed}): retried alone`, retried: true };
      }
      await untilAborted(session.closed, signal);
      signal.throwIfAborted();
      await x.leases.assertHeld(leases, jobId);
      job.committing();
      await x.overlays.commit(overlays);
      return { batched: true };
    });
  } catch (err) {
    // The member's own cancel or lease loss ends its job (AgentJob reads its signal); its timeout is this error.
    throw deadline.signal.aborted && !run.signal.aborted ? abortReason(deadline.signal) : err;
  } finally {
    seat.leave();
    deadline.clear();
  }
}

/** The session is up: the member's appliance phase (a pid is journaled so a restarted agent can stop an orphan). */
function opened(job: AgentJob, pid: number | undefined): void {
  if (pid) job.spawned(pid);
  job.onProgress({ kind: 'appliance-up' });
}

/**
 * The member's script in each of its roots, one after another, part by part (each part's
 * steps reach its job when that part ends); its output into the member's own log
 * (redacted), steps and warnings onto its job. The first failure, or null.
 */
async function runRoots(job: AgentJob, plan: MemberPlan, script: { path: string; parts: number }, seat: Seat, signal: AbortSignal, secrets: string[], batchId: string, sessionLog: string): Promise<string | null> {
  const log: WriteStream = createWriteStream(job.record.logPath, { flags: 'a', mode: 0o640 });
  const redactor = new TraceRedactor(secrets);
  const started = Date.now();
  log.write(`# batch ${batchId}: one guestfish session for the batch (its log: ${sessionLog}); this VM's roots: ${plan.roots.map((r) => r.root).join(', ')}\n`);
  const onLine = (line: string) => {
    const redacted = redactor.redact(line);
    log.write(redacted + '\n');
    const step = STEP.exec(line);
    if (step) return job.onProgress({ kind: 'operation', elapsed: (Date.now() - started) / 1000, operation: step[1] });
    const warning = parseWarningLine(redacted);
    if (warning !== null) job.onWarning(warning);
  };
  try {
    for (const root of plan.roots) {
      signal.throwIfAborted(); // a cancelled member's remaining roots are skipped
      log.write(`# root ${root.root}: ${root.mounts.map((m) => `${m.device} on ${m.mountpoint}`).join(', ')}\n`);
      const result = await seat.runScript(root, script.path, onLine, { parts: script.parts, signal });
      signal.throwIfAborted(); // cancelled between two parts: not a failure to retry alone
      if (!result.ok) {
        log.write(`# root ${root.root}: failed: ${redactor.redact(result.error)}\n`);
        return redactor.redact(result.error);
      }
    }
    return null;
  } catch (err) {
    if (signal.aborted) throw err;
    return redactor.redact((err as Error).message);
  } finally {
    await new Promise<void>((resolve) => log.end(resolve));
  }
}

/** A member's time limit (its job's timeout_seconds) over its batched attempt. */
function memberDeadline(ms: number): { signal: AbortSignal; clear(): void } {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new JobFailure('TIMEOUT', `the batched run did not finish within ${Math.round(ms / 1000)} s`)), ms);
  timer.unref?.();
  return { signal: controller.signal, clear: () => clearTimeout(timer) };
}

/** `promise`, or the signal's reason as soon as it aborts (a cancelled member does not wait for the session). */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason as SysprepError);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}
