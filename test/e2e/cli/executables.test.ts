// The three built executables as a shell runs them (issue 11): `--version` and `--help`
// on the engine and the agent, and `CMD --help | head -1` for EVERY command of the CLI
// on a real pipe whose reader is gone before the first write: no stack trace, the
// quiet SIGPIPE status 141 (it died with EPIPE "2 of 6 runs").
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { Command } from 'commander';
import { buildProgram } from '../../../engine-plugin/cli/program';
import { REPO_ROOT } from '../../helpers/guestImage';
import { assertCliBuilt } from './runCli';

jest.setTimeout(120_000);

const VERSION = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')).version as string;
const bin = (name: string) => path.join(REPO_ROOT, 'bin', name);

/** Runs `node bin/NAME args`; `closed`: the read end of its stdout is closed before it writes. */
function run(name: string, args: string[], closed = false): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin(name), ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, OVIRT_SYSPREP_CONFIG: '/nonexistent' } });
    let out = '';
    let err = '';
    if (closed) child.stdout.destroy();
    else child.stdout.on('data', (b) => (out += b));
    child.stderr.on('data', (b) => (err += b));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out, err }));
  });
}

/** Every command path of the CLI (`vm sysprep`, `jobs`, ...), from the program itself. */
function commandPaths(): string[][] {
  const io = { out() {}, err() {}, env: {}, stdout: process.stdout, files: { read: () => '', mode: () => 0o600 } };
  const walk = (c: Command, prefix: string[]): string[][] => c.commands.flatMap((s) => [[...prefix, s.name()], ...walk(s, [...prefix, s.name()])]);
  return walk(buildProgram(io, () => undefined), []);
}

describe('executables', () => {
  beforeAll(() => assertCliBuilt());

  it.each(['ovirt-sysprep-engine', 'ovirt-sysprep-agent', 'ovirt-sysprep'])('%s --version prints the package version; --help exits 0', async (name) => {
    expect(await run(name, ['--version'])).toEqual({ code: 0, out: `${VERSION}\n`, err: '' });
    const help = await run(name, ['--help']);
    expect(help).toMatchObject({ code: 0, err: '' });
    expect(help.out).toMatch(new RegExp(`^Usage: ${name} `));
  });

  it('every CLI command: --help into a closed pipe ends quietly with 141', async () => {
    const paths = commandPaths();
    expect(paths.map((p) => p.join(' '))).toEqual(expect.arrayContaining(['vm sysprep', 'jobs', 'job watch']));
    for (const p of [[], ...paths]) {
      const r = await run('ovirt-sysprep', [...p, '--help'], true);
      expect({ cmd: p.join(' '), code: r.code, err: r.err }).toEqual({ cmd: p.join(' '), code: 141, err: '' });
    }
  });

  // Their commander exits the process right after writing the help: 0 when that comes
  // before the EPIPE is reported, 141 otherwise; never a stack trace.
  it.each(['ovirt-sysprep-engine', 'ovirt-sysprep-agent'])('%s --help into a closed pipe ends quietly', async (name) => {
    const r = await run(name, ['--help'], true);
    expect(r.err).toBe('');
    expect([0, 141]).toContain(r.code);
  });
});
