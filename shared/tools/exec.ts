// The one place short-lived external commands run (the agent's tools, the engine's
// qemu-img): argv arrays, never a shell, bounded output, its own process group (a timeout kills helpers such as the
// libguestfs appliance too), typed failure carrying stderr.
import { spawn } from 'node:child_process';

export class CommandError extends Error {
  constructor(readonly argv: string[], readonly exitCode: number | null, readonly stderr: string) {
    super(`${argv[0]} exited with ${exitCode}: ${stderr.trim().split('\n').slice(-3).join(' | ')}`);
  }
}

export interface ExecResult {
  stdout: string;
  stderr: string;
}

const MAX_OUTPUT = 16 << 20;

export function run(
  cmd: string,
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number; input?: string } = {},
): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: opts.env ?? process.env, detached: true, stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout!.on('data', (c: Buffer) => { if (stdout.length < MAX_OUTPUT) stdout += c.toString('utf8'); });
    child.stderr!.on('data', (c: Buffer) => { if (stderr.length < MAX_OUTPUT) stderr += c.toString('utf8'); });
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        /* gone */
      }
    }, opts.timeoutMs ?? 120_000);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(new CommandError([cmd, ...args], null, err.message));
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code === 0 && !timedOut) resolve({ stdout, stderr });
      else reject(new CommandError([cmd, ...args], code, timedOut ? `timed out after ${opts.timeoutMs} ms\n${stderr}` : stderr));
    });
    if (opts.input !== undefined) {
      child.stdin!.on('error', () => undefined); // a tool that exits without reading is not an error here
      child.stdin!.end(opts.input);
    }
  });
}
