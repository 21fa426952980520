// One reader's stream of a job's events (GET /jobs/{id}/events serves it as SSE): a
// snapshot, then each event of the job (and of its children, for a bulk job), until the
// job's final state. The reader subscribes before the snapshot is read, and what comes
// in between is held and sent after it, so no event falls between them.
import { inject, injectable } from 'tsyringe';
import { isFinal } from './Job';
import { JobBus, JobEventMessage } from './JobBus';
import { JobStore } from './JobStore';

export interface JobStreamSink {
  send(event: 'snapshot' | JobEventMessage['type'], data: unknown): void;
  /** The job ended: nothing more will be sent. */
  end(): void;
}

@injectable()
export class JobStream {
  constructor(
    @inject(JobStore) private readonly store: JobStore,
    @inject(JobBus) private readonly bus: JobBus,
  ) {}

  /** Streams job `id` (which exists) to `sink`; the returned function stops it (the reader left). */
  open(id: string, sink: JobStreamSink): () => void {
    const queue: JobEventMessage[] = [];
    let ready = false;
    const onEvent = (e: JobEventMessage) => {
      if (!ready) return void queue.push(e);
      sink.send(e.type, e);
      if (e.jobId === id && isFinal(e.state)) finish();
    };
    const unsubscribe = this.bus.subscribe(id, onEvent);
    const finish = () => {
      unsubscribe();
      sink.end();
    };
    const snapshot = this.store.get(id)!;
    sink.send('snapshot', snapshot);
    if (isFinal(snapshot.state)) {
      finish();
      return unsubscribe;
    }
    ready = true;
    for (const e of queue.splice(0)) onEvent(e);
    return unsubscribe;
  }
}
