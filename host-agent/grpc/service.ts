// The HostAgent gRPC service: a thin translation between wire messages and the
// JobManager. Typed errors become gRPC statuses here, once (shared/grpc.ts).
import * as grpc from '@grpc/grpc-js';
import { describeCustomizations } from '../../shared/catalog/customizations';
import { asSysprepError, InputError, SysprepError } from '../../shared/errors';
import { toCallError, toServiceError } from '../../shared/grpc';
import type { Logger } from '../../shared/logger';
import type { Capabilities, HostAgentHandlers, ReceivedStartSysprepRequest, StartReply } from '../../shared/wireTypes';
import { fromWireParams } from '../../shared/wireParams';
import { Inspector } from '../inspector';
import { CheckedDisk, DiskChecker, openedAs } from '../storage/diskCheck';
import { diskGeneration } from '../storage/diskGeneration';
import { JobManager, StartRequest } from '../jobs/JobManager';
import { readJobLog } from '../jobs/readJobLog';
import { FINAL, JobEventRecord, JobRecord } from '../jobs/types';

export interface ServiceDeps {
  jobs: JobManager;
  /** The disk check of every request that names disks (StartSysprep through the JobManager). */
  disks: DiskChecker;
  inspector: Inspector;
  capabilities(): Promise<Capabilities>;
  operations: { name: string; description: string; defaultEnabled: boolean }[];
  virtSysprepVersion: string;
  logger: Logger;
}

/** The wire view of a job: the record without agent-internal fields. */
function toWire(job: JobRecord) {
  const { paramKeys: _k, timeoutSec: _t, toolPid: _p, ...wire } = job;
  return wire;
}

/** The wire view of a checked disk (DiskCheck). */
function toDiskCheck(d: CheckedDisk) {
  return {
    path: d.path,
    realPath: d.real,
    storageRoot: d.root,
    format: d.format,
    virtualSize: d.virtualSize,
    actualSize: d.actualSize,
    backingFile: d.backingFile,
    inUse: d.inUse,
  };
}

/** The typed error of a failed call; an unexpected one is logged (once, here). */
function typed(logger: Logger, err: unknown): SysprepError {
  const e = asSysprepError(err);
  if (e.kind === 'internal') logger.error('unexpected error', { error: String(err), stack: (err as Error).stack });
  return e;
}

function unary<Req, Res>(logger: Logger, fn: (req: Req) => Promise<Res> | Res): grpc.handleUnaryCall<Req, Res> {
  return (call, callback) => {
    Promise.resolve()
      .then(() => fn(call.request))
      .then((res) => callback(null, res))
      .catch((err) => callback(toServiceError(typed(logger, err))));
  };
}

/**
 * A stream of requests each answered once by a reply naming it (`{ jobId, job }` or
 * `{ jobId, error }`), in the order they finish. The server ends after the caller has
 * ended and every reply is written.
 */
function replies<Req extends { jobId: string }, Res>(logger: Logger, fn: (req: Req) => Promise<Res>): grpc.handleBidiStreamingCall<Req, { jobId: string; job?: Res; error?: StartReply['error'] }> {
  return (call) => {
    let open = 0;
    let ended = false;
    const settle = (reply: { jobId: string; job?: Res; error?: StartReply['error'] }) => {
      open--;
      if (!call.cancelled) call.write(reply);
      if (ended && open === 0) call.end();
    };
    call.on('data', (req: Req) => {
      open++;
      Promise.resolve()
        .then(() => fn(req))
        .then((job) => settle({ jobId: req.jobId, job }), (err) => settle({ jobId: req.jobId, error: toCallError(typed(logger, err)) }));
    });
    call.on('end', () => {
      ended = true;
      if (open === 0) call.end();
    });
  };
}

/** Writes messages (events, log chunks) to a server stream (with back-pressure) until they end or the caller cancels. */
function pipeEvents<T>(call: grpc.ServerWritableStream<unknown, T>, events: (signal: AbortSignal) => AsyncIterable<T>): void {
  const controller = new AbortController();
  const { signal } = controller;
  call.on('cancelled', () => controller.abort());
  (async () => {
    for await (const event of events(signal)) {
      if (!call.write(event)) {
        await new Promise((r) => {
          call.once('drain', r);
          signal.addEventListener('abort', r, { once: true });
        });
      }
    }
    if (!signal.aborted) call.end();
  })().catch((err) => call.emit('error', toServiceError(asSysprepError(err))));
}

const MAX_BATCH_MS = 1000;

/** A job's final state frees a slot the engine waits to fill: it never waits for a batch. */
const urgent = (e: JobEventRecord) => e.type === 'state' && FINAL.has(e.state);

