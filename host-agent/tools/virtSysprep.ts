// virt-sysprep wrapper: the installed tool's version and operations, and a run in its
// own process group (groupTool.ts).
import { OperationInfo, parseOperationList } from '../../shared/catalog/operations';
import { run } from '../../shared/tools/exec';
import { GroupTool } from './groupTool';

export class VirtSysprep extends GroupTool {
  constructor(bin: string) {
    super('virt-sysprep', bin);
  }

  async version(): Promise<string> {
    const { stdout } = await run(this.bin, ['--version']);
    return stdout.trim().replace(/^virt-sysprep\s+/, '');
  }

  async listOperations(): Promise<OperationInfo[]> {
    const { stdout } = await run(this.bin, ['--list-operations']);
    return parseOperationList(stdout);
  }
}
