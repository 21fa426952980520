// Windows guests through the engine and the real agent (issue 15), on the phony Windows
// image (test/helpers/windowsImage.ts) imported as a libvirt domain declared `os:
// windows`. Two real runs (guestfish, no virt-sysprep), then one read-only guestfish on
// the result and a pristine copy:
//   * the import's automatic reset uses windows-reset (not the trigger's clone-reset):
//     the VM's name becomes the computer name in the SYSTEM hive;
//   * a Linux request on it is refused 422 GUEST_OS_MISMATCH naming each field, before
//     anything runs: no job, the disk byte-identical;
//   * a sysprep with an answer file (per-VM computer name, ipFromIndex address, domain
//     join whose password is a secret), SetupComplete.cmd and a registry edit: the files
//     and values are on the disk, the secrets in no job record, log or argv;
//   * nothing else on the image changed (the checksum of every file against the pristine copy).
import 'reflect-metadata';
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { sha256File } from '../../helpers/disk';
import { libguestfsEnv } from '../../helpers/guestImage';
import { copyWindowsImage, WINDOWS_GOLDEN, WINDOWS_PATHS } from '../../helpers/windowsImage';
import { removeDomains, startLibvirtEngine, startLibvirtStack } from './libvirtStack';
import { ADMIN, Stack } from '../engine/stack';

jest.setTimeout(15 * 60_000);

const execFileAsync = promisify(execFile);
// Short: the VM name is the computer name (NetBIOS: at most 15 characters).
const PREFIX = `wn${process.pid}`;
const VM = `${PREFIX}a`;
const JOIN_PASSWORD = 'Join-Secret-7f3a91';
const SETUP_SECRET = 'SetupComplete-Secret-c0ffee';

/** Values of one key of a downloaded hive, as `"name"="value"` lines (hivexregedit --export). */
async function regValues(hive: string, key: string): Promise<string> {
  const { stdout } = await execFileAsync('hivexregedit', ['--export', '--unsafe-printable-strings', hive, key]);
  return stdout;
}

