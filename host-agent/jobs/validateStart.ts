// The verb's validation (vdsm: a verb validates before it creates a job): a StartSysprep
// request becomes a job record and its work, or a typed error naming the field at fault.
// Everything is checked here even though the engine checked it too: the agent is a
// trust boundary. The params arrive already decoded from the wire (shared/wireParams.ts)
// and are validated once, with the operations, against the catalog (resolveSpec).
import * as path from 'node:path';
import { OperationInfo } from '../../shared/catalog/operations';
import { SPARSIFY_FORMATS } from '../../shared/diskFormats';
import { InputError } from '../../shared/errors';
import { resolveSpec } from '../../shared/spec';
import { CheckedDisk, DiskChecker, openedAs } from '../storage/diskCheck';
import type { JobWork } from './AgentJob';
import { sparsifyStep } from './executeSparsify';
import { JobAction, JobRecord, ModeName } from './types';

export interface StartRequest {
  jobId: string;
  disks: { path: string; format?: string }[];
  spec: { enable?: string[]; disable?: string[]; only?: string[]; params: Record<string, unknown> };
  mode?: string;
  dryRun?: boolean;
  timeoutSeconds?: number;
  requestedBy?: string;
  labels?: Record<string, string>;
  /** "" or "sysprep" (default), or "sparsify" (executeSparsify.ts). */
  action?: string;
  /** Batch mode (issue 16): the members of one batch carry the same id and size (checkBatchRef). */
  batch?: { id?: string; size?: number } | null;
}

/** A checked batch reference. */
export interface BatchRef {
  id: string;
  size: number;
}

export interface StartDefaults {
  hostId: string;
  defaultTimeoutSec: number;
  defaultMode: 'safe' | 'in_place';
  logDir: string;
  operations: OperationInfo[];
  /** The agent's max_batch_size (0: batch mode off). */
  maxBatchSize: number;
}

const JOB_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const MAX_TIMEOUT_SEC = 24 * 3600;

/** Synchronous part, so that a bad id is refused before anything else runs. */
export function checkJobId(id: unknown): asserts id is string {
  if (typeof id !== 'string' || !JOB_ID.test(id)) {
    throw new InputError('job_id', 'must be 1-128 letters, digits, ".", "_" or "-", starting with a letter or digit');
  }
}

/**
 * The request's batch reference, or undefined when it has none (an empty id: the wire's
 * unset message). Synchronous, before anything else of the request is checked: a member
 * the agent cannot batch is refused whole, never silently run alone.
 */
export function checkBatchRef(batch: StartRequest['batch'], maxBatchSize: number): BatchRef | undefined {
  if (!batch || (!batch.id && !batch.size)) return undefined;
  const size = batch.size ?? 0;
  if (maxBatchSize === 0) throw new InputError('batch.size', 'batch mode is off on this agent (max_batch_size 0): send the job without a batch');
  if (!Number.isInteger(size) || size < 1 || size > maxBatchSize) throw new InputError('batch.size', `must be from 1 to ${maxBatchSize} (this agent's max_batch_size)`);
  if (typeof batch.id !== 'string' || !JOB_ID.test(batch.id)) {
    throw new InputError('batch.id', 'must be 1-128 letters, digits, ".", "_" or "-", starting with a letter or digit');
  }
  return { id: batch.id, size };
}

export async function validateStart(req: StartRequest, d: StartDefaults, diskChecker: DiskChecker): Promise<{ record: JobRecord; work: JobWork }> {
  checkJobId(req.jobId);
  const action = parseAction(req.action);
  if (action === 'sparsify') checkSparsifyRequest(req);
  const disks = await diskChecker.check(req.disks, 'refuse');
  if (action === 'sparsify') checkSparsifyFormats(disks);
  const spec = action === 'sparsify'
    ? { operations: disks.map((_, i) => sparsifyStep(i)), params: {} }
    : resolveSpec({ operations: { enable: req.spec?.enable, disable: req.spec?.disable, only: req.spec?.only }, params: req.spec?.params }, d.operations);
  const mode = action === 'sparsify' ? 'IN_PLACE' : parseMode(req.mode, d.defaultMode);
  const timeoutSec = req.timeoutSeconds || d.defaultTimeoutSec;
  if (timeoutSec > MAX_TIMEOUT_SEC) throw new InputError('timeout_seconds', `must be at most ${MAX_TIMEOUT_SEC}`);

  const now = new Date().toISOString();
  const record: JobRecord = {
    id: req.jobId,
    action,
    state: 'PENDING',
    disks: disks.map(openedAs),
    operations: spec.operations,
    mode,
    dryRun: !!req.dryRun,
    createdAt: now,
    startedAt: '',
    endedAt: '',
    progress: { done: 0, total: spec.operations.length, current: '', phase: 'queued', phaseSince: now },
    steps: [],
    error: null,
    logPath: path.join(d.logDir, `${req.jobId}.log`),
    requestedBy: req.requestedBy ?? '',
    labels: req.labels ?? {},
    hostId: d.hostId,
    paramKeys: Object.keys(spec.params),
    timeoutSec,
  };
  return { record, work: { spec, disks } };
}

function parseAction(action: string | undefined): JobAction {
  if (!action || action === 'sysprep') return 'sysprep';
  if (action === 'sparsify') return 'sparsify';
  throw new InputError('action', 'must be "sysprep" or "sparsify"');
}

/** A sparsify job runs no virt-sysprep: operations, customisations and safe mode do not apply. */
function checkSparsifyRequest(req: StartRequest): void {
  const s = req.spec ?? { params: {} };
  for (const key of ['enable', 'disable', 'only'] as const) {
    if (s[key]?.length) throw new InputError(`spec.${key}`, 'does not apply to a sparsify job (it runs virt-sparsify, no operation)');
  }
  const keys = Object.keys(s.params ?? {});
  if (keys.length) throw new InputError(`spec.params.${keys[0]}`, 'does not apply to a sparsify job (it runs virt-sparsify, no customisation)');
  if (req.mode === 'SAFE') throw new InputError('mode', 'a sparsify job runs in place only (it frees unused blocks; the guest\'s files are unchanged)');
}

/** virt-sparsify --in-place needs discard, which libguestfs offers on qcow2 and raw only. */
function checkSparsifyFormats(disks: CheckedDisk[]): void {
  disks.forEach((d, i) => {
    if (!SPARSIFY_FORMATS.includes(d.format)) {
      throw new InputError(`disks[${i}].path`, `${d.real} is a ${d.format} image: sparsify works on qcow2 and raw disks only (virt-sparsify --in-place needs discard, which qemu does not support for ${d.format} files)`, 'UNSUPPORTED_FORMAT');
    }
  });
}

function parseMode(mode: string | undefined, fallback: 'safe' | 'in_place'): ModeName {
  if (!mode || mode === 'MODE_UNSPECIFIED') return fallback === 'in_place' ? 'IN_PLACE' : 'SAFE';
  if (mode === 'SAFE' || mode === 'IN_PLACE') return mode;
  throw new InputError('mode', 'must be SAFE or IN_PLACE');
}
