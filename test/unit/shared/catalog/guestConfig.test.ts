// The guest-configuration entries of the catalog (issue 14): their schemas refuse bad
// values naming the field, their scripts (shared/catalog/guest/) are built from the value
// alone with every request value quoted, and they reach virt-sysprep's argv as `--run FILE`
// in the catalog's order (groups before users, accounts before --ssh-inject). The scripts
// run for real in test/e2e/engine/guestConfig.test.ts.
import { execFileSync } from 'node:child_process';
import { buildArgv } from '../../../../host-agent/sysprep/argv';
import { groupsScript, sudoersFile, usersScript } from '../../../../shared/catalog/guest/accounts';
import { filesScript } from '../../../../shared/catalog/guest/files';
import { firewallScript } from '../../../../shared/catalog/guest/firewall';
import { consoleKeymap, keyboardScript, x11KeyboardConf } from '../../../../shared/catalog/guest/keyboard';
import { localeGenLine, localeScript } from '../../../../shared/catalog/guest/locale';
import { servicesScript } from '../../../../shared/catalog/guest/services';
import { setVariableCommands, shQuote, writeFileCommands } from '../../../../shared/catalog/guest/sh';
import { deniedParam } from '../../../../shared/catalog/senderRole';
import { renderParams } from '../../../../shared/catalog/patterns';
import { validateParams } from '../../../../shared/spec';
import { InputError } from '../../../../shared/errors';

function refusal(params: object): string {
  try {
    validateParams(params);
  } catch (err) {
    if (err instanceof InputError) return err.message;
    throw err;
  }
  throw new Error('expected a refusal');
}

/** Runs a script with the host's sh -n: it must at least parse. */
const parses = (text: string) => execFileSync('sh', ['-n'], { input: text });