/**
 * Writes events in batches: the first at once, then at most one message per `batchMs`
 * (events that come meanwhile wait for the next; a final state goes at once, with what
 * waits), until the caller cancels.
 */
function pipeBatches(call: grpc.ServerWritableStream<unknown, { events: JobEventRecord[] }>, batchMs: number, events: (signal: AbortSignal) => AsyncIterable<JobEventRecord>): void {
  const controller = new AbortController();
  const { signal } = controller;
  call.on('cancelled', () => controller.abort());
  let batch: JobEventRecord[] = [];
  let timer: NodeJS.Timeout | undefined;
  let lastSent = 0;
  const send = () => {
    timer = undefined;
    if (batch.length === 0 || signal.aborted) return;
    lastSent = Date.now();
    call.write({ events: batch });
    batch = [];
  };
  (async () => {
    for await (const event of events(signal)) {
      batch.push(event);
      const wait = urgent(event) ? 0 : lastSent + batchMs - Date.now();
      if (wait <= 0) {
        clearTimeout(timer);
        send();
      } else {
        timer ??= setTimeout(send, wait);
      }
    }
  })()
    .catch((err) => call.emit('error', toServiceError(asSysprepError(err))))
    .finally(() => clearTimeout(timer));
}

/** The job's log as LogChunk messages. */
async function* logChunks(job: JobRecord, signal: AbortSignal): AsyncGenerator<{ data: Buffer }> {
  for await (const data of readJobLog(job, signal)) yield { data };
}

/**
 * The wire request as the JobManager takes it: params decoded from their two Struct
 * fields once (shared/wireParams.ts), validated later with the rest (validateStart).
 */
function toStartRequest(req: ReceivedStartSysprepRequest): StartRequest {
  if (req.spec?.paramsJson) {
    throw new InputError('spec.params_json', 'is no longer accepted: send the customisations in spec.params and spec.secret_params (an engine older than this agent: upgrade it)', 'PARAMS_JSON_UNSUPPORTED');
  }
  return {
    jobId: req.jobId,
    disks: req.disks,
    spec: { enable: req.spec?.enable, disable: req.spec?.disable, only: req.spec?.only, params: fromWireParams(req.spec) },
    mode: req.mode,
    dryRun: req.dryRun,
    timeoutSeconds: req.timeoutSeconds,
    requestedBy: req.requestedBy,
    labels: req.labels,
    action: req.action,
    batch: req.batch,
  };
}

export function createHandlers(deps: ServiceDeps): HostAgentHandlers {
  const { jobs, logger } = deps;
  const start = async (req: ReceivedStartSysprepRequest) => toWire(await jobs.start(toStartRequest(req)));
  const customizations = describeCustomizations().map((c) => ({ ...c, schemaJson: JSON.stringify(c.schema) }));
  return {
    GetCapabilities: unary(logger, () => deps.capabilities()),
    ListOperations: unary(logger, () => ({
      operations: deps.operations,
      customizations,
      virtSysprepVersion: deps.virtSysprepVersion,
    })),
    Inspect: unary(logger, async (req) => {
      const disks = await deps.disks.check(req.disks, 'refuse');
      // Read before the inspection: a write during it makes the result stale, never the reverse.
      const diskGenerations = await Promise.all(disks.map((d) => diskGeneration(d.real)));
      return { ...(await deps.inspector.inspect(disks.map(openedAs))), diskGenerations };
    }),
    CheckDisks: unary(logger, async (req) => ({
      disks: await Promise.all((await deps.disks.check(req.disks, 'report')).map(async (d) => ({ ...toDiskCheck(d), generation: await diskGeneration(d.real) }))),
    })),
    StartSysprep: unary(logger, start),
    StartSysprepStream: replies(logger, start),
    GetJob: unary(logger, (req) => toWire(jobs.get(req.jobId))),
    ListJobs: unary(logger, (req) => ({ jobs: jobs.list(req.states).map(toWire) })),
    CancelJob: unary(logger, (req) => toWire(jobs.cancel(req.jobId))),
    WatchJob: (call) => pipeEvents(call, (signal) => jobs.watch(call.request.jobId, call.request.afterSeq, signal)),
    GetJobLog: (call) => pipeEvents(call, (signal) => logChunks(jobs.get(call.request.jobId), signal)),
    WatchJobs: (call) => pipeBatches(call, Math.min(call.request.batchMs ?? 0, MAX_BATCH_MS), (signal) => jobs.watchAll(call.request.cursors ?? [], signal)),
  };
}
