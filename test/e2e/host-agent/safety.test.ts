// Nothing lost: failed and cancelled jobs leave the disk byte-identical; two jobs never
// work on one disk; a disk a running QEMU holds is refused; bad input spawns nothing.
import { ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { SysprepError } from '../../../shared/errors';
import type { StartSysprepRequest } from '../../../shared/wireTypes';
import { AgentStarter } from '../../../engine-plugin/dispatch/AgentStarter';
import { fixtureDisk, startTestAgent, TestAgent, until, waitForJob } from '../../helpers/agentHarness';
import { sha256File } from '../../helpers/disk';
import { toStruct, toWireParams } from '../../../shared/wireParams';

jest.setTimeout(300_000);

async function rejection(p: Promise<unknown>): Promise<SysprepError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof SysprepError) return err;
    throw err;
  }
  throw new Error('expected the call to fail');
}

describe('agent safety (real virt-sysprep)', () => {
  let t: TestAgent;
  beforeAll(async () => {
    t = await startTestAgent({ maxJobs: 4 });
  });
  afterAll(() => t.stop());

  it('a job whose virt-sysprep fails leaves the disk byte-identical and says why', async () => {
    const disk = await fixtureDisk(t.dirs, 'fail.qcow2');
    const before = await sha256File(disk);
    await t.client.startSysprep({
      jobId: 'fail-1',
      disks: [{ path: disk, format: 'qcow2' }],
      spec: { only: ['machine-id', 'ssh-hostkeys'], ...toWireParams({ hostname: 'changed', scripts: ['#!/bin/sh\necho breaking >&2\nexit 1\n'] }) },
    });
    const job = await waitForJob(t.client, 'fail-1');
    expect(job.state).toBe('FAILED');
    expect(job.error!.code).toBe('TOOL_FAILED');
    expect(job.error!.message).toMatch(/command exited with an error/);
    expect(job.error!.message).toContain(job.logPath);
    expect(job.error!.logPath).toBe(job.logPath);
    expect(existsSync(job.logPath)).toBe(true);
    expect(await sha256File(disk)).toBe(before);
    expect(readdirSync(path.join(t.dirs.dataDir, 'overlays'))).toEqual([]);
  });

  it('a second job on a busy disk fails with the lease holder named; a cancelled job changes nothing', async () => {
    const disk = await fixtureDisk(t.dirs, 'busy.qcow2');
    const before = await sha256File(disk);
    const req = (jobId: string): StartSysprepRequest => ({ jobId, disks: [{ path: disk }], spec: { only: ['machine-id', 'logfiles'] } });
    await t.client.startSysprep(req('holder-1'));
    await until(async () => (await t.client.getJob('holder-1')).state === 'RUNNING', 30_000, 'holder running');
    // Let virt-sysprep get going before cancelling it.
    await until(() => existsSync(path.join(t.dirs.logDir, 'holder-1.log')), 30_000, 'tool log');

    await t.client.startSysprep(req('second-1'));
    const second = await waitForJob(t.client, 'second-1');
    expect(second.state).toBe('FAILED');
    expect(second.error!.code).toBe('LEASE_HELD');
    expect(second.error!.message).toMatch(/leased by job holder-1 on host test-host/);
    expect(JSON.parse(second.error!.detailsJson).holder.jobId).toBe('holder-1');
    expect(existsSync(path.join(t.dirs.logDir, 'second-1.log'))).toBe(false); // never spawned

    const cancelling = await t.client.cancelJob('holder-1');
    expect(['CANCELLING', 'CANCELLED']).toContain(cancelling.state);
    const holder = await waitForJob(t.client, 'holder-1');
    expect(holder.state).toBe('CANCELLED');
    expect(holder.error!.code).toBe('CANCELLED');
    expect(await sha256File(disk)).toBe(before);
    expect(readdirSync(path.join(t.dirs.dataDir, 'overlays'))).toEqual([]);
    expect(await t.agent.leases.holder({ real: disk, root: t.dirs.root })).toBeNull();
  });

  describe('a disk held open by a running QEMU', () => {
    let qemu: ChildProcess;
    let disk: string;
    beforeAll(async () => {
      disk = await fixtureDisk(t.dirs, 'running.qcow2');
      qemu = spawn('qemu-system-x86_64', ['-machine', 'accel=tcg', '-m', '64', '-display', 'none', '-nodefaults', '-S', '-drive', `file=${disk},format=qcow2,if=virtio`], { stdio: 'ignore' });
      // QEMU takes the image lock as it opens the drive: wait until qemu-img sees it.
      await until(() => {
        const r = require('node:child_process').spawnSync('qemu-img', ['info', disk]);
        return r.status !== 0;
      }, 20_000, 'qemu to lock the image');
    });
    afterAll(() => qemu.kill('SIGKILL'));

    it('is refused as in use before any job is created', async () => {
      const before = await sha256File(disk);
      const err = await rejection(t.client.startSysprep({ jobId: 'inuse-1', disks: [{ path: disk }], spec: { only: ['machine-id'] } }));
      expect(err.code).toBe('DISK_IN_USE');
      expect(err.kind).toBe('conflict');
      expect(err.message).toContain(disk);
      await expect(t.client.getJob('inuse-1')).rejects.toMatchObject({ code: 'JOB_NOT_FOUND' });
      expect(await sha256File(disk)).toBe(before);
    });
  });

  describe('bad input: a clear error naming the field, and nothing spawned', () => {
    let good: string;
    beforeAll(async () => {
      good = await fixtureDisk(t.dirs, 'good.qcow2');
      writeFileSync(path.join(t.dirs.root, 'notes.txt'), 'this is not a disk image\n');
      mkdirSync(path.join(t.dirs.base, 'outside'), { recursive: true });
      writeFileSync(path.join(t.dirs.base, 'outside', 'secret.qcow2'), 'x');
      symlinkSync(path.join(t.dirs.base, 'outside', 'secret.qcow2'), path.join(t.dirs.root, 'escape.qcow2'));
    });

    const cases: [string, () => Partial<StartSysprepRequest>, string, string, RegExp][] = [
      ['unknown operation', () => ({ spec: { enable: ['no-such-op'] } }), 'UNKNOWN_OPERATION', 'operations.enable[0]', /unknown operation/],
      ['path outside the roots', () => ({ disks: [{ path: '/etc/passwd' }] }), 'PATH_OUTSIDE_ROOTS', 'disks[0].path', /outside the storage roots/],
      ['../ traversal', () => ({ disks: [{ path: `${t.dirs.root}/../outside/secret.qcow2` }] }), 'PATH_TRAVERSAL', 'disks[0].path', /"\.\." is not allowed/],
      ['symlink escaping the roots', () => ({ disks: [{ path: path.join(t.dirs.root, 'escape.qcow2') }] }), 'PATH_OUTSIDE_ROOTS', 'disks[0].path', /resolves to .*outside/],
      ['relative path', () => ({ disks: [{ path: 'images/good.qcow2' }] }), 'INVALID_ARGUMENT', 'disks[0].path', /must be an absolute path/],
      ['missing file', () => ({ disks: [{ path: path.join(t.dirs.root, 'nope.qcow2') }] }), 'DISK_NOT_FOUND', 'disks[0].path', /no such disk/],
      ['a file that is not a disk image', () => ({ disks: [{ path: path.join(t.dirs.root, 'notes.txt') }] }), 'NOT_A_DISK', 'disks[0].path', /not a recognised disk image/],
      ['a text file declared qcow2', () => ({ disks: [{ path: path.join(t.dirs.root, 'notes.txt'), format: 'qcow2' }] }), 'NOT_A_DISK', 'disks[0].path', /not a qcow2 image/],
      ['invalid hostname', () => ({ spec: { ...toWireParams({ hostname: 'under_score!' }) } }), 'INVALID_ARGUMENT', 'params.hostname', /not a valid hostname/],
      ['invalid timezone', () => ({ spec: { ...toWireParams({ timezone: 'Europe/Atlantis' }) } }), 'INVALID_ARGUMENT', 'params.timezone', /time zone/],
      ['malformed ssh key', () => ({ spec: { ...toWireParams({ users: [{ name: 'root', sshKeys: ['ssh-rsa not-base64!'] }] }) } }), 'INVALID_ARGUMENT', 'params.users[0].sshKeys[0]', /OpenSSH public key/],
      ['a value starting with -', () => ({ spec: { ...toWireParams({ install: ['--force-yes'] }) } }), 'INVALID_ARGUMENT', 'params.install[0]', /must not start with "-"/],
      ['a customisation with customize disabled', () => ({ spec: { disable: ['customize'], ...toWireParams({ hostname: 'web' }) } }), 'CUSTOMIZE_DISABLED', 'params.hostname', /needs the "customize" operation/],
      ['params as the old JSON string (an older engine)', () => ({ spec: { paramsJson: '{"hostname":"web"}' } }), 'PARAMS_JSON_UNSUPPORTED', 'spec.params_json', /no longer accepted/],
      ['a secret sent as a plain param', () => ({ spec: { params: toStruct({ rootPassword: { value: 'pw' } }) } }), 'INVALID_ARGUMENT', 'spec.params.rootPassword', /belongs in spec.secret_params/],
      ['a plain param sent as a secret', () => ({ spec: { secretParams: toStruct({ hostname: 'web' }) } }), 'INVALID_ARGUMENT', 'spec.secret_params.hostname', /belongs in spec.params/],
      ['an unknown customisation', () => ({ spec: { ...toWireParams({ noSuchThing: 1 }) } }), 'UNKNOWN_FIELD', 'params.noSuchThing', /not a known field/],
      ['a job id with a slash', () => ({ jobId: '../evil' }), 'INVALID_ARGUMENT', 'job_id', /must be/],
    ];

    it.each(cases)('%s', async (_name, make, code, field, message) => {
      const jobsBefore = (await t.client.listJobs()).length;
      const logsBefore = readdirSync(t.dirs.logDir).length;
      const req: StartSysprepRequest = { jobId: `bad-${code}-${field}`.replace(/[^A-Za-z0-9._-]/g, '_'), disks: [{ path: good }], spec: { only: ['machine-id'] }, ...make() };
      const err = await rejection(t.client.startSysprep(req));
      expect(err.code).toBe(code);
      expect(err.details.field).toBe(field);
      expect(err.message).toMatch(message);
      expect((await t.client.listJobs()).length).toBe(jobsBefore);
      expect(readdirSync(t.dirs.logDir).length).toBe(logsBefore);
    });

    it('refuses them the same way on the start stream (what the engine uses), each in its own reply', async () => {
      const starter = new AgentStarter(t.client, { hostId: 'stream', deadlineMs: 30_000 });
      try {
        const picked = [cases[0], cases[2], cases[8]];
        const errs = await Promise.all(picked.map(([, make], i) => rejection(starter.start({ jobId: `stream-bad-${i}`, disks: [{ path: good }], spec: { only: ['machine-id'] }, ...make() }))));
        expect(errs.map((e) => [e.code, e.details.field])).toEqual(picked.map(([, , code, field]) => [code, field]));
        expect((await t.client.listJobs()).filter((j) => j.id.startsWith('stream-bad-'))).toEqual([]);
      } finally {
        starter.close();
      }
    });
  });
});