describe('schemas: refusals name the field', () => {
  it.each<[string, object, RegExp]>([
    ['a group name with capitals', { groups: [{ name: 'Students' }] }, /params\.groups\[0\]\.name: is not a valid group name/],
    ['gid 0', { groups: [{ name: 'g', gid: 0 }] }, /params\.groups\[0\]\.gid: must be at least 1/],
    ['gid 65534', { groups: [{ name: 'g', gid: 65534 }] }, /params\.groups\[0\]\.gid: must be at most 65533/],
    ['an unknown group key', { groups: [{ name: 'g', members: [] }] }, /params\.groups\[0\]/],
    ['a uid without create', { users: [{ name: 'u', uid: 3000 }] }, /params\.users\[0\]\.uid: is only set when the user is created/],
    ['a comment with ":"', { users: [{ name: 'u', create: true, comment: 'a:b' }] }, /params\.users\[0\]\.comment: must not hold ":"/],
    ['a relative shell', { users: [{ name: 'u', create: true, shell: 'bash' }] }, /params\.users\[0\]\.shell: must be an absolute path/],
    ['a shell with a space', { users: [{ name: 'u', shell: '/bin/sh -x' }] }, /params\.users\[0\]\.shell/],
    ['a bad supplementary group', { users: [{ name: 'u', groups: ['-wheel'] }] }, /params\.users\[0\]\.groups\[0\]/],
    ['a relative file path', { files: [{ path: 'etc/x', content: '', mode: '0644' }] }, /params\.files\[0\]\.path: must be an absolute path/],
    ['a directory as file', { files: [{ path: '/etc/', content: '', mode: '0644' }] }, /params\.files\[0\]\.path: must name a file/],
    ['a ".." part', { files: [{ path: '/etc/../root/x', content: '', mode: '0644' }] }, /params\.files\[0\]\.path: must not contain "\." or "\.\." parts/],
    ['a decimal mode', { files: [{ path: '/x', content: '', mode: '644a' }] }, /params\.files\[0\]\.mode: must be octal/],
    ['an owner with a colon', { files: [{ path: '/x', content: '', mode: '0644', owner: 'a:b' }] }, /params\.files\[0\]\.owner: must be a user or group name/],
    ['a NUL in content', { files: [{ path: '/x', content: 'a\0b', mode: '0644' }] }, /params\.files\[0\]\.content: must not contain NUL/],
    ['no service', { services: {} }, /params\.services: must name at least one service/],
    ['a unit in both lists', { services: { enable: ['a'], disable: ['a'] } }, /params\.services\.disable: names a in enable too/],
    ['a unit that looks like a flag', { services: { enable: ['--now'] } }, /params\.services\.enable\[0\]: must not start with "-"/],
    ['a unit with a slash', { services: { enable: ['../x'] } }, /params\.services\.enable\[0\]: is not a systemd unit name/],
    ['a port without protocol', { firewall: { ports: ['80'] } }, /params\.firewall\.ports\[0\]: must be PORT\/PROTOCOL/],
    ['port 0', { firewall: { ports: ['0/tcp'] } }, /params\.firewall\.ports\[0\]: ports must be between 1 and 65535/],
    ['a downward range', { firewall: { ports: ['22/tcp', '5910-5900/tcp'] } }, /params\.firewall\.ports\[1\]: the range must go upwards/],
    ['an unknown protocol', { firewall: { ports: ['80/icmp'] } }, /params\.firewall\.ports\[0\]/],
    ['no port', { firewall: { ports: [] } }, /params\.firewall\.ports: must name at least one port/],
    ['a locale with a space', { locale: 'de DE' }, /params\.locale: is not a locale name/],
    ['a locale in capitals', { locale: 'DE_de.UTF-8' }, /params\.locale/],
    ['a layout with capitals', { keyboard: { layout: 'DE' } }, /params\.keyboard\.layout: is not an X keyboard layout/],
    ['a keymap with a quote', { keyboard: { layout: 'de', keymap: "de'x" } }, /params\.keyboard\.keymap/],
    ['a bad package to remove', { uninstall: ['-y'] }, /params\.uninstall\[0\]/],
  ])('refuses %s', (_name, params, message) => {
    expect(refusal(params)).toMatch(message);
  });

  it.each<[string, object]>([
    ['groups', { groups: [{ name: 'students', gid: 2000 }, { name: 'teachers' }] }],
    ['a user to create', { users: [{ name: 'teacher', create: true, uid: 3000, comment: 'Class teacher, room 1', shell: '/bin/bash', groups: ['students'], sudo: true }] }],
    ['an existing user joining groups', { users: [{ name: 'student', groups: ['students'], sudo: false }] }],
    ['files', { files: [{ path: '/etc/motd', content: "it's\n$HOME '\"`x`", mode: '644' }, { path: '/opt/x', content: '', mode: '0755', owner: '1000', group: 'students' }] }],
    ['services', { services: { enable: ['getty@tty2.service', 'sshd'] } }],
    ['ports and ranges', { firewall: { ports: ['80/tcp', '5900-5910/tcp', '53/udp', '65535/sctp'] } }],
    ['locales', { locale: 'sr_RS.UTF-8@latin' }],
    ['C.UTF-8', { locale: 'C.UTF-8' }],
    ['a keyboard', { keyboard: { layout: 'de', variant: 'nodeadkeys', keymap: 'de-latin1-nodeadkeys' } }],
  ])('accepts %s', (_name, params) => {
    expect(validateParams(params)).toEqual(params);
  });
});

describe('roles: what grants more than an account is an admin\'s', () => {
  it.each<[object, string]>([
    [{ files: [{ path: '/x', content: '', mode: '0644' }] }, 'params.files'],
    [{ services: { enable: ['a'] } }, 'params.services'],
    [{ firewall: { ports: ['80/tcp'] } }, 'params.firewall'],
    [{ users: [{ name: 'u', create: true, sudo: true }] }, 'params.users[0].sudo'],
    [{ users: [{ name: 'u', create: true }, { name: 'v', groups: ['wheel'] }] }, 'params.users[1].groups'],
  ])('an operator may not send %j', (params, field) => {
    expect(deniedParam(params as Record<string, unknown>, 'operator')).toMatchObject({ field, role: 'admin' });
    expect(deniedParam(params as Record<string, unknown>, 'admin')).toBeUndefined();
  });

  it('lets an operator create a plain user, groups, a locale, a keyboard and remove packages', () => {
    expect(deniedParam({ users: [{ name: 'u', create: true, shell: '/bin/bash', comment: 'x' }], groups: [{ name: 'g' }], locale: 'de_DE.UTF-8', keyboard: { layout: 'de' }, uninstall: ['cups'] }, 'operator')).toBeUndefined();
  });
});

