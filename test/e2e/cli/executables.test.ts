// The three built executables as a shell runs them (issue 11): `--version` and `--help`
// on the engine and the agent, and `CMD --help | head -1` for EVERY command of the CLI
// on a real pipe whose reader is gone before the first write: no stack trace, the
// quiet SIGPIPE status 141 (it died with EPIPE "2 of 6 runs"); `ovirt-sysprep vms` with
// no flags against `ovirt-sysprep-engine --local` (npm start) finds its admin.token;
// `ovirt-sysprep-engine --copy-database-to` copies and refuses a password in argv.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Command } from 'commander';
import { buildProgram } from '../../../engine-plugin/cli/program';
import { REPO_ROOT } from '../../helpers/guestImage';
import { assertCliBuilt } from './runCli';

jest.setTimeout(300_000); // one node start per CLI command: slow on a loaded machine

const VERSION = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')).version as string;
const bin = (name: string) => path.join(REPO_ROOT, 'bin', name);

/** Runs `node bin/NAME args`; `closed`: the read end of its stdout is closed before it writes. */
function run(name: string, args: string[], closed = false, env: NodeJS.ProcessEnv = { ...process.env, OVIRT_SYSPREP_CONFIG: '/nonexistent' }): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin(name), ...args], { stdio: ['ignore', 'pipe', 'pipe'], env });
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

  it('ovirt-sysprep-engine --copy-database-to copies and exits; it refuses a password in argv and the database itself', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'copy-db-'));
    try {
      // Its own config file: not the machine's /etc/ovirt-sysprep/engine.conf.
      writeFileSync(path.join(dir, 'engine.conf'), '[engine]\ndatabase = sqlite:engine.db\n');
      const engine = (to: string) => run('ovirt-sysprep-engine', ['--config', path.join(dir, 'engine.conf'), '--data-dir', dir, '--copy-database-to', to]);
      const secret = await engine('postgresql://u:hunter2@127.0.0.1/x');
      expect(secret).toMatchObject({ code: 1, out: '' });
      expect(secret.err).toMatch(/^ovirt-sysprep-engine: --copy-database-to: the URL holds a password: put it in a passfile/);
      expect(secret.err).not.toContain('hunter2');
      expect(existsSync(path.join(dir, 'engine.db'))).toBe(false); // refused before anything was opened
      expect(await engine('sqlite:engine.db')).toMatchObject({ code: 1, err: expect.stringMatching(/is the configured database itself/) });
      const copied = await engine('sqlite:copy.db');
      expect(copied).toMatchObject({ code: 0, err: '' });
      expect(copied.out).toMatch(new RegExp(`^copying ${dir}/engine.db into ${dir}/copy.db\n  hosts: 0 row\\(s\\)\n(.|\n)*  row_counts: 3 row\\(s\\)\ncopied 3 row\\(s\\) in [0-9.]+ s; now set \\[engine\\] database = sqlite:copy.db and start the engine\n$`));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('ovirt-sysprep finds an engine started with --local, with no flags, until it stops', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'cli-local-'));
    const env = { PATH: process.env.PATH, HOME: path.join(dir, 'home'), XDG_STATE_HOME: path.join(dir, 'state'), LIBGUESTFS_BACKEND: 'direct' };
    const engine = spawn(process.execPath, [bin('ovirt-sysprep-engine'), '--local', '--data-dir', path.join(dir, 'engine'), '--listen', '127.0.0.1:0'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = '';
        engine.stdout.on('data', (b) => {
          out += b;
          const m = /listening on (\S+)\/api\/v1/.exec(out);
          if (m) resolve(m[1]);
        });
        engine.on('exit', (code) => reject(new Error(`engine exited ${code}: ${out}`)));
      });
      const r = await run('ovirt-sysprep', ['vms'], false, env);
      expect(r).toEqual({ code: 0, out: 'no vms\n', err: '' });
      expect(readFileSync(path.join(dir, 'state', 'ovirt-sysprep', 'local-engine.conf'), 'utf8')).toContain(`url = ${url}`);
    } finally {
      const exited = new Promise((resolve) => engine.on('exit', resolve));
      engine.kill('SIGTERM');
      await exited;
    }
    expect(existsSync(path.join(dir, 'state', 'ovirt-sysprep', 'local-engine.conf'))).toBe(false);
    rmSync(dir, { recursive: true, force: true });
  });
});
