// Inspection as a cached job, through the real engine and agent (one guestfish session
// per inspection, under TCG): the Debian fixture and the phony Windows image are
// inspected by two jobs of kind `inspect` (at once: 2 launches); the cached answers come
// back with no further launch (the agent's guestfish is a wrapper that counts its
// starts), for the REST API, the CLI and contract 10's guestOsOf; a write to the Debian
// disk (a qemu-img snapshot: no appliance) makes its cache stale (404 naming what to do)
// and a third job inspects it again. Budget: 3 launches.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { copyGuestImage, GOLDEN_HOSTNAME } from '../../helpers/guestImage';
import { runCli } from '../../helpers/cliRun';
import { copyWindowsImage, WINDOWS_GOLDEN } from '../../helpers/windowsImage';
import { OPERATOR, Stack, startStack, VIEWER } from './stack';

jest.setTimeout(20 * 60_000);

describe('inspection jobs and their cache', () => {
  let s: Stack;
  let launchLog: string;
  const launches = () => (existsSync(launchLog) ? readFileSync(launchLog, 'utf8').split('\n').filter(Boolean).length : 0);
  const vms: Record<'deb' | 'win', { id: string; disk: string }> = {} as never;

  beforeAll(async () => {
    const wrapperDir = path.join(require('node:os').tmpdir(), `inspect-e2e-${process.pid}`);
    require('node:fs').mkdirSync(wrapperDir, { recursive: true });
    launchLog = path.join(wrapperDir, 'launches');
    const real = execFileSync('sh', ['-c', 'command -v guestfish']).toString().trim();
    const wrapper = path.join(wrapperDir, 'guestfish');
    writeFileSync(wrapper, `#!/bin/sh\necho "$*" >> '${launchLog}'\nexec '${real}' "$@"\n`, { mode: 0o755 });
    s = await startStack({ agent: { guestfish: wrapper } });
    const deb = path.join(s.storage, 'deb.qcow2');
    const win = path.join(s.storage, 'win.qcow2');
    await Promise.all([copyGuestImage(deb), copyWindowsImage(win)]);
    for (const [name, disk] of [['deb', deb], ['win', win]] as const) {
      const r = await s.api('POST', '/vms', { name: `insp-${name}`, disks: [{ path: disk }] });
      expect(r.status).toBe(201);
      vms[name] = { id: r.body.vm.id, disk };
    }
  });

  afterAll(async () => {
    await s?.close();
    if (launchLog) require('node:fs').rmSync(path.dirname(launchLog), { recursive: true, force: true });
  });

  it('inspects both guests as jobs, then answers from the cache with no further launch', async () => {
    // Nothing cached yet: a 404 that says how to get one.
    const none = await s.api('GET', `/vms/${vms.deb.id}/inspection`, undefined, VIEWER);
    expect(none.status).toBe(404);
    expect(none.body.error.code).toBe('INSPECTION_NOT_FOUND');
    expect(none.body.error.message).toContain(`POST /vms/${vms.deb.id}/inspection`);
    // A viewer may read, not start.
    expect((await s.api('POST', `/vms/${vms.deb.id}/inspection`, undefined, VIEWER)).status).toBe(403);

    const t0 = Date.now();
    const [deb, win] = await Promise.all(['deb', 'win'].map((n) => s.api('POST', `/vms/${vms[n as 'deb'].id}/inspection`, undefined, OPERATOR)));
    expect([deb.status, win.status]).toEqual([202, 202]);
    expect(deb.body.job).toMatchObject({ kind: 'inspect', target: { type: 'vm', id: vms.deb.id } });
    // Asked again while it runs: the same job, no second launch.
    const again = await s.api('POST', `/vms/${vms.deb.id}/inspection`, undefined, OPERATOR);
    expect(again.body.job.id).toBe(deb.body.job.id);
    // While it runs, a sysprep of the VM waits its turn (the disks must not change under it).
    const busy = await s.api('POST', `/vms/${vms.deb.id}/sysprep`, {}, OPERATOR);
    expect(busy.status).toBe(409);
    const running = await s.api('GET', `/jobs/${deb.body.job.id}`);
    expect(running.body.progress.phase).toBe('starting-appliance');

    const [debJob, winJob] = await Promise.all([s.waitJob(deb.body.job.id), s.waitJob(win.body.job.id)]);
    console.log(`two inspections at once: ${Date.now() - t0} ms`);
    expect([debJob.state, winJob.state]).toEqual(['succeeded', 'succeeded']);
    expect(debJob.host).toBe(s.agent.hostId);
    expect(launches()).toBe(2);

    const d = await s.api('GET', `/vms/${vms.deb.id}/inspection`, undefined, VIEWER);
    expect(d.status).toBe(200);
    expect(d.body).toMatchObject({
      cached: true, jobId: deb.body.job.id, osType: 'linux', distro: 'debian', version: expect.stringMatching(/^12\./), arch: 'x86_64',
      hostname: GOLDEN_HOSTNAME, packageFormat: 'deb', packageManagement: 'apt',
      os: { type: 'linux', family: 'debian', distro: 'debian', version: expect.stringMatching(/^12\./), source: 'inspection' },
      mountpoints: [{ path: '/', device: '/dev/sda1' }], cloudInit: false, lvm: false,
    });
    expect(d.body.users.map((u: { name: string }) => u.name)).toEqual(expect.arrayContaining(['root', 'olduser', 'student']));
    expect(d.body.filesystems).toEqual([expect.objectContaining({ device: '/dev/sda1', type: 'ext4', mountpoint: '/' })]);
    expect(d.body.filesystems[0].freeBytes).toBeGreaterThan(0);
    expect(d.body.filesystems[0].freeBytes).toBeLessThan(d.body.filesystems[0].totalBytes);

    const w = await s.api('GET', `/vms/${vms.win.id}/inspection`, undefined, VIEWER);
    expect(w.status).toBe(200);
    expect(w.body).toMatchObject({
      osType: 'windows', distro: 'windows', version: `${WINDOWS_GOLDEN.majorVersion}.${WINDOWS_GOLDEN.minorVersion}`,
      productName: WINDOWS_GOLDEN.productName, productVariant: WINDOWS_GOLDEN.installationType, arch: WINDOWS_GOLDEN.arch,
      hostname: WINDOWS_GOLDEN.computerName, windowsSystemroot: '/Windows', users: [],
      os: { type: 'windows', distro: 'windows', version: '10.0', source: 'inspection' },
    });
    expect(w.body.os.family).toBeUndefined();
    expect(w.body.filesystems).toEqual([expect.objectContaining({ type: 'ntfs', mountpoint: '/' })]);

    // Contract 10, as the OS guard calls it.
    const vm = await s.engine!.deps.inventory.getVm(vms.win.id);
    expect(await s.engine!.deps.inspection.guestOsOf(vm!)).toMatchObject({ type: 'windows', version: '10.0' });

    // The CLI: the cached result, no job.
    const cli = await runCli(s.url, VIEWER, ['inspect', 'insp-win', '--cached']);
    expect(cli).toMatchObject({ code: 0, err: '' });
    expect(cli.out).toMatch(/^Type: +windows$/m);
    expect(cli.out).toMatch(new RegExp(`^Hostname: +${WINDOWS_GOLDEN.computerName}$`, 'm'));
    const json = await runCli(s.url, VIEWER, ['inspect', 'insp-deb', '--cached', '--json']);
    expect(JSON.parse(json.out)).toMatchObject({ distro: 'debian', jobId: deb.body.job.id });
    expect(launches()).toBe(2);
  });

  it('a changed disk makes its cache stale; a new inspection job refreshes it', async () => {
    // A write to the image without an appliance: an internal snapshot.
    execFileSync('qemu-img', ['snapshot', '-c', 'changed', vms.deb.disk]);
    const stale = await s.api('GET', `/vms/${vms.deb.id}/inspection`, undefined, VIEWER);
    expect(stale.status).toBe(404);
    expect(stale.body.error.code).toBe('INSPECTION_STALE');
    expect(stale.body.error.message).toContain(`POST /vms/${vms.deb.id}/inspection`);
    const vm = await s.engine!.deps.inventory.getVm(vms.deb.id);
    expect(await s.engine!.deps.inspection.guestOsOf(vm!)).toBeUndefined();
    // The other VM's cache is untouched.
    expect((await s.api('GET', `/vms/${vms.win.id}/inspection`)).status).toBe(200);

    // The CLI starts the job, follows it and prints the fresh result.
    const cli = await runCli(s.url, OPERATOR, ['inspect', 'insp-deb', '--json']);
    expect(cli.code).toBe(0);
    const fresh = JSON.parse(cli.out);
    expect(fresh).toMatchObject({ distro: 'debian', cached: true });
    expect(fresh.jobId).not.toBe(stale.body.error.details.jobId);
    expect(launches()).toBe(3);
  });
});