describe('patterns in the non-secret entries', () => {
  it('renders ${vm} and ${index} in the locale, groups and services; never in files (secret)', () => {
    const out = renderParams(
      { groups: [{ name: 'room-${index}' }], services: { enable: ['agent@${index}.service'] }, files: [{ path: '/etc/x', content: '${vm}', mode: '0644' }] },
      { vm: 'vd1', index: 3 },
    );
    expect(out).toEqual({ groups: [{ name: 'room-3' }], services: { enable: ['agent@3.service'] }, files: [{ path: '/etc/x', content: '${vm}', mode: '0644' }] });
  });
});

describe('the scripts (table tests on the text; every one parses in sh -n)', () => {
  const evil = "x'; rm -rf / #";

  it('quotes any value as one word', () => {
    expect(shQuote(evil)).toBe(`'x'\\''; rm -rf / #'`);
    expect(execFileSync('sh', ['-c', `printf '%s' ${shQuote(evil)}`], { encoding: 'utf8' })).toBe(evil);
  });

  it.each<[string, string, (string | RegExp)[]]>([
    ['groups: groupadd unless present', groupsScript([{ name: 'students', gid: 2000 }, { name: 'teachers' }]), [
      "command -v 'groupadd' >/dev/null 2>&1 || { echo 'error: the guest has no groupadd: cannot create groups' >&2; exit 1; }",
      "if grep -q '^students:' /etc/group; then echo 'group students exists: kept'; else groupadd -g 2000 'students'; fi",
      "if grep -q '^teachers:' /etc/group; then echo 'group teachers exists: kept'; else groupadd 'teachers'; fi",
    ]],
    ['users: useradd, usermod -aG, the sudoers file checked by visudo', usersScript([{ name: 'teacher', create: true, uid: 3000, comment: "O'Brien", shell: '/bin/bash', groups: ['students', 'teachers'], sudo: true }])!, [
      "if grep -q '^teacher:' /etc/passwd; then echo 'user teacher exists: not created'; else useradd -m -u 3000 -c 'O'\\''Brien' -s '/bin/bash' 'teacher'; fi",
      "usermod -aG 'students,teachers' 'teacher'",
      /printf '%s' 'teacher ALL=\(ALL:ALL\) ALL\n' > '\/etc\/sudoers.d\/ovirt-sysprep-teacher.ovirt-sysprep.tmp'/,
      "chmod 0440 '/etc/sudoers.d/ovirt-sysprep-teacher.ovirt-sysprep.tmp'",
      /visudo -cqf '\/etc\/sudoers.d\/ovirt-sysprep-teacher.ovirt-sysprep.tmp'; } \|\| \{ rm -f .*; exit 1; \}/,
      "mv -f '/etc/sudoers.d/ovirt-sysprep-teacher.ovirt-sysprep.tmp' '/etc/sudoers.d/ovirt-sysprep-teacher'",
    ]],
    ['users: an existing user must exist; sudo false removes our file; a new shell with usermod', usersScript([{ name: 'student', shell: '/bin/bash', sudo: false }])!, [
      "grep -q '^student:' /etc/passwd || { echo 'error: user student does not exist (set \"create\": true to create it)' >&2; exit 1; }",
      "usermod -s '/bin/bash' 'student'",
      "rm -f '/etc/sudoers.d/ovirt-sysprep-student'",
    ]],
    ['files: written whole, mode, then owner', filesScript([{ path: '/etc/app/a b.conf', content: evil, mode: '0640', owner: 'teacher', group: 'students' }, { path: '/x', content: '', mode: '0644', group: 'users' }]), [
      "mkdir -p '/etc/app'",
      `printf '%s' ${shQuote(evil)} > '/etc/app/a b.conf.ovirt-sysprep.tmp'`,
      "chmod 0640 '/etc/app/a b.conf.ovirt-sysprep.tmp'",
      "mv -f '/etc/app/a b.conf.ovirt-sysprep.tmp' '/etc/app/a b.conf'",
      "chown 'teacher:students' '/etc/app/a b.conf'",
      "chown ':users' '/x'",
    ]],
    ['services: systemctl enable and disable, or a clear failure', servicesScript({ enable: ['classroom-agent.service'], disable: ['cups'] }), [
      "command -v 'systemctl' >/dev/null 2>&1 || { echo 'error: the guest has no systemctl: cannot enable or disable services (only systemd guests are supported)' >&2; exit 1; }",
      "systemctl enable 'classroom-agent.service'",
      "systemctl disable 'cups'",
    ]],
    ['firewall: firewalld, else ufw (ranges with ":"), else a warning line', firewallScript({ ports: ['80/tcp', '5900-5910/tcp'] }), [
      "if command -v 'firewall-offline-cmd' >/dev/null 2>&1; then",
      "  firewall-offline-cmd --add-port='5900-5910/tcp'",
      "elif command -v 'ufw' >/dev/null 2>&1; then",
      "  ufw allow '5900:5910/tcp'",
      "  printf '\\nwarning: %s\\n' 'the guest has neither firewalld (firewall-offline-cmd) nor ufw: ports 80/tcp, 5900-5910/tcp not opened (no host firewall found)'",
    ]],
    ['locale: locale.conf, /etc/default/locale on Debian, locale.gen and locale-gen', localeScript('de_DE.UTF-8'), [
      "printf '%s\\n' 'LANG=de_DE.UTF-8'; } > '/etc/locale.conf.ovirt-sysprep.tmp'",
      'if [ -f /etc/default/locale ] || [ -f /etc/debian_version ]; then',
      "  sed -i 's/^#[[:space:]]*de_DE\\.UTF-8 UTF-8[[:space:]]*$/de_DE.UTF-8 UTF-8/' /etc/locale.gen",
      "  grep -qx 'de_DE.UTF-8 UTF-8' /etc/locale.gen || printf '%s\\n' 'de_DE.UTF-8 UTF-8' >> /etc/locale.gen",
      "  if command -v 'locale-gen' >/dev/null 2>&1; then locale-gen; fi",
    ]],
    ['keyboard: vconsole, /etc/default/keyboard, else the X11 snippet', keyboardScript({ layout: 'de', variant: 'nodeadkeys' }), [
      "printf '%s\\n' 'KEYMAP=de-nodeadkeys'; } > '/etc/vconsole.conf.ovirt-sysprep.tmp'",
      "printf '%s\\n' 'XKBLAYOUT=de'; printf '%s\\n' 'XKBVARIANT=nodeadkeys'; } > '/etc/default/keyboard.ovirt-sysprep.tmp'",
      'elif [ -d /etc/X11 ]; then',
      "  mv -f '/etc/X11/xorg.conf.d/00-keyboard.conf.ovirt-sysprep.tmp' '/etc/X11/xorg.conf.d/00-keyboard.conf'",
    ]],
  ])('%s', (_name, text, lines) => {
    expect(text.startsWith('#!/bin/sh\nset -eu\n')).toBe(true);
    for (const line of lines) {
      if (typeof line === 'string') expect(text).toContain(line);
      else expect(text).toMatch(line);
    }
    parses(text);
  });

  it('no account script when users only get keys or passwords (as before)', () => {
    expect(usersScript([{ name: 'root', sshKeys: [] }, { name: 'u', password: { random: true } }])).toBeUndefined();
  });

  it.each([
    ['de_DE.UTF-8', 'de_DE.UTF-8 UTF-8'],
    ['en_US.utf8', 'en_US.utf8 UTF-8'],
    ['sr_RS.UTF-8@latin', 'sr_RS.UTF-8@latin UTF-8'],
    ['de_DE.ISO-8859-15', 'de_DE.ISO-8859-15 ISO-8859-15'],
    ['C.UTF-8', undefined],
    ['de_DE', undefined],
  ])('locale.gen line of %s', (locale, line) => {
    expect(localeGenLine(locale)).toBe(line);
  });

  it.each<[object, string]>([
    [{ layout: 'de' }, 'de'],
    [{ layout: 'de', variant: 'nodeadkeys' }, 'de-nodeadkeys'],
    [{ layout: 'de', variant: 'nodeadkeys', keymap: 'de-latin1' }, 'de-latin1'],
  ])('console keymap of %j', (k, keymap) => {
    expect(consoleKeymap(k as any)).toBe(keymap);
  });

  it('writes the X11 snippet as localectl does', () => {
    expect(x11KeyboardConf({ layout: 'fr', variant: 'azerty' })).toContain('Option "XkbLayout" "fr"\n        Option "XkbVariant" "azerty"\nEndSection');
  });

  it('sudoers file names never hold a "." (sudo skips those)', () => {
    expect(sudoersFile('a_b-c')).toBe('/etc/sudoers.d/ovirt-sysprep-a_b-c');
  });

  it('refuses a bad variable name in setVariableCommands, and check commands stop a write', () => {
    expect(() => setVariableCommands('/x', [['A;B', 'v']])).toThrow(/bad variable name/);
    expect(writeFileCommands('/x', 'c', '0644', (t) => `check ${t}`)).toContain("check '/x.ovirt-sysprep.tmp' || { rm -f '/x.ovirt-sysprep.tmp'; exit 1; }");
  });
});

