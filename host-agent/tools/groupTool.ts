// A libguestfs tool run in its own process group (shared/tools/exec.ts, the one spawn
// site), so that stopping it stops its appliance too: virt-sysprep, guestfish (Windows
// customisations) and virt-sparsify are each one of these with their own name.
import { spawnGroup, SpawnedGroup } from '../../shared/tools/exec';
import type { ToolProcess } from '../sysprep/runner';

/** Between SIGTERM and SIGKILL when a run is stopped: lets the tool tear its appliance down. */
const KILL_GRACE_MS = 3_000;

export class GroupTool implements ToolProcess {
  constructor(readonly name: string, protected readonly bin: string) {}

  spawn(argv: string[], opts: { env: NodeJS.ProcessEnv; timeoutMs: number; signal: AbortSignal }): SpawnedGroup {
    return spawnGroup(this.bin, argv, { ...opts, killGraceMs: KILL_GRACE_MS });
  }
}
