// virt-sparsify wrapper: the in-place run on one disk (the sparsify action), in its own
// process group (shared/tools/exec.ts, the one spawn site) so that stopping it stops the
// libguestfs appliance too. The argv is built purely (table-tested): the disk path comes
// after "--", the format is always given (never probed by the tool).
import { spawnGroup, SpawnedGroup } from '../../shared/tools/exec';

/** Between SIGTERM and SIGKILL when a run is stopped: lets the tool tear its appliance down. */
const KILL_GRACE_MS = 3_000;

export function sparsifyArgv(disk: { path: string; format: string }, trace: boolean): string[] {
  return [...(trace ? ['-v', '-x'] : []), '--in-place', '--format', disk.format, '--', disk.path];
}

export class VirtSparsify {
  readonly name = 'virt-sparsify';

  constructor(private readonly bin: string) {}

  spawn(argv: string[], opts: { env: NodeJS.ProcessEnv; timeoutMs: number; signal: AbortSignal }): SpawnedGroup {
    return spawnGroup(this.bin, argv, { ...opts, killGraceMs: KILL_GRACE_MS });
  }
}
