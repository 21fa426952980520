// The one place external commands are spawned (the agent's tools, the engine's qemu-img):
// argv arrays, never a shell, each command in its own process group so that a timeout
// or an abort stops its helpers too (virt-sysprep's libguestfs appliance), SIGTERM first
// and SIGKILL after a grace period. `spawnGroup` gives the streams to callers that read
// them as they come (virt-sysprep's progress); `run` collects bounded output and fails
// with a typed error carrying stderr.
import { ChildProcess, spawn } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';

export class CommandError extends Error {
  constructor(readonly argv: string[], readonly exitCode: number | null, readonly stderr: string, readonly timedOut = false) {
    super(`${argv[0]} exited with ${exitCode}: ${stderr.trim().split('\n').slice(-3).join(' | ')}`);
  }
}

export interface ExecResult {
  stdout: string;
  stderr: string;
}

export interface SpawnOptions {
  env?: NodeJS.ProcessEnv;
  /** Written to stdin, which is then closed; undefined: no stdin. */
  input?: string;
  /** Keep stdin open for the caller (a tool driven line by line: guestfish's inspection). */
  openStdin?: boolean;
  /** The group is stopped after this long (Exit.stopped = 'timeout'). */
  timeoutMs?: number;
  /** The group is stopped when this aborts (Exit.stopped = 'aborted'). */
  signal?: AbortSignal;
  /** Between SIGTERM and SIGKILL; 0: SIGKILL at once. */
  killGraceMs?: number;
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Why this side stopped the group, if it did. */
  stopped: 'timeout' | 'aborted' | null;
  /** The command could not be started (not found, not executable). */
  spawnError?: Error;
}

export interface SpawnedGroup {
  /** Leader of the process group (undefined when the spawn failed). */
  pid: number | undefined;
  stdout: Readable;
  stderr: Readable;
  /** Settles (never rejects) once the leader exited and its output streams closed. */
  exited: Promise<Exit>;
  /** With `openStdin`: the tool's stdin (the caller ends it). */
  stdin?: Writable;
}

/** Sends `sig` to the whole process group led by `pid`; false when it is gone. */
export function killGroup(pid: number, sig: NodeJS.Signals = 'SIGKILL'): boolean {
  try {
    process.kill(-pid, sig);
    return true;
  } catch {
    return false;
  }
}

export function spawnGroup(cmd: string, args: readonly string[], opts: SpawnOptions = {}): SpawnedGroup {
  const child: ChildProcess = spawn(cmd, args, {
    env: opts.env ?? process.env,
    detached: true,
    stdio: [opts.input === undefined && !opts.openStdin ? 'ignore' : 'pipe', 'pipe', 'pipe'],
  });
  let stopped: Exit['stopped'] = null;
  let killTimer: NodeJS.Timeout | undefined;
  const stop = (why: 'timeout' | 'aborted') => {
    if (stopped || child.pid === undefined) return;
    stopped = why;
    const grace = opts.killGraceMs ?? 0;
    if (grace <= 0) {
      killGroup(child.pid, 'SIGKILL');
      return;
    }
    killGroup(child.pid, 'SIGTERM');
    killTimer = setTimeout(() => killGroup(child.pid!, 'SIGKILL'), grace);
  };
  const timer = opts.timeoutMs !== undefined ? setTimeout(() => stop('timeout'), opts.timeoutMs) : undefined;
  const onAbort = () => stop('aborted');
  if (opts.signal?.aborted) onAbort();
  else opts.signal?.addEventListener('abort', onAbort);

  const exited = new Promise<Exit>((resolve) => {
    let spawnError: Error | undefined;
    const settle = (code: number | null, signal: NodeJS.Signals | null) => {
      clearTimeout(timer);
      clearTimeout(killTimer);
      opts.signal?.removeEventListener('abort', onAbort);
      resolve({ code, signal, stopped, spawnError });
    };
    child.on('error', (err) => {
      spawnError = err;
      if (child.pid === undefined) settle(null, null); // never started: no 'close' to wait for
    });
    child.on('close', settle);
  });
  if (opts.input !== undefined) {
    child.stdin!.on('error', () => undefined); // a tool that exits without reading is not an error here
    child.stdin!.end(opts.input);
  }
  if (opts.openStdin) child.stdin!.on('error', () => undefined); // the tool died: its exit tells why
  return { pid: child.pid, stdout: child.stdout!, stderr: child.stderr!, exited, stdin: opts.openStdin ? child.stdin! : undefined };
}

const MAX_OUTPUT = 16 << 20;

/** Runs a short command to its end: output collected (bounded), CommandError unless it exits 0. */
export async function run(
  cmd: string,
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number; input?: string } = {},
): Promise<ExecResult> {
  const timeoutMs = opts.timeoutMs ?? 120_000;
  const proc = spawnGroup(cmd, args, { env: opts.env, input: opts.input, timeoutMs });
  let stdout = '';
  let stderr = '';
  proc.stdout.on('data', (c: Buffer) => { if (stdout.length < MAX_OUTPUT) stdout += c.toString('utf8'); });
  proc.stderr.on('data', (c: Buffer) => { if (stderr.length < MAX_OUTPUT) stderr += c.toString('utf8'); });
  const exit = await proc.exited;
  const argv = [cmd, ...args];
  if (exit.spawnError) throw new CommandError(argv, null, exit.spawnError.message);
  if (exit.stopped === 'timeout') throw new CommandError(argv, exit.code, `timed out after ${timeoutMs} ms\n${stderr}`, true);
  if (exit.code !== 0) throw new CommandError(argv, exit.code, stderr);
  return { stdout, stderr };
}