describe('Windows guests on libvirt (phony image, real agent)', () => {
  let s: Stack;
  let disk: string;
  let pristine: string;

  beforeAll(async () => {
    await removeDomains(PREFIX);
    s = await startLibvirtStack();
    s.engineConfig.autoReset = { clone: { enabled: false, profile: 'clone-reset' }, import: { enabled: true, profile: 'clone-reset' }, pool: { enabled: false, profile: 'clone-reset' } };
    await startLibvirtEngine(s);
    disk = path.join(s.storage, 'win.qcow2');
    pristine = path.join(s.dir, 'pristine.qcow2');
    await Promise.all([copyWindowsImage(disk), copyWindowsImage(pristine)]);
  });

  afterAll(async () => {
    await removeDomains(PREFIX);
    await s?.close();
  });

  it('imports a Windows VM (reset with windows-reset), refuses Linux requests 422, writes the answer file, SetupComplete and registry values, nothing else', async () => {
    // 1. Import, declared Windows: the automatic reset picks windows-reset.
    const created = await s.api('POST', '/vms', { name: VM, disks: [{ path: disk }], os: 'windows' });
    expect(created.status).toBe(201);
    const reset = await s.waitJob(created.body.job.id, 6 * 60_000);
    expect(reset).toMatchObject({ kind: 'auto-reset', state: 'succeeded', profile: 'windows-reset', operations: [] });

    // 2. Linux requests: 422 naming each field, nothing run, the disk unchanged.
    const before = await sha256File(disk);
    const vmId = created.body.vm.id;
    const jobsBefore = (await s.api('GET', `/jobs?vm=${vmId}`)).body.items.length;
    const linux = await s.api('POST', `/vms/${VM}/sysprep`, { operations: { only: ['ssh-hostkeys'] }, params: { hostname: 'x', delete: ['/tmp/x'], computerName: 'ok' } });
    expect(linux.status).toBe(422);
    expect(linux.body.error).toMatchObject({ code: 'GUEST_OS_MISMATCH', details: { fields: ['operations.customize', 'operations.ssh-hostkeys', 'params.hostname', 'params.delete'] } });
    const profile = await s.api('POST', `/vms/${VM}/sysprep`, { profile: 'clone-reset' });
    expect(profile.status).toBe(422);
    expect(profile.body.error.details.fields).toEqual(expect.arrayContaining(['operations.machine-id', 'operations.net-hwaddr', 'params.hostname', 'params.identity']));
    expect((await s.api('GET', `/jobs?vm=${vmId}`)).body.items.length).toBe(jobsBefore);
    expect(await sha256File(disk)).toBe(before);

    // 3. The Windows customisations.
    const body = {
      params: {
        unattend: {
          computerName: '${vm}',
          timeZone: 'W. Europe Standard Time',
          interfaces: [{ name: 'Ethernet', address: { ipFromIndex: '192.0.2.100/24' }, gateway: '192.0.2.1', dns: ['192.0.2.53'] }],
          domain: { name: 'corp.example', user: 'joiner' },
          firstLogonCommands: ['cmd /c echo first logon of ${vm}'],
        },
        domainJoinPassword: JOIN_PASSWORD,
        setupComplete: `@echo off\nnet user svc ${SETUP_SECRET} /add\n`,
        registry: [
          { hive: 'SOFTWARE', key: 'ovirt-sysprep\\Test', name: 'Mark', type: 'dword', data: 42 },
          { hive: 'SOFTWARE', key: 'Microsoft\\Windows\\CurrentVersion\\RunOnce', name: 'hello', type: 'sz', data: 'cmd /c echo hello' },
        ],
      },
    };
    const started = await s.api('POST', `/vms/${VM}/sysprep`, body);
    expect(started.status).toBe(202);
    const job = await s.waitJob(started.body.job.id, 6 * 60_000);
    expect(job).toMatchObject({ state: 'succeeded', operations: [] });
    // Secrets: not in the job record, the job log (with the guestfish argv and -x trace) or the agent's journal.
    const record = JSON.stringify((await s.api('GET', `/jobs/${job.id}`)).body);
    expect(record).toContain('corp.example');
    const logRes = await fetch(`${s.url}/api/v1/jobs/${job.id}/log`, { headers: { authorization: `Bearer ${ADMIN}` } });
    expect(logRes.status).toBe(200);
    const logText = await logRes.text();
    for (const secret of [JOIN_PASSWORD, SETUP_SECRET]) {
      expect(record).not.toContain(secret);
      expect(logText).not.toContain(secret);
    }
    const agentLog = readFileSync(path.join(s.dir, 'agent-logs', `${job.id}.log`), 'utf8');
    expect(agentLog).toMatch(/# guestfish .*-i -f \S+windows\.guestfish/);
    for (const secret of [JOIN_PASSWORD, SETUP_SECRET]) expect(agentLog).not.toContain(secret);

    // 4. One read-only session on both disks (one appliance: the costly part under TCG):
    //    the hives and files of the result, and a checksum of every file of each disk.
    const out = path.join(s.dir, 'read');
    mkdirSync(out);
    const script = [
      'run', 'mkmountpoint /a', 'mkmountpoint /b', 'mount-ro /dev/sda1 /a', 'mount-ro /dev/sdb1 /b',
      `checksums-out sha256 /a ${out}/before.sums`, `checksums-out sha256 /b ${out}/after.sums`,
      `download /b${WINDOWS_PATHS.systemHive} ${out}/SYSTEM`,
      `download /b${WINDOWS_PATHS.softwareHive} ${out}/SOFTWARE`,
      `download /b${WINDOWS_PATHS.panther}/unattend.xml ${out}/unattend.xml`,
      `download /b${WINDOWS_PATHS.setupScripts}/SetupComplete.cmd ${out}/SetupComplete.cmd`,
    ].join('\n');
    const gf = execFileAsync('guestfish', ['--ro', '--format=qcow2', '-a', pristine, '--format=qcow2', '-a', disk], { env: libguestfsEnv(), timeout: 10 * 60_000 });
    gf.child.stdin!.end(script);
    await gf;

    const names = await regValues(`${out}/SYSTEM`, 'ControlSet001\\Control\\ComputerName\\ComputerName');
    expect(names).toContain(`"ComputerName"=str(1):"${VM.toLowerCase()}"`);
    const tcpip = await regValues(`${out}/SYSTEM`, 'ControlSet001\\Services\\Tcpip\\Parameters');
    expect(tcpip).toContain(`"Hostname"=str(1):"${VM.toLowerCase()}"`);
    expect(tcpip).toContain(`"NV Hostname"=str(1):"${VM.toLowerCase()}"`);
    expect(tcpip).not.toContain(WINDOWS_GOLDEN.computerName);
    expect(await regValues(`${out}/SOFTWARE`, 'ovirt-sysprep\\Test')).toContain('"Mark"=dword:0000002a');
    expect(await regValues(`${out}/SOFTWARE`, 'Microsoft\\Windows\\CurrentVersion\\RunOnce')).toContain('"hello"=str(1):"cmd /c echo hello"');
    // The golden SOFTWARE keys are still there (a merge, not a new hive).
    expect(await regValues(`${out}/SOFTWARE`, 'Microsoft\\Windows NT\\CurrentVersion')).toContain(WINDOWS_GOLDEN.productName);
    const unattend = readFileSync(`${out}/unattend.xml`, 'utf8');
    for (const part of [`<ComputerName>${VM}</ComputerName>`, '<IpAddress wcm:action="add" wcm:keyValue="1">192.0.2.101/24</IpAddress>', `<Password>${JOIN_PASSWORD}</Password>`, '<JoinDomain>corp.example</JoinDomain>', `first logon of ${VM}`, '<TimeZone>W. Europe Standard Time</TimeZone>']) {
      expect(unattend).toContain(part);
    }
    expect(readFileSync(`${out}/SetupComplete.cmd`, 'utf8')).toBe(`@echo off\r\nnet user svc ${SETUP_SECRET} /add\r\n`);

    // 5. Nothing else changed: the files whose checksum differs (or that are new or gone)
    //    are exactly the four written.
    const sums = (file: string) => new Map(readFileSync(file, 'utf8').trim().split('\n').map((l) => {
      const m = /^(\S+)\s+(.+)$/.exec(l)!;
      return [m[2].replace(/^\.(?=\/)/, ''), m[1]] as const;
    }));
    const [a, b] = [sums(`${out}/before.sums`), sums(`${out}/after.sums`)];
    const changed = [...new Set([...a.keys(), ...b.keys()])].filter((p) => a.get(p) !== b.get(p)).sort();
    expect(a.size).toBeGreaterThan(3);
    expect(changed).toEqual([`${WINDOWS_PATHS.setupScripts}/SetupComplete.cmd`, `${WINDOWS_PATHS.panther}/unattend.xml`, WINDOWS_PATHS.softwareHive, WINDOWS_PATHS.systemHive].sort());
  });
});
