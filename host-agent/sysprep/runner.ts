// Runs one libguestfs tool process for one job (virt-sysprep with all of the VM's disks
// in one guest; guestfish for Windows customisations; virt-sparsify for the sparsify
// action, with its own stdout parser):
// stdout+stderr into the job's log file (line by line, with what the trace shows of
// secrets cut out, traceRedaction.ts), progress parsed line by line (operations from
// stdout, the appliance's start from the stderr trace), `warning:` lines from either
// (the tool prints its own on stderr, virt-customize dumps our guest scripts' output into
// the -v trace), a time limit, and
// abort through an AbortSignal whose reason is the typed error to report (cancel, lease
// lost). The process group, its timeout and its kill are exec.ts's (the one spawn site).
import { createWriteStream } from 'node:fs';
import { CancelledError, JobFailure, SysprepError } from '../../shared/errors';
import type { SpawnedGroup } from '../../shared/tools/exec';
import { LineSplitter, parseProgressLine, parseToolError, parseTraceLine, parseWarningLine, ProgressLine } from './progress';
import { TraceRedactor } from './traceRedaction';

/** A libguestfs tool run this way: virt-sysprep, guestfish for the Windows customisations, virt-sparsify. */
export interface ToolProcess {
  /** As messages and the log name it. */
  readonly name: string;
  spawn(argv: string[], opts: { env: NodeJS.ProcessEnv; timeoutMs: number; signal: AbortSignal }): SpawnedGroup;
}

export interface RunOptions {
  argv: string[];
  env: NodeJS.ProcessEnv;
  logPath: string;
  timeoutMs: number;
  signal: AbortSignal;
  onProgress(line: ProgressLine): void;
  /** A warning line of the run (redacted), in order. */
  onWarning?(message: string): void;
  /** The job's secret contents (passwords, scripts): scrubbed from the log and the error. */
  secrets?: readonly string[];
  /** Called once the process is spawned (tests and the journal use the pid). */
  onSpawn?(pid: number): void;
  /** Its stdout parser (default: virt-sysprep's, parseProgressLine). */
  parseStdout?(line: string): ProgressLine | null;
}

/** The typed error an abort carries (cancel, lease lost), or a plain cancel. */
export function abortReason(signal: AbortSignal): SysprepError {
  return signal.reason instanceof SysprepError ? signal.reason : new CancelledError();
}

export async function runSysprep(tool: ToolProcess, opts: RunOptions): Promise<void> {
  if (opts.signal.aborted) throw abortReason(opts.signal);
  const parseStdout = opts.parseStdout ?? parseProgressLine;
  const log = createWriteStream(opts.logPath, { flags: 'a', mode: 0o640 });
  log.write(`# ${tool.name} ${opts.argv.join(' ')}\n`);
  const proc = tool.spawn(opts.argv, { env: opts.env, timeoutMs: opts.timeoutMs, signal: opts.signal });
  const redactor = new TraceRedactor(opts.secrets);
  let lastError: string | null = null;

  const watch = (stream: NodeJS.ReadableStream, progress: boolean) => {
    const lines = new LineSplitter();
    // Line by line into the log, so the trace is redacted whatever the chunking.
    const logged = (line: string) => {
      const redacted = redactor.redact(line);
      log.write(redacted + '\n');
      lastError = parseToolError(redacted) ?? lastError;
      const warning = parseWarningLine(redacted);
      if (warning !== null) opts.onWarning?.(warning);
      const parsed = progress ? parseStdout(line) : parseTraceLine(line);
      if (parsed) opts.onProgress(parsed);
    };
    stream.on('data', (chunk: Buffer) => lines.push(chunk.toString('utf8')).forEach(logged));
    stream.on('end', () => lines.flush().forEach(logged));
  };
  watch(proc.stdout, true);
  watch(proc.stderr, false);
  if (proc.pid) opts.onSpawn?.(proc.pid);

  const exit = await proc.exited;
  log.end(`\n# exit ${exit.code ?? exit.signal}\n`);
  if (exit.stopped === 'aborted') throw abortReason(opts.signal);
  if (exit.stopped === 'timeout') {
    throw new JobFailure('TIMEOUT', `${tool.name} did not finish within ${Math.round(opts.timeoutMs / 1000)} s`, { logPath: opts.logPath });
  }
  if (exit.spawnError) throw new JobFailure('TOOL_NOT_FOUND', `cannot run ${tool.name}: ${exit.spawnError.message}`);
  if (exit.code === 0) return;
  const message = lastError ?? `${tool.name} exited with ${exit.code ?? exit.signal}`;
  throw new JobFailure('TOOL_FAILED', `${tool.name}: ${message} (see ${opts.logPath})`, { exitCode: exit.code, logPath: opts.logPath });
}
