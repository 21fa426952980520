// An agent's wire Progress as the engine records it on a leaf (Job.progress). The phase
// (shared/jobPhase.ts) comes from the agent; a phase the leaf was already in keeps its
// start time, so "queued" counts from the engine's queue, not from the agent's.
import { isJobPhase } from '../../shared/jobPhase';
import type { Job as AgentJob } from '../../shared/wireTypes';
import type { Progress } from './Job';

export function agentProgress(p: NonNullable<AgentJob['progress']>, previous?: Progress): Progress {
  const progress: Progress = { done: p.done, total: p.total, current: p.current };
  // An agent older than phases sends none; an unknown one (a newer agent) is not guessed at.
  if (!isJobPhase(p.phase)) return progress;
  progress.phase = p.phase;
  progress.phaseSince = (previous?.phase === p.phase && previous.phaseSince) || p.phaseSince || new Date().toISOString();
  return progress;
}
