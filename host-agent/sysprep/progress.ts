// Parsing of virt-sysprep's human output (it has no machine-readable mode):
//   [  15.1] Performing "ssh-hostkeys" ...
//   virt-sysprep: error: SCRIPT: command exited with an error
// Output arrives in arbitrary chunks and the tool may use \r, so lines are reassembled.

export class LineSplitter {
  private rest = '';

  push(chunk: string): string[] {
    const parts = (this.rest + chunk).split(/\r\n|\n|\r/);
    this.rest = parts.pop() ?? '';
    return parts.filter((l) => l.length > 0);
  }

  flush(): string[] {
    const last = this.rest;
    this.rest = '';
    return last ? [last] : [];
  }
}

export type ProgressLine =
  | { kind: 'operation'; elapsed: number; operation: string }
  | { kind: 'step'; elapsed: number; text: string };

const STAMP = /^\[\s*(\d+(?:\.\d+)?)\]\s+(.*?)\s*$/;
const PERFORMING = /^Performing "([a-z0-9-]+)" \.\.\.$/;

export function parseProgressLine(line: string): ProgressLine | null {
  const m = STAMP.exec(line);
  if (!m) return null;
  const elapsed = Number(m[1]);
  const op = PERFORMING.exec(m[2]);
  return op ? { kind: 'operation', elapsed, operation: op[1] } : { kind: 'step', elapsed, text: m[2] };
}

const TOOL_ERROR = /^virt-sysprep: error: (.*)$/;

/** The message of a `virt-sysprep: error: ...` line, or null. */
export function parseToolError(line: string): string | null {
  return TOOL_ERROR.exec(line)?.[1] ?? null;
}
