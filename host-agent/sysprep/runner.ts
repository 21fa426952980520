// Runs one libguestfs tool process for one job (virt-sysprep; virt-sparsify for the
// sparsify action, with its own line parser and name): one virt-sysprep process for one job (all of the VM's disks in one guest):
// stdout+stderr into the job's log file (line by line, with what the trace shows of
// secrets cut out, traceRedaction.ts), progress parsed line by line (operations from
// stdout, the appliance's start from the stderr trace), a time limit, and
// abort through an AbortSignal whose reason is the typed error to report (cancel, lease
// lost). The process group, its timeout and its kill are exec.ts's (the one spawn site).
import { createWriteStream } from 'node:fs';
import { CancelledError, JobFailure, SysprepError } from '../../shared/errors';
import type { SpawnedGroup } from '../../shared/tools/exec';
import { LineSplitter, parseProgressLine, parseToolError, parseTraceLine, ProgressLine } from './progress';
import { TraceRedactor } from './traceRedaction';

export interface RunOptions {
  argv: string[];
  env: NodeJS.ProcessEnv;
  logPath: string;
  timeoutMs: number;
  signal: AbortSignal;
  onProgress(line: ProgressLine): void;
  /** The job's secret contents (passwords, scripts): scrubbed from the log and the error. */
  secrets?: readonly string[];
  /** Called once the process is spawned (tests and the journal use the pid). */
  onSpawn?(pid: number): void;
  /** The tool's name in the log and errors (default virt-sysprep). */
  toolName?: string;
  /** Its stdout parser (default: virt-sysprep's, parseProgressLine). */
  parseStdout?(line: string): ProgressLine | null;
}

/** A libguestfs tool run in its own process group (tools/virtSysprep.ts, tools/virtSparsify.ts). */
export interface GroupTool {
  spawn(argv: string[], opts: { env: NodeJS.ProcessEnv; timeoutMs: number; signal: AbortSignal }): SpawnedGroup;
}

/** The typed error an abort carries (cancel, lease lost), or a plain cancel. */
export function abortReason(signal: AbortSignal): SysprepError {
  return signal.reason instanceof SysprepError ? signal.reason : new CancelledError();
}

export async function runSysprep(tool: GroupTool, opts: RunOptions): Promise<void> {
  if (opts.signal.aborted) throw abortReason(opts.signal);
  const name = opts.toolName ?? 'virt-sysprep';
  const parseStdout = opts.parseStdout ?? parseProgressLine;
  const log = createWriteStream(opts.logPath, { flags: 'a', mode: 0o640 });
  log.write(`# ${name} ${opts.argv.join(' ')}\n`);
  const proc = tool.spawn(opts.argv, { env: opts.env, timeoutMs: opts.timeoutMs, signal: opts.signal });
  const redactor = new TraceRedactor(opts.secrets);
  let lastError: string | null = null;

  const watch = (stream: NodeJS.ReadableStream, progress: boolean) => {
    const lines = new LineSplitter();
    // Line by line into the log, so the trace is redacted whatever the chunking.
    const logged = (line: string) => {
      log.write(redactor.redact(line) + '\n');
      lastError = parseToolError(redactor.redact(line)) ?? lastError;
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
    throw new JobFailure('TIMEOUT', `${name} did not finish within ${Math.round(opts.timeoutMs / 1000)} s`, { logPath: opts.logPath });
  }
  if (exit.spawnError) throw new JobFailure('TOOL_NOT_FOUND', `cannot run ${name}: ${exit.spawnError.message}`);
  if (exit.code === 0) return;
  const message = lastError ?? `${name} exited with ${exit.code ?? exit.signal}`;
  throw new JobFailure('TOOL_FAILED', `${name}: ${message} (see ${opts.logPath})`, { exitCode: exit.code, logPath: opts.logPath });
}
