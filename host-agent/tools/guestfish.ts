// guestfish wrapper for the Windows customisations' session: a run in its own process
// group (shared/tools/exec.ts, the one spawn site), stopped as virt-sysprep is.
import { spawnGroup, SpawnedGroup } from '../../shared/tools/exec';
import type { ToolProcess } from '../sysprep/runner';

const KILL_GRACE_MS = 3_000;

export class Guestfish implements ToolProcess {
  readonly name = 'guestfish';
  constructor(private readonly bin: string) {}

  spawn(argv: string[], opts: { env: NodeJS.ProcessEnv; timeoutMs: number; signal: AbortSignal }): SpawnedGroup {
    return spawnGroup(this.bin, argv, { ...opts, killGraceMs: KILL_GRACE_MS });
  }
}
