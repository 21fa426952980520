// The secrets directory on the real file system: its mode, what start-up removes, and
// a second agent kept from emptying a directory a live agent uses.
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { SecretsDir, SecretsDirError } from '../../../host-agent/storage/secretsDir';
import { createLogger } from '../../../shared/logger';

const log = createLogger({ service: 't', silent: true });

describe('SecretsDir', () => {
  let base: string;
  beforeEach(() => {
    base = mkdtempSync(path.join(tmpdir(), 'secrets-dir-'));
  });

  it('creates the directory 0700, and job directories 0700 with 0600 files', async () => {
    const dir = path.join(base, 'run', 'secrets');
    const s = new SecretsDir(dir, path.join(base, 'data'), log);
    await s.recover();
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    await s.write('job-1', [{ path: path.join(s.jobDir('job-1'), 'f0'), content: 'pw' }]);
    expect(statSync(s.jobDir('job-1')).mode & 0o777).toBe(0o700);
    expect(statSync(path.join(s.jobDir('job-1'), 'f0')).mode & 0o777).toBe(0o600);
    await s.remove('job-1');
    expect(existsSync(s.jobDir('job-1'))).toBe(false);
  });

  it('refuses a file outside the job directory', async () => {
    const s = new SecretsDir(path.join(base, 's'), path.join(base, 'data'), log);
    await s.recover();
    await expect(s.write('job-1', [{ path: path.join(base, 'elsewhere'), content: 'pw' }])).rejects.toThrow(/outside/);
  });

  it('at start removes every entry, whatever it is, and the legacy <data_dir>/private', async () => {
    const dir = path.join(base, 's');
    const data = path.join(base, 'data');
    mkdirSync(path.join(dir, 'job-a'), { recursive: true, mode: 0o700 });
    writeFileSync(path.join(dir, 'job-a', 'f0'), 'pw');
    writeFileSync(path.join(dir, 'stray'), 'x');
    symlinkSync('/etc/passwd', path.join(dir, 'link'));
    mkdirSync(path.join(data, 'private', 'old'), { recursive: true });
    writeFileSync(path.join(data, 'private', 'old', 'f0'), 'pw');
    const s = new SecretsDir(dir, data, log);
    const removed = await s.recover();
    expect(removed.sort()).toEqual(['job-a', 'link', 'stray', path.join(data, 'private')].sort());
    expect(readdirSync(dir)).toEqual(['.owner']);
    expect(existsSync(path.join(data, 'private'))).toBe(false);
    expect(existsSync('/etc/passwd')).toBe(true);
    await s.release();
    expect(readdirSync(dir)).toEqual([]);
  });

  it('enforces 0700 on an existing directory', async () => {
    const dir = path.join(base, 's');
    mkdirSync(dir);
    chmodSync(dir, 0o755);
    await new SecretsDir(dir, path.join(base, 'data'), log).recover();
    expect(statSync(dir).mode & 0o777).toBe(0o700);
  });

  it('refuses a symlink or a file as the directory', async () => {
    const target = path.join(base, 'target');
    mkdirSync(target, { mode: 0o700 });
    symlinkSync(target, path.join(base, 'link'));
    await expect(new SecretsDir(path.join(base, 'link'), path.join(base, 'data'), log).recover()).rejects.toThrow(SecretsDirError);
    writeFileSync(path.join(base, 'file'), '');
    await expect(new SecretsDir(path.join(base, 'file'), path.join(base, 'data'), log).recover()).rejects.toThrow(/not a directory/);
  });

  it('refuses a directory a live agent of another data dir uses, takes over from a dead one or from itself', async () => {
    const dir = path.join(base, 's');
    const a = new SecretsDir(dir, path.join(base, 'data-a'), log);
    await a.recover();
    await a.write('job-a', []);
    await expect(new SecretsDir(dir, path.join(base, 'data-b'), log).recover()).rejects.toThrow(/in use by the agent of data_dir .*data-a/);
    expect(existsSync(a.jobDir('job-a'))).toBe(true);

    // The same data dir is the same agent, restarted.
    await new SecretsDir(dir, path.join(base, 'data-a'), log).recover();

    // A record left by a process that is gone does not hold the directory.
    const child = spawn(process.execPath, ['-e', '']);
    await new Promise((r) => child.once('exit', r));
    writeFileSync(path.join(dir, '.owner'), JSON.stringify({ dataDir: path.join(base, 'data-a'), pid: child.pid }));
    await new SecretsDir(dir, path.join(base, 'data-b'), log).recover();
  });
});
