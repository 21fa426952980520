// The one spawn site, with real processes (/bin/sh): output and exit codes, and a stop
// (timeout or abort) that reaches the whole process group, children included, SIGTERM
// first and SIGKILL after the grace period for a process that ignores SIGTERM.
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { CommandError, killGroup, run, spawnGroup } from '../../../shared/tools/exec';

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
async function gone(pid: number, ms = 5_000): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end; ) {
    if (!alive(pid)) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}
async function childPid(file: string): Promise<number> {
  for (let i = 0; i < 100 && !existsSync(file); i++) await new Promise((r) => setTimeout(r, 20));
  for (let i = 0; i < 100 && readFileSync(file, 'utf8').trim() === ''; i++) await new Promise((r) => setTimeout(r, 20));
  return Number(readFileSync(file, 'utf8').trim());
}

describe('exec', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'exec-'));
  });

  it('run: stdout of a command, stdin given', async () => {
    expect((await run('/bin/sh', ['-c', 'cat; echo done'], { input: 'in\n' })).stdout).toBe('in\ndone\n');
  });

  it('run: a non-zero exit is a CommandError with stderr', async () => {
    const err = await run('/bin/sh', ['-c', 'echo bad >&2; exit 3']).catch((e) => e);
    expect(err).toBeInstanceOf(CommandError);
    expect(err.exitCode).toBe(3);
    expect(err.stderr).toBe('bad\n');
  });

  it('run: a command that cannot start is a CommandError, not a hang', async () => {
    const err = await run(path.join(dir, 'no-such-tool'), []).catch((e) => e);
    expect(err).toBeInstanceOf(CommandError);
    expect(err.exitCode).toBeNull();
  });

  it('run: the timeout kills the group, the background child too', async () => {
    const pidFile = path.join(dir, 'child.pid');
    const err = await run('/bin/sh', ['-c', `sleep 60 & echo $! > ${pidFile}; wait`], { timeoutMs: 500 }).catch((e) => e);
    expect(err).toBeInstanceOf(CommandError);
    expect(err.stderr).toMatch(/timed out after 500 ms/);
    expect(await gone(await childPid(pidFile))).toBe(true);
  });

  it('spawnGroup: an abort sends SIGTERM, then SIGKILL after the grace period to what ignores it', async () => {
    const pidFile = path.join(dir, 'child.pid');
    const controller = new AbortController();
    const proc = spawnGroup('/bin/sh', ['-c', `trap '' TERM; sh -c 'trap "" TERM; sleep 60' & echo $! > ${pidFile}; wait`], { signal: controller.signal, killGraceMs: 300 });
    const child = await childPid(pidFile);
    const t0 = Date.now();
    controller.abort();
    const exit = await proc.exited;
    expect(exit.stopped).toBe('aborted');
    expect(exit.signal).toBe('SIGKILL');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(250);
    expect(await gone(child)).toBe(true);
  });

  it('spawnGroup: already aborted: stopped at once', async () => {
    const controller = new AbortController();
    controller.abort();
    const exit = await spawnGroup('/bin/sh', ['-c', 'sleep 60'], { signal: controller.signal }).exited;
    expect(exit.stopped).toBe('aborted');
  });

  it('killGroup: false for a group that is gone', () => {
    expect(killGroup(2 ** 22 + 12345)).toBe(false);
  });
});
