// The virt-sysprep operations, as the INSTALLED tool lists them. Never hard-coded: the
// agent parses `virt-sysprep --list-operations` at start and the engine merges what its
// agents report.

export interface OperationInfo {
  name: string;
  description: string;
  defaultEnabled: boolean;
}

const LINE = /^([a-z0-9][a-z0-9-]*) ([* ]) (.+)$/;

/** Parses `virt-sysprep --list-operations`: "name * heading" (the star = enabled by default). */
export function parseOperationList(output: string): OperationInfo[] {
  const ops: OperationInfo[] = [];
  for (const raw of output.split('\n')) {
    const line = raw.trimEnd();
    if (!line) continue;
    const m = LINE.exec(line);
    if (!m) throw new Error(`unexpected line in virt-sysprep --list-operations: ${JSON.stringify(line)}`);
    ops.push({ name: m[1], defaultEnabled: m[2] === '*', description: m[3].trim() });
  }
  if (ops.length === 0) throw new Error('virt-sysprep --list-operations listed no operation');
  return ops;
}
