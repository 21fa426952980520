// Parsing of virt-sysprep's human output (it has no machine-readable mode):
//   [  15.1] Performing "ssh-hostkeys" ...                 (stdout)
//   virt-sysprep: error: SCRIPT: command exited with an error
//   virt-sysprep: warning: hostname could not be set for this type of guest
//   libguestfs: appliance is up                             (stderr, the -v trace)
// Output arrives in arbitrary chunks and the tool may use \r, so lines are reassembled.
// The run's phases follow from these lines (phaseAfter): the appliance boots from the
// spawn until the trace says it is up (or, without -v, until the first operation).
import type { JobPhase } from '../../shared/jobPhase';

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
  | { kind: 'step'; elapsed: number; text: string }
  | { kind: 'appliance-up' };

const STAMP = /^\[\s*(\d+(?:\.\d+)?)\]\s+(.*?)\s*$/;
const PERFORMING = /^Performing "([a-z0-9-]+)" \.\.\.$/;

export function parseProgressLine(line: string): ProgressLine | null {
  const m = STAMP.exec(line);
  if (!m) return null;
  const elapsed = Number(m[1]);
  const op = PERFORMING.exec(m[2]);
  return op ? { kind: 'operation', elapsed, operation: op[1] } : { kind: 'step', elapsed, text: m[2] };
}

/**
 * What the -v -x trace (stderr) says of the appliance: `appliance is up` (-v), or the end
 * of the launch call (-x), whichever comes first (verified with virt-sysprep 1.48). Its
 * stdout is never parsed here, nor its stderr with parseProgressLine: the appliance's
 * kernel messages on stderr (`[    0.000000] Linux version ...`) look like progress lines.
 */
const APPLIANCE_UP = /^libguestfs: (?:appliance is up|trace: launch = 0)$/;

export function parseTraceLine(line: string): ProgressLine | null {
  return APPLIANCE_UP.test(line.trimEnd()) ? { kind: 'appliance-up' } : null;
}

/** The phase a line of the tool moves a run to, or null when it stays where it is. */
export function phaseAfter(current: string | undefined, line: ProgressLine): JobPhase | null {
  if (current !== 'starting-appliance') return null;
  return line.kind === 'appliance-up' || line.kind === 'operation' ? 'operations' : null;
}

const TOOL_ERROR = /^virt-(?:sysprep|sparsify): error: (.*)$/;

/** The message of a `virt-sysprep: error: ...` (or virt-sparsify's) line, or null. */
/**
 * virt-sparsify --in-place's stdout: its steps are stamped like virt-sysprep's
 * (`[  95.6] Trimming /dev/sda1`); the first trim starts `operation` (the disk's step of
 * a sparsify job, once per disk however many filesystems it trims): the appliance is up.
 */
export function sparsifyLineParser(operation: string): (line: string) => ProgressLine | null {
  let started = false;
  return (line) => {
    const p = parseProgressLine(line);
    if (started || p?.kind !== 'step' || !/^Trimming /.test(p.text)) return p;
    started = true;
    return { kind: 'operation', elapsed: p.elapsed, operation };
  };
}

export function parseToolError(line: string): string | null {
  return TOOL_ERROR.exec(line)?.[1] ?? null;
}

/**
 * A warning line of the run: the tool's own (`virt-sysprep: warning: ...`, also
 * virt-customize's and libguestfs' names), or a line of our guest scripts (`warning:
 * ...`; with -v virt-customize prints a --run script's output into the trace as it is,
 * one line a line). Case matters: the appliance kernel's `WARNING:` lines are not ours.
 * The trace's own lines (`libguestfs: trace: ...`) quote script text and are not warnings.
 */
const WARNING = /^(?:(?:virt-sysprep|virt-customize|libguestfs): )?warning: (.+)$/;

/** The message of a warning line, or null. */
export function parseWarningLine(line: string): string | null {
  return WARNING.exec(line.trimEnd())?.[1].trim() || null;
}
