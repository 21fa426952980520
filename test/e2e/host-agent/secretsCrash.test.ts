// No secret outlives an agent crash (issue item 7). The agent runs as its own process
// and is killed with SIGKILL while virt-sysprep works on a job with a root password and
// a user password; the restarted agent recovers. Then a byte search of everything the
// agent writes (data dir, log dir, secrets dir, the temp dir it and its tools used, its
// own log output) finds neither password, the job is FAILED/INTERRUPTED and the disk is
// byte-identical. A run that completes leaves no password hash and no script text in
// the job log either (the -v -x trace shows what virt-customize writes into /etc/shadow
// and the scripts it runs: traceRedaction.ts).
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { lstatSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { agentConfig, clientFor, fixtureDisk, makeAgentDirs, spawnAgentProcess, startTestAgent, until, waitForJob } from '../../helpers/agentHarness';
import { sha256File } from '../../helpers/disk';
import { makeTestPki } from '../../helpers/tls';
import { toWireParams } from '../../../shared/wireParams';

jest.setTimeout(400_000);

/** Every regular file under `dir` (recursively) whose bytes contain `needle`. */
function filesContaining(dir: string, needle: string): string[] {
  const bytes = Buffer.from(needle);
  const hits: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = path.join(d, name);
      const st = lstatSync(p);
      if (st.isDirectory()) walk(p);
      else if (st.isFile() && readFileSync(p).includes(bytes)) hits.push(p);
    }
  };
  try {
    walk(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  return hits;
}

const secret = (what: string) => `${what}-${randomBytes(12).toString('hex')}`;

describe('secrets after an agent crash', () => {
  it('leaves no password anywhere the agent writes, and the disk untouched', async () => {
    const dirs = makeAgentDirs('agent-secrets-');
    const pki = await makeTestPki(path.join(dirs.base, 'pki'));
    const disk = await fixtureDisk(dirs, 'vm.qcow2');
    const before = await sha256File(disk);
    const config = agentConfig(dirs, pki, { leaseTimeoutSec: 30 });
    // The agent and its tools (libguestfs) make their temp entries here; the appliance
    // cache stays where it is (no rebuild).
    const tmp = path.join(dirs.base, 'tmp');
    mkdirSync(tmp);
    const env = {
      TMPDIR: tmp,
      LIBGUESTFS_CACHEDIR: process.env.LIBGUESTFS_CACHEDIR ?? process.env.TMPDIR ?? '/var/tmp',
      OVIRT_SYSPREP_LOG_LEVEL: 'debug',
    };
    const S1 = secret('rootpw');
    const S2 = secret('userpw');
    const S3 = secret('legacy');

    const first = await spawnAgentProcess(config, dirs.base, env);
    let client = clientFor(first.address, pki);
    await client.startSysprep({
      jobId: 'secret-1',
      disks: [{ path: disk }],
      spec: { only: ['machine-id', 'logfiles'], ...toWireParams({ rootPassword: { value: S1 }, users: [{ name: 'student', password: { value: S2 } }] }) },
    });
    // Kill once virt-sysprep is really working (first operation performed).
    for await (const e of client.watchJob('secret-1')) if (e.type === 'operation') break;
    // The files the tool reads are there now, 0600 in a 0700 directory: what the kill leaves.
    const jobDir = path.join(dirs.secretsDir, 'secret-1');
    expect(statSync(dirs.secretsDir).mode & 0o777).toBe(0o700);
    expect(statSync(jobDir).mode & 0o777).toBe(0o700);
    expect(filesContaining(dirs.secretsDir, S1)).toEqual([path.join(jobDir, 'f0')]);
    expect(filesContaining(dirs.secretsDir, S2)).toEqual([path.join(jobDir, 'f1')]);
    expect(statSync(path.join(jobDir, 'f0')).mode & 0o777).toBe(0o600);
    first.child.kill('SIGKILL');
    await new Promise((r) => first.child.once('exit', r));
    client.close();
    // What an older version left: secrets under <data_dir>/private.
    mkdirSync(path.join(dirs.dataDir, 'private', 'old-job'), { recursive: true });
    writeFileSync(path.join(dirs.dataDir, 'private', 'old-job', 'f0'), S3, { mode: 0o600 });

    const second = await spawnAgentProcess(config, dirs.base, env);
    client = clientFor(second.address, pki);
    const orphanAlive = () => spawnSync('pgrep', ['-f', 'secret-1/disk0']).stdout.length > 0;
    try {
      await until(() => !orphanAlive(), 10_000, 'orphan tool to be stopped');
      const job = await client.getJob('secret-1');
      expect(job.state).toBe('FAILED');
      expect(job.error!.code).toBe('INTERRUPTED');
      // Recovery emptied the secrets dir before serving (only the agent's owner record).
      expect(readdirSync(dirs.secretsDir)).toEqual(['.owner']);
    } finally {
      client.close();
      second.child.kill('SIGTERM');
      await new Promise((r) => second.child.once('exit', r));
    }

    // The log of the run exists and names the files, not their contents.
    const log = readFileSync(path.join(dirs.logDir, 'secret-1.log'), 'utf8');
    expect(log).toContain(`--root-password file:${path.join(jobDir, 'f0')}`);
    expect(log).toContain(`--password student:file:${path.join(jobDir, 'f1')}`);
    // libguestfs's temp dir (left by the killed run) is there: the redirect worked.
    expect(readdirSync(tmp).length).toBeGreaterThan(0);
    const agentOutput = first.output() + second.output();
    expect(agentOutput).toMatch(/recovered after an unclean stop/);
    for (const s of [S1, S2, S3]) {
      for (const dir of [dirs.dataDir, dirs.logDir, dirs.secretsDir, tmp]) expect({ dir, hits: filesContaining(dir, s) }).toEqual({ dir, hits: [] });
      expect(agentOutput).not.toContain(s);
    }
    expect(await sha256File(disk)).toBe(before);
  });

  it('a run that completes leaves no password, nor its hash, nor its script, in the job log', async () => {
    const t = await startTestAgent({ toolTrace: true });
    try {
      const disk = await fixtureDisk(t.dirs, 'done.qcow2');
      const S = secret('pw');
      const T = secret('token');
      await t.client.startSysprep({
        jobId: 'secret-2',
        disks: [{ path: disk }],
        spec: { only: ['machine-id'], ...toWireParams({ rootPassword: { value: S }, scripts: [`#!/bin/sh\nAPI_TOKEN="${T}"\ntest -n "$API_TOKEN"\n`] }) },
      });
      const job = await waitForJob(t.client, 'secret-2');
      expect(job.state).toBe('SUCCEEDED');
      const log = readFileSync(path.join(t.dirs.logDir, 'secret-2.log'), 'utf8');
      // The trace did reach the shadow update: its value (the new hash) is cut.
      expect(log).toMatch(/libguestfs: trace: aug_set "\/files\/etc\/shadow\/root\/password" <redacted>/);
      expect(log).not.toMatch(/"\$(y|6|5|2b)\$/);
      // The script ran (virt-customize says so) and its text is nowhere.
      expect(log).toMatch(/Running: .*secret-2\/f1/);
      for (const s of [S, T]) for (const dir of [t.dirs.dataDir, t.dirs.logDir, t.dirs.secretsDir]) expect(filesContaining(dir, s)).toEqual([]);
      expect(readdirSync(t.dirs.secretsDir)).toEqual(['.owner']);
    } finally {
      await t.stop();
    }
  });
});
