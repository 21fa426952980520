// A FAKE host agent for the engine's unit tests: a real gRPC server speaking the
// HostAgent contract over loopback, whose jobs are timers instead of virt-sysprep.
// It records every StartSysprep so tests can prove idempotence and exclusivity.
// Its CheckDisks is a STAND-IN of the real agent's (host-agent/): enough to test what the
// engine does with the answers (confined to its roots after realpath, no "..", a regular
// file, qcow2 told by its magic, "raw" only when declared and for a non-empty file of
// whole 512-byte sectors), without qemu-img; it records every call in checkCalls.
import * as grpc from '@grpc/grpc-js';
import { existsSync, realpathSync } from 'node:fs';
import { open, realpath, stat } from 'node:fs/promises';
import * as path from 'node:path';
import { loadProto } from '../../../shared/grpc';
import { fromWireParams } from '../../../shared/wireParams';

export interface FakeJob {
  id: string;
  state: string;
  disks: { path: string; format: string }[];
  operations: string[];
  params: Record<string, unknown>;
  labels: Record<string, string>;
  requestedBy: string;
  events: Record<string, unknown>[];
  timer?: NodeJS.Timeout;
  startedAt?: number;
  endedAt?: number;
  /** StartSysprepRequest.batch, when the engine sent one. */
  batch?: { id: string; size: number };
}

export interface FakeAgentOptions {
  hostId: string;
  storageRoots: string[];
  /** Time one job runs, ms. */
  jobMs?: number;
  maxJobs?: number;
  /** Disks whose jobs fail with this code. */
  failDisks?: Map<string, string>;
  operations?: string[];
  /** Refuse StartSysprep (NOT_FOUND, DISK_NOT_FOUND) for a disk path that does not exist. */
  refuseMissingDisks?: boolean;
  /** An agent older than StartSysprepStream: the stream is UNIMPLEMENTED. */
  noStartStream?: boolean;
  /** An agent older than CheckDisks: the call is UNIMPLEMENTED. */
  noCheckDisks?: boolean;
  /** Disks CheckDisks reports in use (a running QEMU holds their write lock). */
  inUseDisks?: Set<string>;
  /** The start stream answers this late (ms): a start stays in flight. */
  startReplyDelayMs?: number;
  /** Reported in Capabilities (the agent's min_free_bytes_for_packages); free_bytes is 10 GB. */
  minFreeBytesForPackages?: number;
  /** Time one Inspect takes, ms. */
  inspectMs?: number;
  /** Reported as Capabilities.max_batch_size (default 0: no batch mode). The members of a batch share one slot, as on the real agent. */
  maxBatchSize?: number;
}

const DEFAULT_OPS = ['bash-history', 'customize', 'logfiles', 'machine-id', 'net-hwaddr', 'ssh-hostkeys', 'user-account'];
const DEFAULT_ON = new Set(['bash-history', 'customize', 'logfiles', 'machine-id', 'net-hwaddr', 'ssh-hostkeys']);

export class FakeAgent {
  readonly jobs = new Map<string, FakeJob>();
  readonly startCalls: string[] = [];
  /** The paths of every CheckDisks call, in order. */
  readonly checkCalls: string[][] = [];
  /** The paths of every Inspect call, in order. */
  readonly inspectCalls: string[][] = [];
  /** How each start came: 'unary' (StartSysprep) or 'stream' (StartSysprepStream). */
  readonly startVia: ('unary' | 'stream')[] = [];
  /** Largest number of jobs running at once, and of jobs per disk at once. */
  maxRunning = 0;
  /** Largest number of slots (a job alone, or a batch) in use at once. */
  maxSlots = 0;
  maxPerDisk = 0;
  /** Test knob: live stream events for which this returns true are not sent (a gap). */
  dropLive?: (event: Record<string, unknown>) => boolean;
  address = '';
  private server?: grpc.Server;
  private running = 0;
  private queue: FakeJob[] = [];
  /** WatchJobs streams: every job's events. */
  private readonly watchers = new Set<grpc.ServerWritableStream<unknown, unknown>>();

  constructor(readonly opts: FakeAgentOptions) {}

