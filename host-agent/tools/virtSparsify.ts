// virt-sparsify wrapper: the in-place run on one disk (the sparsify action), in its own
// process group (groupTool.ts). The argv is built purely (table-tested): the disk path comes
// after "--", the format is always given (never probed by the tool).
import { GroupTool } from './groupTool';

export function sparsifyArgv(disk: { path: string; format: string }, trace: boolean): string[] {
  return [...(trace ? ['-v', '-x'] : []), '--in-place', '--format', disk.format, '--', disk.path];
}

export class VirtSparsify extends GroupTool {
  constructor(bin: string) {
    super('virt-sparsify', bin);
  }
}