describe('setVariableCommands and writeFileCommands really run (host sh, a temporary root)', () => {
  it('keeps the other lines, replaces the variable, creates a missing file', () => {
    const dir = execFileSync('mktemp', ['-d'], { encoding: 'utf8' }).trim();
    const file = `${dir}/etc/vconsole.conf`;
    execFileSync('sh', ['-c', `mkdir -p ${dir}/etc && printf 'FONT=lat9\\nKEYMAP=us\\n' > ${file}`]);
    execFileSync('sh', ['-eu'], { input: setVariableCommands(file, [['KEYMAP', 'de']]).join('\n') });
    expect(execFileSync('cat', [file], { encoding: 'utf8' })).toBe('FONT=lat9\nKEYMAP=de\n');
    execFileSync('sh', ['-eu'], { input: setVariableCommands(`${dir}/new/locale.conf`, [['LANG', 'de_DE.UTF-8']]).join('\n') });
    expect(execFileSync('cat', [`${dir}/new/locale.conf`], { encoding: 'utf8' })).toBe('LANG=de_DE.UTF-8\n');
    // A check that fails stops the script and leaves neither the file nor its temporary.
    expect(() => execFileSync('sh', ['-eu'], { input: writeFileCommands(`${dir}/w/f`, "it's\n", '0600', (t) => `false ${t}`).join('\n'), stdio: 'pipe' })).toThrow();
    expect(execFileSync('ls', ['-A', `${dir}/w`], { encoding: 'utf8' })).toBe('');
    execFileSync('sh', ['-eu'], { input: writeFileCommands(`${dir}/w/f`, "it's\n", '0600', (t) => `test -f ${t}`).join('\n') });
    expect(execFileSync('cat', [`${dir}/w/f`], { encoding: 'utf8' })).toBe("it's\n");
    execFileSync('rm', ['-rf', dir]);
  });
});

