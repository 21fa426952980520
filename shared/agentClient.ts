// A promise-based client of one host agent, used by the engine, the tests and the
// benchmarks. Errors come back as typed SysprepErrors (shared/grpc.ts maps them).
import * as grpc from '@grpc/grpc-js';
import { channelCredentials, fromServiceError, loadProto, TlsFiles } from './grpc';
import type {
  Capabilities,
  HostAgentClient,
  CheckDisksResult,
  InspectResult,
  Job,
  JobEvent,
  JobEventBatch,
  JobState,
  OperationList,
  StartReply,
  StartSysprepRequest,
} from './wireTypes';

const INSPECT_DEADLINE_MS = 300_000;

type UnaryMethod = 'GetCapabilities' | 'ListOperations' | 'Inspect' | 'CheckDisks' | 'StartSysprep' | 'GetJob' | 'ListJobs' | 'CancelJob';
// The last overload of a generated method is (request, callback): its types are the proto's.
type RequestOf<M extends UnaryMethod> = Parameters<HostAgentClient[M]>[0];
type ReplyOf<M extends UnaryMethod> = Parameters<HostAgentClient[M]>[1] extends grpc.requestCallback<infer R> ? R : never;

export interface AgentClientOptions {
  /** host:port */
  address: string;
  /** null: plaintext (loopback only). */
  tls: TlsFiles | null;
  /** Default deadline of unary calls, ms. */
  deadlineMs?: number;
}

export class AgentClient {
  private readonly client: HostAgentClient;
  private readonly deadlineMs: number;

  constructor(readonly options: AgentClientOptions) {
    const host = options.address.replace(/:\d+$/, '');
    const proto = loadProto();
    this.client = new proto.ovirt_sysprep.v1.HostAgent(options.address, channelCredentials(options.tls, host), {
      'grpc.keepalive_time_ms': 30_000,
    });
    this.deadlineMs = options.deadlineMs ?? 30_000;
  }

  /** A unary call by its proto name; request and reply types are the generated ones. */
  private unary<M extends UnaryMethod>(method: M, request: RequestOf<M>, deadlineMs = this.deadlineMs): Promise<ReplyOf<M>> {
    return new Promise((resolve, reject) => {
      const deadline = new Date(Date.now() + deadlineMs);
      // The generated method is overloaded (metadata, options); this is the (request, options, callback) one.
      const call = this.client[method] as unknown as (req: RequestOf<M>, opts: grpc.CallOptions, cb: grpc.requestCallback<ReplyOf<M>>) => grpc.ClientUnaryCall;
      call.call(this.client, request, { deadline }, (err, res) => (err ? reject(fromServiceError(err)) : resolve(res!)));
    });
  }

  getCapabilities(): Promise<Capabilities> {
    return this.unary('GetCapabilities', {});
  }
  listOperations(): Promise<OperationList> {
    return this.unary('ListOperations', {});
  }
  /** Boots the libguestfs appliance: seconds with KVM, tens of seconds under TCG. */
  inspect(disks: { path: string; format?: string }[]): Promise<InspectResult> {
    return this.unary('Inspect', { disks }, Math.max(this.deadlineMs, INSPECT_DEADLINE_MS));
  }
  /** Confines and probes disks (read-only) before the engine records them: CheckDisks in agent.proto. */
  checkDisks(disks: { path: string; format?: string }[]): Promise<CheckDisksResult> {
    return this.unary('CheckDisks', { disks });
  }
  startSysprep(request: StartSysprepRequest): Promise<Job> {
    return this.unary('StartSysprep', request);
  }
  /** StartSysprepStream: many starts on one call (engine-plugin/dispatch/AgentStarter multiplexes it). */
  openStartStream(): grpc.ClientDuplexStream<StartSysprepRequest, StartReply> {
    return this.client.startSysprepStream();
  }
  getJob(jobId: string): Promise<Job> {
    return this.unary('GetJob', { jobId });
  }
  async listJobs(states: string[] = []): Promise<Job[]> {
    return (await this.unary('ListJobs', { states: states as JobState[] })).jobs;
  }
  cancelJob(jobId: string): Promise<Job> {
    return this.unary('CancelJob', { jobId });
  }

  /** Past events first, then live ones; ends after the job's final state. */
  watchJob(jobId: string, afterSeq = 0, signal?: AbortSignal): AsyncGenerator<JobEvent> {
    return this.stream(this.client.watchJob({ jobId, afterSeq }), signal);
  }

  /** Many jobs on one stream, in batches (WatchJobs in agent.proto); runs until `signal` aborts. */
  watchJobs(cursors: { jobId: string; afterSeq: number }[], signal: AbortSignal, batchMs = 0): AsyncGenerator<JobEventBatch> {
    return this.stream(this.client.watchJobs({ cursors, batchMs }), signal);
  }

  /** The job's log file as it is now (GetJobLog in agent.proto: redacted as written), chunk by chunk. */
  async *getJobLog(jobId: string, signal?: AbortSignal): AsyncGenerator<Buffer> {
    for await (const chunk of this.stream(this.client.getJobLog({ jobId }), signal)) yield chunk.data;
  }

  private async *stream<T>(call: grpc.ClientReadableStream<T>, signal?: AbortSignal): AsyncGenerator<T> {
    const onAbort = () => call.cancel();
    signal?.addEventListener('abort', onAbort);
    try {
      for await (const message of call as AsyncIterable<T>) yield message;
    } catch (err) {
      if ((err as grpc.ServiceError).code === grpc.status.CANCELLED && signal?.aborted) return;
      throw fromServiceError(err as grpc.ServiceError);
    } finally {
      signal?.removeEventListener('abort', onAbort);
      call.cancel();
    }
  }

  /** Resolves when the channel is ready (or rejects after timeoutMs). */
  waitForReady(timeoutMs = 10_000): Promise<void> {
    return new Promise((resolve, reject) =>
      this.client.waitForReady(Date.now() + timeoutMs, (err) => (err ? reject(err) : resolve())),
    );
  }

  close(): void {
    this.client.close();
  }
}
