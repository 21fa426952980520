// A leaf job's log (GET /jobs/{id}/log), read from the agent that ran it (GetJobLog):
// the engine keeps no copy, the agent's file is the one source, and it was redacted line
// by line before it was written (host-agent/sysprep/traceRedaction.ts).
//
// The first chunk is awaited before anything is answered, so every refusal (no agent ran
// it, the agent lost it, the agent is out of reach) is a typed error with its own status
// rather than a 200 cut short.
import { inject, injectable } from 'tsyringe';
import { asSysprepError, ConflictError, UnavailableError } from '../../shared/errors';
import { JobStore } from '../jobs/JobStore';
import { AgentPool } from './AgentPool';

@injectable()
export class AgentJobLog {
  constructor(
    @inject(JobStore) private readonly store: JobStore,
    @inject(AgentPool) private readonly agents: AgentPool,
  ) {}

  /**
   * The log of job `id` (a job the caller has already found) as chunks. ConflictError
   * NO_LOG: a bulk job (its children have the logs), a job no agent accepted, a job its
   * agent no longer has (or whose file is gone); UnavailableError: the agent is out of reach.
   */
  async open(id: string, signal: AbortSignal): Promise<AsyncIterable<Buffer>> {
    const leaf = this.store.leaf(id);
    if (!leaf) throw new ConflictError('NO_LOG', `job ${id} runs on several VMs: each of its children has its own log`, { field: 'id' });
    // Whether the agent got it is the agent's to say: a leaf that ended fast never stored
    // its dispatch mark (JobStore.finish drops it), and one refused at StartSysprep has a host too.
    if (!leaf.host) throw new ConflictError('NO_LOG', `job ${id} never reached a host agent: it has no log`, { field: 'id' });
    const agent = this.agents.get(leaf.host);
    if (!agent) throw new UnavailableError('NO_AGENT', `host ${leaf.host}, which ran job ${id}, is no longer in the inventory`, { host: leaf.host });
    const chunks = agent.client.getJobLog(id, signal);
    let first: IteratorResult<Buffer>;
    try {
      first = await chunks.next();
    } catch (err) {
      const e = asSysprepError(err);
      if (e.kind !== 'not-found') throw e;
      const why = e.code === 'JOB_NOT_FOUND' ? `job ${id} never reached host agent ${leaf.host} (or that agent lost it): it has no log` : `host agent ${leaf.host} has no log of job ${id}: ${e.message}`;
      throw new ConflictError('NO_LOG', why, { field: 'id', reason: e.code, host: leaf.host });
    }
    return (async function* () {
      if (first.done) return;
      yield first.value;
      yield* chunks;
    })();
  }
}
