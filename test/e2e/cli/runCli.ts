// The built `ovirt-sysprep` (bin/ovirt-sysprep over dist/) as an administrator runs it:
// a child process (async: the engine under test answers from the test's own process),
// optionally on a pseudo-terminal through script(1). Shared by the CLI e2e tests.
import { spawn } from 'node:child_process';
import { existsSync, promises as fs, statSync } from 'node:fs';
import * as path from 'node:path';
import { REPO_ROOT } from '../../helpers/guestImage';

export const BIN = path.join(REPO_ROOT, 'bin', 'ovirt-sysprep');

export interface CliResult { code: number | null; out: string; err: string }

const quote = (a: string) => `'${a.replace(/'/g, `'\\''`)}'`;

/** `bin`: another built executable of bin/ (the agent's `compare`); the CLI unless told. */
export function runCli(args: string[], env: NodeJS.ProcessEnv, opts: { pty?: boolean; bin?: string } = {}): Promise<CliResult> {
  const bin = opts.bin ?? BIN;
  const [cmd, argv] = opts.pty
    ? ['script', ['-qfec', [process.execPath, bin, ...args].map(quote).join(' '), '/dev/null']]
    : [process.execPath, [bin, ...args]];
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, argv, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (b) => (out += b));
    child.stderr.on('data', (b) => (err += b));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out, err }));
  });
}

/** Refuses to test a stale build: dist/ must be at least as new as every CLI source. */
export async function assertCliBuilt(): Promise<void> {
  const built = path.join(REPO_ROOT, 'dist', 'engine-plugin', 'cli', 'main.js');
  if (!existsSync(built)) throw new Error(`${built} is missing: run "npm run build" (npm run test:e2e does)`);
  const src = path.join(REPO_ROOT, 'engine-plugin', 'cli');
  for (const f of await fs.readdir(src)) {
    const out = path.join(REPO_ROOT, 'dist', 'engine-plugin', 'cli', f.replace(/\.ts$/, '.js'));
    if (!existsSync(out) || statSync(out).mtimeMs < statSync(path.join(src, f)).mtimeMs) throw new Error(`${out} is older than its source: run "npm run build"`);
  }
}