  async start(port = 0): Promise<string> {
    const proto = loadProto();
    const server = new grpc.Server();
    server.addService(proto.ovirt_sysprep.v1.HostAgent.service, this.handlers() as grpc.UntypedServiceImplementation);
    const bound = await new Promise<number>((resolve, reject) =>
      server.bindAsync(`127.0.0.1:${port}`, grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
    );
    this.server = server;
    this.address = `127.0.0.1:${bound}`;
    return this.address;
  }

  async stop(): Promise<void> {
    for (const j of this.jobs.values()) clearTimeout(j.timer);
    await new Promise<void>((r) => this.server?.tryShutdown(() => r()) ?? r());
    this.server?.forceShutdown();
  }

  /** Simulates a crash: the port closes, jobs stop where they are. */
  kill(): void {
    for (const j of this.jobs.values()) clearTimeout(j.timer);
    this.server?.forceShutdown();
  }

  private wire(j: FakeJob) {
    return {
      id: j.id, state: j.state, disks: j.disks, operations: j.operations, mode: 'SAFE', dryRun: false,
      createdAt: '', startedAt: '', endedAt: '', progress: { done: 0, total: j.operations.length, current: '' },
      steps: [], error: j.state === 'FAILED' ? { code: 'FAKE_FAILURE', message: 'failed', logPath: '', detailsJson: '{}' } : null,
      logPath: '', requestedBy: j.requestedBy, labels: j.labels, hostId: this.opts.hostId,
    };
  }

  private emit(j: FakeJob, e: Record<string, unknown>): void {
    const ev: Record<string, unknown> = { jobId: j.id, seq: j.events.length + 1, at: new Date().toISOString(), operation: '', message: '', progress: null, error: null, ...e };
    j.events.push(ev);
    if (this.dropLive?.(ev)) return;
    for (const w of this.watchers) w.write({ events: [ev] });
  }

  private setState(j: FakeJob, state: string, error?: { code: string; message: string }): void {
    j.state = state;
    if (state === 'RUNNING') this.runningJobs.add(j);
    else this.runningJobs.delete(j);
    this.emit(j, { type: 'state', state, error: error ? { ...error, logPath: '', detailsJson: '{}' } : null });
  }

  /** Slot of a running job: its batch's id, or its own. */
  private readonly slotOf = (j: FakeJob) => j.batch?.id ?? j.id;

  /** Jobs RUNNING now (a set, so a benchmark's 100,000 jobs cost nothing per start). */
  private readonly runningJobs = new Set<FakeJob>();

  private slotsInUse(): Set<string> {
    return new Set([...this.runningJobs].map(this.slotOf));
  }

  private pump(): void {
    this.queue = this.queue.filter((q) => q.state === 'PENDING');
    for (;;) {
      const slots = this.slotsInUse();
      const i = this.queue.findIndex((q) => q.state === 'PENDING' && (slots.has(this.slotOf(q)) || slots.size < (this.opts.maxJobs ?? 2)));
      if (i < 0) break;
      const j = this.queue.splice(i, 1)[0];
      this.maxSlots = Math.max(this.maxSlots, slots.add(this.slotOf(j)).size);
      this.running++;
      this.maxRunning = Math.max(this.maxRunning, this.running);
      const perDisk = [...this.runningJobs].filter((o) => o.disks.some((d) => d.path === j.disks[0].path)).length + 1;
      this.maxPerDisk = Math.max(this.maxPerDisk, perDisk);
      j.startedAt = Date.now();
      this.setState(j, 'RUNNING');
      const ms = this.opts.jobMs ?? 50;
      const ops = j.operations;
      ops.forEach((op, i) => {
        setTimeout(() => {
          if (j.state === 'RUNNING') this.emit(j, { type: 'operation', state: 'RUNNING', operation: op, progress: { done: i, total: ops.length, current: op } });
        }, (ms * (i + 1)) / (ops.length + 1)).unref();
      });
      j.timer = setTimeout(() => {
        this.running--;
        j.endedAt = Date.now();
        const fail = j.disks.map((d) => this.opts.failDisks?.get(d.path)).find(Boolean);
        if (fail) this.setState(j, 'FAILED', { code: fail, message: `fake failure ${fail}` });
        else this.setState(j, 'SUCCEEDED');
        this.pump();
      }, ms);
    }
  }

  /** StartSysprep's work, for either way of calling it; throws a gRPC error object. */
  private startJob(r: any, via: 'unary' | 'stream') {
    this.startCalls.push(r.jobId);
    this.startVia.push(via);
    const existing = this.jobs.get(r.jobId);
    if (existing) return this.wire(existing);
    // Like the real agent: a disk that is not there is refused before any job exists.
    const gone = this.opts.refuseMissingDisks && (r.disks as { path: string }[]).find((d) => !existsSync(d.path));
    if (gone) throw { code: grpc.status.NOT_FOUND, details: `disks[0].path: no such disk: ${gone.path}`, metadata: meta('DISK_NOT_FOUND') };
    const j: FakeJob = {
      id: r.jobId, state: 'PENDING', disks: r.disks, operations: r.spec.only, params: fromWireParams(r.spec),
      labels: r.labels, requestedBy: r.requestedBy, events: [],
      ...(r.batch ? { batch: { id: r.batch.id, size: r.batch.size } } : {}),
    };
    this.jobs.set(j.id, j);
    this.emit(j, { type: 'state', state: 'PENDING' });
    this.queue.push(j);
    this.pump();
    return this.wire(j);
  }

  /** CheckDisks STAND-IN: the first disk at fault fails the call with its reason and field, as the real agent does. */
  private async checkDisks(disks: { path: string; format: string }[]) {
    this.checkCalls.push(disks.map((d) => d.path));
    const roots = this.opts.storageRoots.map((r) => realpathSync(r));
    const checked = [];
    for (const [i, d] of disks.entries()) {
      const field = `disks[${i}].path`;
      const fail = (code: grpc.status, reason: string, message: string) => ({ code, details: `${field}: ${message}`, metadata: meta(reason, { field, path: d.path }) });
      if (d.path.split('/').includes('..')) throw fail(grpc.status.PERMISSION_DENIED, 'PATH_TRAVERSAL', '".." is not allowed');
      const real = await realpath(d.path).catch(() => undefined);
      if (!real) throw fail(grpc.status.NOT_FOUND, 'DISK_NOT_FOUND', `no such disk: ${d.path}`);
      const root = roots.find((r) => real.startsWith(r + path.sep));
      if (!root) throw fail(grpc.status.PERMISSION_DENIED, 'PATH_OUTSIDE_ROOTS', `${d.path} (resolves to ${real}) is outside the storage roots`);
      const st = await stat(real);
      if (!st.isFile()) throw fail(grpc.status.INVALID_ARGUMENT, 'NOT_A_DISK', `${d.path} is not a regular file`);
      const head = Buffer.alloc(4);
      const fh = await open(real, 'r');
      await fh.read(head, 0, 4, 0).finally(() => fh.close());
      const probed = head.toString('latin1') === 'QFI\xfb' ? 'qcow2' : d.format === 'raw' && st.size > 0 && st.size % 512 === 0 ? 'raw' : undefined;
      if (!probed || (d.format && d.format !== probed)) throw fail(grpc.status.INVALID_ARGUMENT, 'NOT_A_DISK', `${d.path} is not a ${d.format || 'qcow2'} disk image`);
      checked.push({ path: d.path, realPath: real, storageRoot: root, format: probed, virtualSize: String(st.size), actualSize: String(st.size), backingFile: '', inUse: this.opts.inUseDisks?.has(real) ?? false, generation: await generation(real) });
    }
    return { disks: checked };
  }

  private handlers() {
    const notFound = (id: string) => ({ code: grpc.status.NOT_FOUND, details: `no job ${id}`, metadata: meta('JOB_NOT_FOUND') });
    return {
      GetCapabilities: (_: unknown, cb: grpc.sendUnaryData<unknown>) =>
        cb(null, {
          hostId: this.opts.hostId, agentVersion: 'fake', virtSysprepVersion: 'fake 1.48', qemuImgVersion: 'fake', hypervisor: 'tcg',
          storageRoots: this.opts.storageRoots.map((p) => ({ path: p, freeBytes: '10000000000', totalBytes: '20000000000' })),
          maxConcurrentJobs: this.opts.maxJobs ?? 2, runningJobs: this.running, blockDevicesAllowed: false, maxBatchSize: this.opts.maxBatchSize ?? 0,
          minFreeBytesForPackages: String(this.opts.minFreeBytesForPackages ?? 1 << 30),
        }),
      ListOperations: (_: unknown, cb: grpc.sendUnaryData<unknown>) =>
        cb(null, {
          operations: (this.opts.operations ?? DEFAULT_OPS).map((name) => ({ name, description: `fake ${name}`, defaultEnabled: DEFAULT_ON.has(name) })),
          customizations: [], virtSysprepVersion: 'fake 1.48',
        }),
      ...(this.opts.noCheckDisks ? {} : {
        CheckDisks: (call: grpc.ServerUnaryCall<any, unknown>, cb: grpc.sendUnaryData<unknown>) => {
          this.checkDisks(call.request.disks).then((r) => cb(null, r), (err) => cb(err));
        },
      }),
      Inspect: (call: grpc.ServerUnaryCall<any, unknown>, cb: grpc.sendUnaryData<unknown>) => {
        const disks: { path: string }[] = call.request.disks;
        this.inspectCalls.push(disks.map((d) => d.path));
        Promise.all(disks.map((d) => realpath(d.path).then(generation)))
          .then((diskGenerations) => setTimeout(() => cb(null, {
            osType: 'linux', distro: 'debian', productName: 'Fake', version: '12.5', hostname: 'golden-image', root: '/dev/sda1', packageFormat: ['deb'],
            details: { arch: 'x86_64', packageManagement: 'apt', users: [{ name: 'root', uid: 0, home: '/root', shell: '/bin/sh' }] }, diskGenerations,
          }), this.opts.inspectMs ?? 0).unref())
          .catch((err) => cb(err));
      },
      StartSysprep: (call: grpc.ServerUnaryCall<any, unknown>, cb: grpc.sendUnaryData<unknown>) => {
        try {
          cb(null, this.startJob(call.request, 'unary'));
        } catch (err) {
          cb(err as Partial<grpc.ServiceError>);
        }
      },
      ...(this.opts.noStartStream ? {} : {
        StartSysprepStream: (call: grpc.ServerDuplexStream<any, unknown>) => {
          call.on('data', (r: any) => {
            let reply: unknown;
            try {
              reply = { jobId: r.jobId, job: this.startJob(r, 'stream') };
            } catch (err) {
              const e = err as { details: string; metadata: grpc.Metadata };
              reply = { jobId: r.jobId, error: { kind: 'not-found', code: String(e.metadata.get('reason')[0]), message: e.details, detailsJson: '{}' } };
            }
            setTimeout(() => call.write(reply), this.opts.startReplyDelayMs ?? 0).unref();
          });
          call.on('end', () => call.end());
        },
      }),
      GetJob: (call: grpc.ServerUnaryCall<any, unknown>, cb: grpc.sendUnaryData<unknown>) => {
        const j = this.jobs.get(call.request.jobId);
        return j ? cb(null, this.wire(j)) : cb(notFound(call.request.jobId));
      },
      ListJobs: (_: unknown, cb: grpc.sendUnaryData<unknown>) => cb(null, { jobs: [...this.jobs.values()].map((j) => this.wire(j)) }),
      CancelJob: (call: grpc.ServerUnaryCall<any, unknown>, cb: grpc.sendUnaryData<unknown>) => {
        const j = this.jobs.get(call.request.jobId);
        if (!j) return cb(notFound(call.request.jobId));
        if (j.state === 'PENDING' || j.state === 'RUNNING') {
          if (j.state === 'RUNNING') this.running--;
          clearTimeout(j.timer);
          this.setState(j, 'CANCELLED', { code: 'CANCELLED', message: 'cancelled' });
          this.pump();
        }
        cb(null, this.wire(j));
      },
      // The log: two chunks naming the job (the real agent streams its -v -x trace file).
      GetJobLog: (call: grpc.ServerWritableStream<any, unknown>) => {
        const j = this.jobs.get(call.request.jobId);
        if (!j) return call.emit('error', notFound(call.request.jobId));
        call.write({ data: Buffer.from(`fake log of ${j.id}\n`) });
        call.write({ data: Buffer.from(`state ${j.state}\n`) });
        call.end();
      },
      WatchJobs: (call: grpc.ServerWritableStream<any, unknown>) => {
        const marker = (type: string, jobId = '') => ({ jobId, seq: 0, at: '', type, state: 'PENDING', operation: '', message: '', progress: null, error: null });
        const replay: Record<string, unknown>[] = [marker('watching')];
        for (const c of call.request.cursors) {
          const j = this.jobs.get(c.jobId);
          if (!j) replay.push(marker('missing', c.jobId));
          else replay.push(...j.events.filter((e) => (e.seq as number) > c.afterSeq));
        }
        call.write({ events: replay }); // one batch
        this.watchers.add(call);
        call.on('cancelled', () => this.watchers.delete(call));
      },
    };
  }
}

function meta(reason: string, details?: Record<string, unknown>): grpc.Metadata {
  const m = new grpc.Metadata();
  m.set('reason', reason);
  if (details) m.set('details-json', JSON.stringify(details));
  return m;
}

/** The real agent's generation formula (host-agent/storage/diskGeneration.ts), for a regular file. */
async function generation(real: string): Promise<string> {
  const st = await stat(real, { bigint: true });
  return `${st.size}:${st.mtimeNs}:${st.ino}:${st.dev}`;
}
