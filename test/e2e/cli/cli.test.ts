// The `ovirt-sysprep` CLI as an administrator runs it (bin/ovirt-sysprep, built code in
// dist/) against a running engine + host agent with REAL virt-sysprep on real images.
// Two real runs only, at the same time: a VM syspreped with customisations (secrets and
// a script from files) followed live on a pseudo-terminal (bars), and a pool of two VMs
// (one has lost its disk: fails fast at the agent) followed live through a pipe (plain
// lines) and then replayed. Every other case fails before or without a run (the
// inventory commands too: this stack's automatic resets are off).
import { chmodSync, promises as fs, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { copyGuestImage } from '../../helpers/guestImage';
import { ADMIN, OPERATOR, Stack, startStack } from '../engine/stack';
import { assertCliBuilt, CliResult as Result, runCli } from './runCli';

jest.setTimeout(15 * 60_000);

const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGxnQ2vLQ0H9n3w2b7bq9d0l2m1o4y7G0t1kP9y2Wq3R admin@example';
const ROOT_PASSWORD = 'cli-e2e-Root-pw-7d1';

/** Strips terminal control sequences (cli-progress redraws) from pty output. */
const plain = (s: string) => s.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '').replace(/\r\n/g, '\n').replace(/\r/g, '\n');

describe('ovirt-sysprep CLI over a running engine (real virt-sysprep)', () => {
  let s: Stack;
  let dir: string;
  let env: NodeJS.ProcessEnv;
  let files: Record<'token' | 'pw' | 'key' | 'script' | 'conf', string>;

  const cli = (args: string[], opts: { env?: NodeJS.ProcessEnv; pty?: boolean } = {}) => runCli(args, opts.env ?? env, opts);
  const json = async (args: string[]) => {
    const r = await cli([...args, '--json']);
    expect(r).toMatchObject({ code: 0, err: '' });
    return JSON.parse(r.out);
  };

  beforeAll(async () => {
    await assertCliBuilt();

    s = await startStack({ maxJobs: 2 });
    dir = s.dir;
    const tplDisk = path.join(s.storage, 'class.qcow2');
    await copyGuestImage(tplDisk);
    expect((await s.api('POST', '/templates', { name: 'class', disks: [{ path: tplDisk }] })).status).toBe(201);
    for (const name of ['web1', 'gone']) expect((await s.api('POST', '/vms', { name, template: 'class' })).status).toBe(201);
    const pool = await s.api('POST', '/pools', { name: 'lab', template: 'class', size: 2, vmNamePattern: 'lab-${index}' });
    expect(pool.status).toBe(201);
    for (const name of ['gone', 'lab-2']) await fs.rm((await s.api('GET', `/vms/${name}`)).body.disks[0].path);

    const write = (name: string, text: string) => {
      const p = path.join(dir, name);
      writeFileSync(p, text);
      chmodSync(p, 0o600);
      return p;
    };
    files = {
      token: write('admin.token', `${ADMIN}\n`),
      pw: write('root.pw', `${ROOT_PASSWORD}\n`),
      key: write('admin.pub', `${KEY}\n`),
      script: write('mark.sh', '#!/bin/sh\necho cli-e2e > /etc/cli-e2e-mark\n'),
      conf: '',
    };
    files.conf = write('cli.conf', `url = ${s.url}\ntoken_file = ${files.token}\n`);
    env = { PATH: process.env.PATH, HOME: dir, OVIRT_SYSPREP_URL: s.url, OVIRT_SYSPREP_TOKEN: ADMIN };
  });
  afterAll(() => s?.close());

  it('lists operations, profiles, VMs, pools, templates and hosts as tables and as JSON', async () => {
    const tables: Record<string, RegExp> = {
      operations: /^NAME +DEFAULT +DESCRIPTION\n(.*\n)*machine-id +yes /m,
      profiles: /^clone-reset +yes /m,
      vms: /^NAME +ID +STATUS +HOST +DISKS\n(.*\n)*web1 +\S+ +down /m,
      pools: /^lab +\S+ +2 /m,
      templates: /^class +\S+ +1$/m,
      hosts: /^e2e-host +e2e-host +yes +tcg +1\.\d+/m,
    };
    for (const [cmd, re] of Object.entries(tables)) {
      const r = await cli([cmd]);
      expect({ cmd, ...r }).toMatchObject({ cmd, code: 0, err: '' });
      expect(r.out).toMatch(re);
    }
    expect((await json(['operations'])).map((o: { name: string }) => o.name)).toEqual(expect.arrayContaining(['machine-id', 'ssh-hostkeys', 'customize']));
    expect((await json(['profiles'])).map((p: { name: string }) => p.name)).toEqual(expect.arrayContaining(['clone-reset', 'template-seal', 'full-defaults']));
    expect((await json(['vms'])).map((v: { name: string }) => v.name).sort()).toEqual(['gone', 'lab-1', 'lab-2', 'web1']);
    expect(await json(['vms', '--search', 'lab', '--limit', '1'])).toHaveLength(1);
    expect(await json(['pools'])).toEqual([expect.objectContaining({ name: 'lab', vmIds: [expect.any(String), expect.any(String)] })]);
    expect(await json(['templates'])).toEqual([expect.objectContaining({ name: 'class' })]);
    expect(await json(['hosts'])).toEqual([expect.objectContaining({ id: 'e2e-host', healthy: true })]);
    expect(await json(['vm', 'show', 'web1'])).toMatchObject({ name: 'web1', status: 'down' });
    expect(await json(['pool', 'show', 'lab'])).toMatchObject({ name: 'lab', vmIds: expect.any(Array) });
    expect(await json(['template', 'show', 'class'])).toMatchObject({ name: 'class' });
    const shown = await cli(['vm', 'show', 'web1']);
    expect(shown.out).toMatch(/^name: web1\n(.*\n)*status: down\n/m);
  });

  it('registers, clones, creates a pool and deletes them again; only the clones\' files go (real agent and qemu-img)', async () => {
    const disk = path.join(s.storage, 'base2.qcow2');
    await fs.copyFile((await s.api('GET', '/templates/class')).body.disks[0].path, disk);
    expect(await cli(['template', 'register', 'base2', '--disk', disk])).toMatchObject({ code: 0, out: expect.stringMatching(/^template base2 registered/) });
    const clone = await cli(['vm', 'clone', 'c2', '--template', 'base2', '-o', 'yaml']);
    expect(clone).toMatchObject({ code: 0, err: '' });
    const overlay = /path: (\S+)/.exec(clone.out)![1];
    await fs.access(overlay);
    expect(await cli(['pool', 'create', 'lab2', '--template', 'base2', '--size', '2'])).toMatchObject({ code: 0, out: expect.stringMatching(/with 2 VMs/) });
    expect(await cli(['vms', '-o', 'wide', '--search', 'lab2'])).toMatchObject({ code: 0, out: expect.stringMatching(/^NAME .* TEMPLATE\s+CREATED\n(lab2-\d .*\n){2}$/) });

    expect(await cli(['template', 'delete', 'base2'])).toMatchObject({ code: 1, err: expect.stringMatching(/\[IN_USE\]/) });
    expect(await cli(['pool', 'delete', 'lab2'])).toEqual({ code: 0, out: 'pool lab2 deleted\n', err: '' });
    expect(await cli(['vm', 'delete', 'c2'])).toEqual({ code: 0, out: 'vm c2 deleted\n', err: '' });
    await expect(fs.access(overlay)).rejects.toThrow(/ENOENT/);
    expect(await cli(['template', 'delete', 'base2'])).toEqual({ code: 0, out: 'template base2 deleted\n', err: '' });
    await fs.access(disk); // the administrator's image stays
  });

  it('finds the engine and token from flags, the environment or the config file', async () => {
    const bare = { PATH: process.env.PATH, HOME: dir };
    const viaConfig = await cli(['templates'], { env: { ...bare, OVIRT_SYSPREP_CONFIG: files.conf } });
    expect(viaConfig).toMatchObject({ code: 0, err: '' });
    const viaFlags = await cli(['--engine', s.url, '--token-file', files.token, 'templates'], { env: bare });
    expect(viaFlags).toMatchObject({ code: 0, err: '' });
    const onArgv = await cli(['templates', '--engine', s.url, '--token', ADMIN], { env: bare });
    expect(onArgv.code).toBe(0);
    expect(onArgv.err).toMatch(/warning: a token on the command line is visible to other users/);
    expect(viaConfig.out).toBe(viaFlags.out);
  });

  it('exits 2 for bad usage, naming the field and the option the engine refused', async () => {
    const cases: [string[], RegExp, NodeJS.ProcessEnv?][] = [
      [['vm', 'sysprep', 'web1', '--colour'], /unknown option '--colour'/],
      [['vm', 'sysprep', 'web1', '--hostname', 'bad_name'], /params\.hostname: is not a valid hostname.*\[INVALID_ARGUMENT\] \(option --hostname\)/],
      [['vm', 'sysprep', 'web1', '--enable', 'ssh-hostkeys,teleport'], /operations\.enable\[1\]: unknown operation "teleport".*\[UNKNOWN_OPERATION\] \(option --enable\)/],
      [['vm', 'sysprep', 'web1', '--root-password-file', path.join(dir, 'missing')], /--root-password-file: cannot read .*missing: ENOENT/],
      [['vm', 'sysprep', 'nope'], /no VM "nope" \[VM_NOT_FOUND\]/],
      [['vms'], /the bearer token is not valid \[UNAUTHENTICATED\]/, { ...env, OVIRT_SYSPREP_TOKEN: 'not-a-token-at-all' }],
      [['vms'], /no API token/, { PATH: process.env.PATH, HOME: dir, OVIRT_SYSPREP_URL: s.url }],
      [['vm', 'sysprep', 'web1', '--script', files.script], /params\.scripts: the operator role may not send .*\[FORBIDDEN_FIELD\] \(option --script\)/, { ...env, OVIRT_SYSPREP_TOKEN: OPERATOR }],
    ];
    for (const [args, message, e] of cases) {
      const r = await cli(args, { env: e });
      expect({ args, code: r.code }).toEqual({ args, code: 2 });
      expect(r.err).toMatch(message);
    }
    // Nothing was started by any of them.
    expect(await json(['jobs'])).toEqual([]);
  });

  it('exits 1 when the work cannot be done: a conflict, and a VM whose disk is gone (plain lines, then --json)', async () => {
    const seal = await cli(['template', 'seal', 'class']);
    expect(seal.code).toBe(1);
    expect(seal.err).toMatch(/template "class" backs 4 VM disk\(s\).*\[TEMPLATE_IN_USE\]/);

    const r = await cli(['vm', 'sysprep', 'gone', '--profile', 'clone-reset']);
    expect(r.code).toBe(1);
    const lines = r.out.trim().split('\n');
    expect(lines[0]).toMatch(/^job (\S+) \(vm gone\) submitted$/);
    expect(lines.at(-2)).toMatch(/^\d\d:\d\d:\d\d gone failed: \w*(DISK|NOT_FOUND)\w*: /);
    expect(lines.at(-1)).toMatch(/^job \S+ \(vm gone\): failed: /);
    const id = /^job (\S+)/.exec(lines[0])![1];

    const again = await cli(['job', 'watch', id, '--json']);
    expect(again.code).toBe(1);
    expect(JSON.parse(again.out)).toMatchObject({ id, state: 'failed', target: { name: 'gone' }, error: { code: expect.any(String) } });
    const cancel = await cli(['job', 'cancel', id]);
    expect(cancel.code).toBe(1);
    expect(cancel.err).toMatch(/\[JOB_FINISHED\]/);
  });

  let poolJob: string;
  let pipeLive: Result;

  it('runs a VM sysprep with bars on a terminal (exit 0) while a pool is followed on a pipe (exit 3)', async () => {
    const submitted = await cli(['pool', 'sysprep', 'lab', '--only', 'machine-id', '--hostname', '${pool}-${index}', '--no-wait', '--json']);
    expect(submitted.code).toBe(0);
    const job = JSON.parse(submitted.out);
    expect(job).toMatchObject({ kind: 'pool', target: { name: 'lab' }, progress: { total: 2 } });
    poolJob = job.id;

    const [tty, pipe] = await Promise.all([
      cli(['vm', 'sysprep', 'web1', '--only', 'machine-id,ssh-hostkeys', '--hostname', 'web-one.example.org',
        '--root-password-file', files.pw, '--ssh-key-file', files.key, '--script', files.script], { pty: true }),
      cli(['job', 'watch', poolJob]),
    ]);
    pipeLive = pipe;

    // The terminal: cursor control and redraws, a bar for web1 that ends full, the summary.
    expect(tty.code).toBe(0);
    expect(tty.out).toMatch(/\x1b\[\?25l/); // cli-progress hides the cursor on a terminal
    const screen = plain(tty.out);
    expect(screen).toMatch(/web1 +█{30} 100% (\d+)\/\1 succeeded/);
    expect(screen).toMatch(/job (\S+) \(vm web1\): succeeded\n/);
    const vmJobId = /job (\S+) \(vm web1\) submitted/.exec(screen)![1];

    // The pipe: no control characters, one line per event, the summary, exit 3.
    expect(pipe.code).toBe(3);
    expect(pipe.out).not.toMatch(/\x1b/);
    const lines = pipe.out.trim().split('\n').map((l) => l.replace(/^\d\d:\d\d:\d\d /, ''));
    expect(lines).toEqual(expect.arrayContaining([
      'lab-1 running on e2e-host',
      'lab-1 [1/2] machine-id',
      'lab-1 succeeded (2 operations)',
      expect.stringMatching(/^lab-2 failed: /),
      `job ${poolJob} (pool lab): partial: 1 succeeded, 1 failed; 1 batched, 0 alone`,
    ]));
    expect(lines.at(-1)).toBe(`job ${poolJob} (pool lab): partial: 1 succeeded, 1 failed; 1 batched, 0 alone`);

    // What the engine recorded for the VM: the values from the options, secrets redacted.
    const vmJob = await json(['job', 'show', vmJobId]);
    expect(vmJob).toMatchObject({ state: 'succeeded', request: { params: { hostname: 'web-one.example.org', rootPassword: { redacted: true } } } });
    expect(vmJob.operations).toEqual(expect.arrayContaining(['machine-id', 'ssh-hostkeys', 'customize']));
    expect(JSON.stringify(vmJob)).not.toContain(ROOT_PASSWORD);
    expect(JSON.stringify(vmJob)).not.toContain('cli-e2e-mark');
  });

  it('replays the finished pool job: the same lines on a pipe, bars per VM on a terminal, exit 3 each time', async () => {
    const replay = await cli(['job', 'watch', poolJob]);
    expect(replay.code).toBe(3);
    const strip = (r: Result) => r.out.trim().split('\n').map((l) => l.replace(/^\d\d:\d\d:\d\d /, ''));
    // The children's final states and the summary, as the live watch printed them.
    for (const line of strip(replay)) if (!/ (pending|running on|\[\d+\/\d+\])/.test(line)) expect(strip(pipeLive)).toContain(line);
    expect(strip(replay).at(-1)).toBe(`job ${poolJob} (pool lab): partial: 1 succeeded, 1 failed; 1 batched, 0 alone`);

    const tty = await cli(['job', 'watch', poolJob], { pty: true });
    expect(tty.code).toBe(3);
    const screen = plain(tty.out);
    expect(screen).toMatch(/lab-1 +█{30} 100% 1\/1 succeeded|lab-1 +█{30} 100% (\d+)\/\1 succeeded/);
    expect(screen).toMatch(/lab-2 +░+ +0% \d+\/\d+ failed: \w+/);
    expect(screen).toMatch(/lab-2: failed: \w+: .*\njob \S+ \(pool lab\): partial: 1 succeeded, 1 failed/);

    const shown = await cli(['job', 'show', poolJob]);
    expect(shown.code).toBe(0);
    expect(shown.out).toMatch(/^VM +JOB +STATE +PROGRESS +HOST +ERROR\n(.*\n)*lab-1 +\S+ +succeeded/m);
    const list = await json(['jobs', '--state', 'partial']);
    expect(list.map((j: { id: string }) => j.id)).toEqual([poolJob]);
  });

  it('takes a unique prefix of a job id, as git and docker do (job show 555cd10e)', async () => {
    const short = poolJob.slice(0, 8);
    expect(await json(['job', 'show', short])).toMatchObject({ id: poolJob, state: 'partial' });
    const shown = await cli(['job', 'show', short]);
    expect(shown.code).toBe(0);
    expect(shown.out).toMatch(/^lab-1 +\S+ +succeeded/m);
    const watched = await cli(['job', 'watch', short]);
    expect(watched.code).toBe(3);
    expect(watched.out.trim().split('\n').at(-1)).toMatch(new RegExp(`job ${poolJob} \\(pool lab\\): partial`));
    const tooShort = await cli(['job', 'show', poolJob.slice(0, 3)]);
    expect(tooShort.code).not.toBe(0);
    expect(tooShort.err).toMatch(/JOB_NOT_FOUND|at least 4 characters/);
  });
});
