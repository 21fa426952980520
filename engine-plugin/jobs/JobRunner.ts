// What the job service needs of whatever runs leaves on host agents: a port (interface +
// token), so jobs/ does not import dispatch/ (the dispatcher implements it and is bound
// to the token in the composition root, engine.ts).
import type { Params } from '../../shared/catalog/customizations';
import type { OperationInfo } from '../../shared/catalog/operations';
import type { DiskRef } from '../inventory/Inventory';
import type { LeafJob } from './Job';

export interface JobRunner {
  /** The operations every reachable agent's virt-sysprep knows (503 NO_AGENT when none is reachable). */
  operations(): OperationInfo[];
  /** Throws the typed refusal (NO_AGENT, AGENT_UNAVAILABLE, INSUFFICIENT_SPACE) when no agent could run a leaf on these disks. */
  checkCanRun(disks: DiskRef[], preferHost: string | undefined, needsSpace: boolean): void;
  /** New leaves are stored (pending, no host yet): run them; `secrets` maps a leaf id to its secret params (held in memory only). */
  submit(secrets?: Map<string, Params>): void;
  /** Stops leaves whose cancel was recorded: dropped from their queue, or cancelled on their agent. */
  cancel(leaf: LeafJob): Promise<void>;
}

export const JobRunner = Symbol('JobRunner');
