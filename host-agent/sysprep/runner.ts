// Runs one virt-sysprep process for one job (all of the VM's disks in one guest):
// its own process group, stdout+stderr into the job's log file (line by line, with
// what the trace shows of secrets cut out, traceRedaction.ts), progress parsed line by
// line (operations from stdout, the appliance's start from the stderr trace), a time limit, and abort through an AbortSignal whose reason is the typed error
// to report (cancel, lease lost). Killing the group also kills the libguestfs appliance.
import { createWriteStream } from 'node:fs';
import { CancelledError, JobFailure, SysprepError } from '../../shared/errors';
import { VirtSysprep } from '../tools/virtSysprep';
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
}

const KILL_GRACE_MS = 3_000;

export function runSysprep(tool: VirtSysprep, opts: RunOptions): Promise<void> {
  if (opts.signal.aborted) return Promise.reject(opts.signal.reason ?? new CancelledError());
  return new Promise((resolve, reject) => {
    const log = createWriteStream(opts.logPath, { flags: 'a', mode: 0o640 });
    log.write(`# virt-sysprep ${opts.argv.join(' ')}\n`);
    const child = tool.spawn(opts.argv, opts.env);
    const redactor = new TraceRedactor(opts.secrets);
    let lastError: string | null = null;
    let stopReason: SysprepError | null = null;
    let killTimer: NodeJS.Timeout | undefined;

    const killGroup = (reason: SysprepError) => {
      if (stopReason) return;
      stopReason = reason;
      const kill = (sig: NodeJS.Signals) => {
        try {
          process.kill(-child.pid!, sig);
        } catch {
          /* already gone */
        }
      };
      kill('SIGTERM');
      killTimer = setTimeout(() => kill('SIGKILL'), KILL_GRACE_MS);
    };
    const onAbort = () => killGroup(opts.signal.reason instanceof SysprepError ? opts.signal.reason : new CancelledError());
    opts.signal.addEventListener('abort', onAbort);
    const timer = setTimeout(
      () => killGroup(new JobFailure('TIMEOUT', `virt-sysprep did not finish within ${Math.round(opts.timeoutMs / 1000)} s`, { logPath: opts.logPath })),
      opts.timeoutMs,
    );

    const watch = (stream: NodeJS.ReadableStream, progress: boolean) => {
      const lines = new LineSplitter();
      const handle = (line: string) => {
        lastError = parseToolError(redactor.redact(line)) ?? lastError;
        const parsed = progress ? parseProgressLine(line) : parseTraceLine(line);
        if (parsed) opts.onProgress(parsed);
      };
      // Line by line into the log, so the trace is redacted whatever the chunking.
      const logged = (line: string) => {
        log.write(redactor.redact(line) + '\n');
        handle(line);
      };
      stream.on('data', (chunk: Buffer) => lines.push(chunk.toString('utf8')).forEach(logged));
      stream.on('end', () => lines.flush().forEach(logged));
    };
    watch(child.stdout!, true);
    watch(child.stderr!, false);
    if (child.pid) opts.onSpawn?.(child.pid);

    child.on('error', (err) => {
      stopReason ??= new JobFailure('TOOL_NOT_FOUND', `cannot run virt-sysprep: ${err.message}`);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      clearTimeout(killTimer);
      opts.signal.removeEventListener('abort', onAbort);
      log.end(`\n# exit ${code ?? signal}\n`);
      if (stopReason) return reject(stopReason);
      if (code === 0) return resolve();
      const message = lastError ?? `virt-sysprep exited with ${code ?? signal}`;
      reject(new JobFailure('TOOL_FAILED', `virt-sysprep: ${message} (see ${opts.logPath})`, { exitCode: code, logPath: opts.logPath }));
    });
  });
}
