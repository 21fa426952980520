// Declarative guest configuration (issue 14) with the REAL virt-sysprep: one request with
// every entry (groups, users, files, services, firewall, locale, keyboard) -> engine ->
// agent argv -> the guest's own groupadd/useradd/usermod/systemctl and busybox, chrooted
// in the appliance (the fixture carries them) -> the disk, read back with guestfish.
// One appliance run for the job, one for the read. Refusals are checked first: nothing runs.
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { copyGuestImage, GUEST_UNITS, libguestfsEnv } from '../../helpers/guestImage';
import { OPERATOR, Stack, startStack, VIEWER } from './stack';

jest.setTimeout(15 * 60_000);

const run = promisify(execFile);

const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGdvbGRlbmltYWdlZmFrZWVkMjU1MTk teacher@example';

const PARAMS = {
  groups: [{ name: 'students', gid: 2000 }, { name: 'teachers' }],
  users: [
    { name: 'teacher', create: true, comment: 'Class teacher', shell: '/bin/sh', groups: ['students', 'teachers'], sudo: true, sshKeys: [KEY] },
    { name: 'student', groups: ['students'] },
  ],
  files: [
    { path: '/etc/classroom/agent.conf', content: 'room = r1\nserver = ${vm}\n', mode: '0640', owner: 'teacher', group: 'students' },
    { path: '/etc/motd', content: "Welcome to the classroom: it's ${vm}\n", mode: '0644' },
  ],
  services: { enable: [GUEST_UNITS.toEnable], disable: [GUEST_UNITS.toDisable] },
  firewall: { ports: ['80/tcp', '5900-5910/tcp'] },
  locale: 'de_DE.UTF-8',
  keyboard: { layout: 'de', variant: 'nodeadkeys' },
};

/** Each guestfish command's output, by a name: one appliance run. */
async function readGuest(disk: string, commands: Record<string, string>): Promise<Record<string, string>> {
  const script = Object.entries(commands).map(([name, cmd]) => `echo "@@${name}"\n-${cmd}`).join('\n') + '\n';
  const child = execFile('guestfish', ['--ro', '-a', disk, '-i'], { env: libguestfsEnv(), maxBuffer: 16 << 20 });
  const out = new Promise<string>((resolve, reject) => {
    let text = '';
    child.stdout!.on('data', (d) => (text += d));
    child.on('error', reject);
    child.on('close', () => resolve(text));
  });
  child.stdin!.end(script);
  const text = await out;
  return Object.fromEntries(text.split(/^@@/m).slice(1).map((part) => {
    const nl = part.indexOf('\n');
    // guestfish ends each command's output with a newline of its own.
    return [part.slice(0, nl), part.slice(nl + 1).replace(/\n$/, '')];
  }));
}

