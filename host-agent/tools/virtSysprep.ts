// virt-sysprep wrapper: the installed tool's version and operations, and a run in its
// own process group (shared/tools/exec.ts, the one spawn site) so that stopping it
// stops the libguestfs appliance too.
import { OperationInfo, parseOperationList } from '../../shared/catalog/operations';
import { run, spawnGroup, SpawnedGroup } from '../../shared/tools/exec';
import type { ToolProcess } from '../sysprep/runner';

/** Between SIGTERM and SIGKILL when a run is stopped: lets the tool tear its appliance down. */
const KILL_GRACE_MS = 3_000;

export class VirtSysprep implements ToolProcess {
  readonly name = 'virt-sysprep';
  constructor(private readonly bin: string) {}

  async version(): Promise<string> {
    const { stdout } = await run(this.bin, ['--version']);
    return stdout.trim().replace(/^virt-sysprep\s+/, '');
  }

  async listOperations(): Promise<OperationInfo[]> {
    const { stdout } = await run(this.bin, ['--list-operations']);
    return parseOperationList(stdout);
  }

  spawn(argv: string[], opts: { env: NodeJS.ProcessEnv; timeoutMs: number; signal: AbortSignal }): SpawnedGroup {
    return spawnGroup(this.bin, argv, { ...opts, killGraceMs: KILL_GRACE_MS });
  }
}
