// One StartSysprepStream per agent carries the starts of every job the engine dispatches
// there: a job costs one message on a stream that stays open, not a call of its own
// (a unary call sets up and tears down an HTTP/2 stream: about four times the CPU).
//
// Each request is answered once by a reply naming its job id. A request unanswered after
// the call deadline, or in flight when the stream breaks, fails as the unary call would
// (unavailable: the dispatcher fails the leaf over); the next start opens a new stream.
// An agent too old to know the stream (UNIMPLEMENTED) gets unary StartSysprep calls.
import * as grpc from '@grpc/grpc-js';
import type { AgentClient } from '../../shared/agentClient';
import { JobFailure, SysprepError, UnavailableError } from '../../shared/errors';
import { fromCallError, fromServiceError } from '../../shared/grpc';
import type { Job, StartReply, StartSysprepRequest } from '../../shared/wireTypes';

interface Waiter {
  request: StartSysprepRequest;
  sentAt: number;
  resolve(job: Job): void;
  reject(err: SysprepError): void;
}

type StartCall = grpc.ClientDuplexStream<StartSysprepRequest, StartReply>;

export class AgentStarter {
  private call?: StartCall;
  private readonly waiting = new Map<string, Waiter>();
  private sweeper?: NodeJS.Timeout;
  private unary = false;
  private closed = false;

  constructor(
    private readonly client: AgentClient,
    private readonly opts: { hostId: string; deadlineMs: number },
  ) {}

  /** StartSysprep over the agent's stream: the job, or the agent's typed refusal. */
  start(request: StartSysprepRequest): Promise<Job> {
    if (this.closed) return Promise.reject(this.closedError());
    if (this.unary) return this.client.startSysprep(request);
    return new Promise<Job>((resolve, reject) => {
      const jobId = request.jobId ?? '';
      // One start per job at a time (the dispatcher never runs a VM twice at once);
      // a repeated one supersedes the first, which the agent answers the same way.
      this.waiting.get(jobId)?.reject(new UnavailableError('AGENT_UNAVAILABLE', `job ${jobId} was started again`));
      this.waiting.set(jobId, { request, sentAt: Date.now(), resolve, reject });
      (this.call ?? this.open()).write(request);
    });
  }

  close(): void {
    this.closed = true;
    this.fail(this.call, this.closedError());
  }

  // ---------------------------------------------------------------------------------

  private open(): StartCall {
    const call = this.client.openStartStream();
    this.call = call;
    call.on('data', (reply: StartReply) => {
      const w = this.waiting.get(reply.jobId);
      if (!w) return; // superseded or timed out
      this.waiting.delete(reply.jobId);
      if (reply.error?.code) w.reject(fromCallError(reply.error));
      else if (reply.job) w.resolve(reply.job);
      else w.reject(new JobFailure('BAD_REPLY', `host agent ${this.opts.hostId} answered job ${reply.jobId} with neither a job nor an error`));
    });
    call.on('error', (err: grpc.ServiceError) => {
      if (err.code === grpc.status.UNIMPLEMENTED) return this.toUnary(call);
      const e = fromServiceError(err);
      this.fail(call, e.kind === 'unavailable' || e.kind === 'cancelled' ? new UnavailableError('AGENT_UNAVAILABLE', `host agent ${this.opts.hostId}: ${e.message}`) : e);
    });
    call.on('end', () => this.fail(call, new UnavailableError('AGENT_UNAVAILABLE', `host agent ${this.opts.hostId} ended the start stream`)));
    this.sweeper ??= setInterval(() => this.sweep(), Math.min(1000, this.opts.deadlineMs)).unref();
    return call;
  }

  /** Fails what the stream had in flight; the next start opens a new one. */
  private fail(call: StartCall | undefined, err: SysprepError): void {
    if (call && this.call !== call) return;
    call?.cancel();
    for (const w of this.detach()) w.reject(err);
  }

  /** The agent predates StartSysprepStream: what is in flight, and all that follows, goes by unary calls. */
  private toUnary(call: StartCall): void {
    if (this.call !== call) return;
    this.unary = true;
    for (const w of this.detach()) this.client.startSysprep(w.request).then(w.resolve, w.reject);
  }

  /** Forgets the stream and its sweeper; returns the starts it had in flight. */
  private detach(): Waiter[] {
    this.call = undefined;
    clearInterval(this.sweeper);
    this.sweeper = undefined;
    const waiting = [...this.waiting.values()];
    this.waiting.clear();
    return waiting;
  }

  private sweep(): void {
    const now = Date.now();
    for (const [jobId, w] of this.waiting) {
      if (now - w.sentAt < this.opts.deadlineMs) continue;
      this.waiting.delete(jobId);
      w.reject(new UnavailableError('AGENT_UNAVAILABLE', `host agent ${this.opts.hostId} did not answer the start of job ${jobId} within ${Math.round(this.opts.deadlineMs / 1000)} s`));
    }
  }

  private closedError(): SysprepError {
    return new JobFailure('AGENT_CLOSED', `the engine stopped using host agent ${this.opts.hostId}`);
  }
}
