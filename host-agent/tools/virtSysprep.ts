// virt-sysprep wrapper: the installed tool's version and operations, and the one spawn
// site of a run (own process group so cancel can kill the appliance too).
import { ChildProcess, spawn } from 'node:child_process';
import { OperationInfo, parseOperationList } from '../../shared/catalog/operations';
import { run } from '../../shared/tools/exec';

export class VirtSysprep {
  constructor(private readonly bin: string) {}

  async version(): Promise<string> {
    const { stdout } = await run(this.bin, ['--version']);
    return stdout.trim().replace(/^virt-sysprep\s+/, '');
  }

  async listOperations(): Promise<OperationInfo[]> {
    const { stdout } = await run(this.bin, ['--list-operations']);
    return parseOperationList(stdout);
  }

  spawn(argv: string[], env: NodeJS.ProcessEnv): ChildProcess {
    return spawn(this.bin, argv, { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  }
}