describe('declarative guest configuration (real virt-sysprep)', () => {
  let s: Stack;
  let vmId: string;
  let disk: string;
  beforeAll(async () => {
    s = await startStack();
    disk = path.join(s.storage, 'room01-vd1.qcow2');
    await copyGuestImage(disk);
    const vm = await s.api('POST', '/vms', { name: 'room01-vd1', disks: [{ path: disk }] });
    expect(vm.status).toBe(201);
    vmId = vm.body.vm.id;
  });
  afterAll(() => s?.close());

  it.each<[string, string | null, object, number, RegExp]>([
    ['an operator may not write files', OPERATOR, { files: PARAMS.files }, 403, /params\.files/],
    ["an operator may not give sudo rights", OPERATOR, { users: [{ name: 'x', create: true, sudo: true }] }, 403, /params\.users\[0\]\.sudo/],
    ['a viewer may not send anything', VIEWER, { locale: 'de_DE.UTF-8' }, 403, /./],
    ['a bad port range', null, { firewall: { ports: ['5910-5900/tcp'] } }, 400, /params\.firewall\.ports\[0\].*upwards/],
    ['a relative file path', null, { files: [{ path: 'etc/x', content: '', mode: '0644' }] }, 400, /params\.files\[0\]\.path/],
    ['a uid for a user not created', null, { users: [{ name: 'student', uid: 3000 }] }, 400, /params\.users\[0\]\.uid.*create/],
    ['a unit in enable and disable', null, { services: { enable: ['a.service'], disable: ['a.service'] } }, 400, /params\.services\.disable/],
    ['a bad locale', null, { locale: 'german' }, 400, /params\.locale/],
  ])('refuses %s before anything runs', async (_name, token, params, status, field) => {
    const r = await s.api('POST', `/vms/${vmId}/sysprep`, { operations: { only: ['customize'] }, params }, token ?? undefined);
    expect(r.status).toBe(status);
    expect(JSON.stringify(r.body)).toMatch(field);
  });

  it('created no job for the refused requests', async () => {
    expect((await s.api('GET', '/jobs')).body.items).toEqual([]);
  });

  it('writes accounts, files, services, locale and keyboard into the disk; warns about the firewall', async () => {
    const r = await s.api('POST', `/vms/${vmId}/sysprep`, { operations: { only: ['customize'] }, params: PARAMS });
    expect(r.status).toBe(202);
    const job = await s.waitJob(r.body.job.id);
    // The fixture has neither firewalld nor ufw: the script says so, the job goes on and
    // ends `incomplete` naming params.firewall (everything else was applied and committed).
    expect(job).toMatchObject({ state: 'incomplete', operations: ['customize'] });
    expect(job.warnings).toEqual(expect.arrayContaining([expect.objectContaining({ field: 'params.firewall', message: expect.stringMatching(/neither firewalld .* nor ufw/) })]));
    const log = await fetch(`${s.url}/api/v1/jobs/${job.id}/log`, { headers: { authorization: `Bearer ${VIEWER}` } }).then((x) => x.text());
    expect(log).toMatch(/^.*warning: the guest has neither firewalld \(firewall-offline-cmd\) nor ufw: ports 80\/tcp, 5900-5910\/tcp not opened/m);
    // File contents travel in the scripts (0600 files), never in the log's argv or the job record.
    expect(JSON.stringify(job)).not.toContain('room = r1');

    const g = await readGuest(disk, {
      passwd: 'cat /etc/passwd',
      group: 'cat /etc/group',
      home: 'stat /home/teacher',
      keys: 'cat /home/teacher/.ssh/authorized_keys',
      sudoStat: 'stat /etc/sudoers.d/ovirt-sysprep-teacher',
      sudo: 'cat /etc/sudoers.d/ovirt-sysprep-teacher',
      conf: 'cat /etc/classroom/agent.conf',
      confStat: 'stat /etc/classroom/agent.conf',
      motd: 'cat /etc/motd',
      enabled: `readlink ${GUEST_UNITS.wants}/${GUEST_UNITS.toEnable}`,
      wants: `ls ${GUEST_UNITS.wants}`,
      localeConf: 'cat /etc/locale.conf',
      defaultLocale: 'cat /etc/default/locale',
      localeGen: 'cat /etc/locale.gen',
      vconsole: 'cat /etc/vconsole.conf',
      keyboard: 'cat /etc/default/keyboard',
    });
    const field = (stat: string, name: string) => Number(new RegExp(`^${name}: (\\d+)$`, 'm').exec(stat)?.[1]);

    // Accounts: the user with its comment, shell and groups (and an existing user's new group).
    const teacher = /^teacher:x:(\d+):(\d+):Class teacher:\/home\/teacher:\/bin\/sh$/m.exec(g.passwd);
    expect(teacher).not.toBeNull();
    const uid = Number(teacher![1]);
    expect(uid).toBeGreaterThanOrEqual(1000);
    expect(g.group).toMatch(/^students:x:2000:(.*,)?teacher(,.*)?$/m);
    expect(g.group).toMatch(/^students:x:2000:.*student/m);
    expect(g.group).toMatch(/^teachers:x:\d+:teacher$/m);
    expect(field(g.home, 'uid')).toBe(uid);
    expect(g.keys.trim()).toBe(KEY);
    expect((field(g.sudoStat, 'mode') & 0o7777).toString(8)).toBe('440');
    expect(g.sudo).toBe('teacher ALL=(ALL:ALL) ALL\n');

    // Files: content (patterns are not rendered in files: they are secret), mode and owner.
    expect(g.conf).toBe('room = r1\nserver = ${vm}\n');
    expect((field(g.confStat, 'mode') & 0o7777).toString(8)).toBe('640');
    expect(field(g.confStat, 'uid')).toBe(uid);
    expect(field(g.confStat, 'gid')).toBe(2000);
    expect(g.motd).toBe("Welcome to the classroom: it's ${vm}\n");

    // Services: the [Install] symlink made, the other removed.
    expect(g.enabled.trim()).toBe(`${GUEST_UNITS.dir}/${GUEST_UNITS.toEnable}`);
    expect(g.wants.split('\n').filter(Boolean)).toEqual([GUEST_UNITS.toEnable]);

    // Locale and keyboard in the files a Debian guest reads.
    expect(g.localeConf).toBe('LANG=de_DE.UTF-8\n');
    expect(g.defaultLocale).toBe('LANG=de_DE.UTF-8\n');
    expect(g.localeGen).toMatch(/^de_DE\.UTF-8 UTF-8$/m);
    expect(g.localeGen).toMatch(/^# en_US\.UTF-8 UTF-8$/m);
    expect(g.vconsole).toBe('KEYMAP=de-nodeadkeys\n');
    expect(g.keyboard).toBe('XKBLAYOUT=de\nXKBVARIANT=nodeadkeys\n');
  });
});