describe('argv: the entries as --run FILE in the catalog order', () => {
  it('groups, then the accounts script, then --ssh-inject; the file contents only in planned files', () => {
    const key = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGdvbGRlbmltYWdlZmFrZWVkMjU1MTk x@y';
    const params = validateParams({
      keyboard: { layout: 'de' },
      files: [{ path: '/etc/motd', content: 'hello room', mode: '0644' }],
      users: [{ name: 'teacher', create: true, sshKeys: [key] }],
      groups: [{ name: 'students' }],
      uninstall: ['cups'],
    });
    const { argv, files, network } = buildArgv({ disks: [{ path: '/s/vm.qcow2', format: 'qcow2' }], spec: { operations: ['customize'], params } as any, dryRun: false, filesDir: '/run/j', trace: false });
    expect(argv.slice(6)).toEqual([
      '--run', '/run/j/f0', '--run', '/run/j/f1', '--ssh-inject', 'teacher:file:/run/j/f2',
      '--uninstall', 'cups', '--run', '/run/j/f3', '--run', '/run/j/f4', '--network',
    ]);
    expect(network).toBe(true);
    expect(files[0].content).toContain("groupadd 'students'");
    expect(files[1].content).toContain("useradd -m 'teacher'");
    expect(files[3].content).toContain("'hello room'");
    expect(files[4].content).toContain('KEYMAP=de');
    expect(argv.join(' ')).not.toContain('hello room');
  });
});
