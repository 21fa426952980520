// The one choice of host agents for a set of disks, used by the job pre-check (may a
// job start at all?), the dispatcher (where does a leaf run?), the VM inspection and the
// disk registration check. An agent serves disks when its storage roots, as the engine
// configures them per host, hold every one (AgentPool.servingAgents); it must also be
// healthy (its last probe answered).
import { inject, injectable } from 'tsyringe';
import { ConflictError, UnavailableError } from '../../shared/errors';
import { EngineConfig } from '../config';
import type { DiskRef } from '../inventory/Inventory';
import { underRoot } from '../inventory/storageRoots';
import { AgentPool, AgentState } from './AgentPool';

type Disks = Pick<DiskRef, 'path'>[];

@injectable()
export class HostSelector {
  constructor(
    @inject(AgentPool) private readonly agents: AgentPool,
    @inject(EngineConfig) private readonly config: EngineConfig,
  ) {}

  /** The healthy agents among those that serve some disks; 503 AGENT_UNAVAILABLE naming them when none is. */
  reachable(serving: AgentState[]): AgentState[] {
    const healthy = serving.filter((a) => a.healthy);
    const hosts = serving.map((a) => a.host.id);
    if (healthy.length === 0) throw new UnavailableError('AGENT_UNAVAILABLE', `the host agents that see these disks are unreachable: ${hosts.join(', ')}`, { hosts });
    return healthy;
  }

  /** Healthy agents that serve every disk, the preferred host first; 503 NO_AGENT or AGENT_UNAVAILABLE when none. */
  candidates(disks: Disks, preferHost?: string): AgentState[] {
    const serving = this.agents.servingAgents(disks, preferHost);
    if (serving.length === 0) {
      throw new UnavailableError('NO_AGENT', 'no host agent serves a storage root holding these disks', { disks: disks.map((d) => d.path) });
    }
    return this.reachable(serving);
  }

  /**
   * The agent a leaf runs on: the preferred (recorded) host while it is healthy and
   * serves the disks, else the least loaded by `load(hostId)` / the host's job limit;
   * undefined when no healthy agent outside `exclude` serves them.
   */
  choose(disks: Disks, preferHost: string | undefined, load: (hostId: string) => number, exclude: Set<string> = new Set()): AgentState | undefined {
    const serving = this.agents.servingAgents(disks, preferHost).filter((a) => a.healthy && !exclude.has(a.host.id));
    if (preferHost && serving[0]?.host.id === preferHost) return serving[0];
    const cost = (a: AgentState) => load(a.host.id) / this.agents.limit(a.host.id);
    return serving.sort((x, y) => cost(x) - cost(y))[0];
  }

  /** The pre-check of a job: an agent can run it, with room for packages when it installs some. */
  checkCanRun(disks: DiskRef[], preferHost: string | undefined, needsSpace: boolean): void {
    const healthy = this.candidates(disks, preferHost);
    if (!needsSpace) return;
    // The room needed is each agent's own (min_free_bytes_for_packages, in its
    // Capabilities): the agent checks it again before the run, with the same value.
    const roomy = healthy.some((a) =>
      disks.every((d) => {
        const root = a.capabilities?.storageRoots.find((r) => underRoot(d.path, r.path));
        return !root || Number(root.freeBytes) >= Number(a.capabilities?.minFreeBytesForPackages ?? 0);
      }),
    );
    if (!roomy) throw new ConflictError('INSUFFICIENT_SPACE', "installing or updating packages needs the free space the disks' host agents ask for (their min_free_bytes_for_packages) on the disks' storage", { field: 'params.install' });
  }
}
