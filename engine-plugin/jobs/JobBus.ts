// In-process publish/subscribe of job events: JobLifecycle publishes (it alone), the SSE stream,
// the oVirt mirror and guard and the automatic reset subscribe. A child's events are also
// delivered to its parent's subscribers (a pool's stream shows every VM).
import { EventEmitter } from 'node:events';
import { injectable } from 'tsyringe';
import type { JobErrorInfo, JobKind, JobState, JobWarning, Progress } from './Job';

export interface JobEventMessage {
  jobId: string;
  /** "state": the job's state changed; "operation": virt-sysprep started an operation; "warning": the run printed a warning. */
  type: 'state' | 'operation' | 'warning';
  state: JobState;
  operation?: string;
  progress?: Progress;
  error?: JobErrorInfo;
  /** On a "warning" event. */
  warning?: JobWarning;
  host?: string;
  /** The job's kind, on a leaf's events (the metrics count endings by kind without a read). */
  kind?: JobKind;
  at: string;
}

type Listener = (e: JobEventMessage) => void;

@injectable()
export class JobBus {
  private readonly emitter = new EventEmitter().setMaxListeners(0);

  subscribe(jobId: string, listener: Listener): () => void {
    this.emitter.on(jobId, listener);
    return () => this.emitter.off(jobId, listener);
  }

  /** Every leaf that reaches a final state. */
  onLeafFinal(listener: (e: JobEventMessage, parentId?: string) => void): () => void {
    this.emitter.on('\0final', listener);
    return () => this.emitter.off('\0final', listener);
  }

  /** Every leaf event, with its parent id. */
  onAny(listener: (e: JobEventMessage, parentId?: string) => void): () => void {
    this.emitter.on('\0any', listener);
    return () => this.emitter.off('\0any', listener);
  }

  publish(event: JobEventMessage, parentId?: string, final = false): void {
    this.emitter.emit('\0any', event, parentId);
    this.emitter.emit(event.jobId, event);
    if (parentId) this.emitter.emit(parentId, event);
    if (final) this.emitter.emit('\0final', event, parentId);
  }
}
