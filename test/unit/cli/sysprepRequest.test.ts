// CLI options -> the API's sysprep request body, and API fields -> the flag to fix.
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { UsageError } from '../../../engine-plugin/cli/exitCodes';
import { flagForField, SYSPREP_FLAGS } from '../../../engine-plugin/cli/sysprepFlags';
import { buildSysprepBody, FileReader, SysprepOptions } from '../../../engine-plugin/cli/sysprepRequest';

const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGxnQ2vLQ0H9n3w2b7bq9d0l2m1o4y7G0t1kP9y2Wq3R admin@example';
const FILES: Record<string, { text: string; mode?: number }> = {
  '/secret/rootpw': { text: 'S3cret pw\n', mode: 0o100600 },
  '/secret/open-pw': { text: 'open\r\nsecond line ignored\n', mode: 0o100644 },
  '/secret/empty': { text: '\nx\n', mode: 0o100600 },
  '/keys/admin.pub': { text: `# team keys\n${KEY}\n\nssh-rsa AAAAB3NzaC1yc2E= other\n` },
  '/keys/none.pub': { text: '# nothing\n\n' },
  '/s/one.sh': { text: '#!/bin/sh\necho one\n' },
  '/s/two.sh': { text: '#!/bin/sh\necho two\n' },
  '/f/agent.conf': { text: 'room = r1\n' },
};
const files: FileReader = {
  read: (f) => {
    if (!FILES[f]) throw Object.assign(new Error(`ENOENT: ${f}`), { code: 'ENOENT' });
    return FILES[f].text;
  },
  mode: (f) => FILES[f]?.mode,
};
const build = (o: SysprepOptions) => buildSysprepBody(o, files);

describe('buildSysprepBody', () => {
  it.each<[string, SysprepOptions, object]>([
    ['nothing: the tool defaults', {}, { dryRun: false }],
    ['a profile and a dry run', { profile: 'clone-reset', dryRun: true }, { profile: 'clone-reset', dryRun: true }],
    ['enable and disable lists, trimmed', { enable: 'ssh-userdir, bash-history', disable: 'logfiles' }, { dryRun: false, operations: { enable: ['ssh-userdir', 'bash-history'], disable: ['logfiles'] } }],
    ['a param that replaces the profile\'s', { delete: ['/root/notes'], replace: ['delete'] }, { dryRun: false, params: { delete: ['/root/notes'] }, replace: ['delete'] }],
    ['only', { only: 'machine-id,ssh-hostkeys' }, { dryRun: false, operations: { only: ['machine-id', 'ssh-hostkeys'] } }],
    ['a hostname pattern, kept verbatim', { hostname: '${pool}-${index}.lab' }, { dryRun: false, params: { hostname: '${pool}-${index}.lab' } }],
    ['a root password from a file (first line)', { rootPasswordFile: '/secret/rootpw' }, { dryRun: false, params: { rootPassword: { value: 'S3cret pw' } } }],
    ['a random root password', { randomRootPassword: true }, { dryRun: false, params: { rootPassword: { random: true } } }],
    ['ssh keys for root (comments and blank lines skipped)', { sshKeyFile: ['/keys/admin.pub'] }, { dryRun: false, params: { users: [{ name: 'root', sshKeys: [KEY, 'ssh-rsa AAAAB3NzaC1yc2E= other'] }] } }],
    ['ssh keys and a password for another user', { sshKeyFile: ['/keys/admin.pub'], user: 'student', userPasswordFile: '/secret/rootpw' }, { dryRun: false, params: { users: [{ name: 'student', password: { value: 'S3cret pw' }, sshKeys: [KEY, 'ssh-rsa AAAAB3NzaC1yc2E= other'] }] } }],
    ['scripts and first-boot scripts in order', { script: ['/s/one.sh', '/s/two.sh'], firstboot: ['/s/two.sh'] }, { dryRun: false, params: { scripts: ['#!/bin/sh\necho one\n', '#!/bin/sh\necho two\n'], firstboot: ['#!/bin/sh\necho two\n'] } }],
    ['timezone, packages, update, user removal', { timezone: 'Europe/Berlin', install: 'htop,vim', update: true, removeUsers: 'olduser' }, { dryRun: false, params: { timezone: 'Europe/Berlin', install: ['htop', 'vim'], update: true, removeUsers: ['olduser'] } }],
    ['mode', { mode: 'in_place' }, { dryRun: false, mode: 'in_place' }],
    ['keep-users, delete and truncate (missing from the hand-written list before)', { keepUsers: 'admin, ops', delete: ['/var/cache/x', '/tmp/y'], truncate: ['/etc/machine-id'] }, { dryRun: false, params: { keepUsers: ['admin', 'ops'], delete: ['/var/cache/x', '/tmp/y'], truncate: ['/etc/machine-id'] } }],
    ['chmod, repeatable', { chmod: ['0600:/etc/app.conf', '0755:/opt/run.sh'] }, { dryRun: false, params: { chmod: ['0600:/etc/app.conf', '0755:/opt/run.sh'] } }],
    ["virt-sysprep's --run: the same as --script, after it", { script: ['/s/one.sh'], run: ['/s/two.sh'] }, { dryRun: false, params: { scripts: ['#!/bin/sh\necho one\n', '#!/bin/sh\necho two\n'] } }],
    ["virt-sysprep's --ssh-inject, joined with --ssh-key-file for the same user", { sshKeyFile: ['/keys/admin.pub'], sshInject: ['root:string:ssh-ed25519 AAAA x', 'student:file:/keys/admin.pub'] }, { dryRun: false, params: { users: [{ name: 'root', sshKeys: [KEY, 'ssh-rsa AAAAB3NzaC1yc2E= other', 'ssh-ed25519 AAAA x'] }, { name: 'student', sshKeys: [KEY, 'ssh-rsa AAAAB3NzaC1yc2E= other'] }] } }],
    ['users to create, joined with keys for the same user', { addUser: ['teacher:groups=students+teachers:shell=/bin/bash:uid=3000:comment=Class teacher:sudo', 'pupil'], sshInject: ['teacher:string:ssh-ed25519 AAAA x'] }, { dryRun: false, params: { users: [
      { name: 'teacher', create: true, groups: ['students', 'teachers'], shell: '/bin/bash', uid: 3000, comment: 'Class teacher', sudo: true, sshKeys: ['ssh-ed25519 AAAA x'] },
      { name: 'pupil', create: true },
    ] } }],
    ['groups with and without a gid', { addGroup: ['students:2000', 'teachers'] }, { dryRun: false, params: { groups: [{ name: 'students', gid: 2000 }, { name: 'teachers' }] } }],
    ['a file to write, its owner', { writeFile: ['/etc/classroom/agent.conf:0640:/f/agent.conf'], fileOwner: ['teacher:students:/etc/classroom/agent.conf'] }, { dryRun: false, params: { files: [{ path: '/etc/classroom/agent.conf', mode: '0640', content: 'room = r1\n', owner: 'teacher', group: 'students' }] } }],
    ['services, firewall ports, locale, keyboard, packages to remove', { enableService: ['classroom-agent'], disableService: ['cups', 'avahi-daemon'], firewallPort: ['80/tcp', '5900-5910/tcp'], locale: 'de_DE.UTF-8', keyboard: 'de:nodeadkeys', uninstall: 'cups,avahi' }, { dryRun: false, params: {
      services: { enable: ['classroom-agent'], disable: ['cups', 'avahi-daemon'] }, firewall: { ports: ['80/tcp', '5900-5910/tcp'] }, locale: 'de_DE.UTF-8', keyboard: { layout: 'de', variant: 'nodeadkeys' }, uninstall: ['cups', 'avahi'],
    } }],
    ['a keyboard without variant', { keyboard: 'fr' }, { dryRun: false, params: { keyboard: { layout: 'fr' } } }],
    ["virt-sysprep's --operations from the defaults", { operations: 'defaults,-ssh-hostkeys,+ssh-userdir' }, { dryRun: false, operations: { enable: ['ssh-userdir'], disable: ['ssh-hostkeys'] } }],
    ["virt-sysprep's --operations as a whole list", { operations: 'machine-id,logfiles' }, { dryRun: false, operations: { only: ['machine-id', 'logfiles'] } }],
  ])('maps %s', (_name, options, body) => {
    expect(build(options).body).toEqual(body);
  });

  it.each<[string, SysprepOptions, RegExp]>([
    ['an unreadable password file', { rootPasswordFile: '/nope' }, /--root-password-file: cannot read \/nope: ENOENT/],
    ['an empty first line', { rootPasswordFile: '/secret/empty' }, /first line of \/secret\/empty is empty/],
    ['two root password sources', { rootPasswordFile: '/secret/rootpw', randomRootPassword: true }, /--root-password-file: give it or --random-root-password, not both/],
    ['a key file without keys', { sshKeyFile: ['/keys/none.pub'] }, /holds no public key/],
    ['--user alone', { user: 'student' }, /--user: give --ssh-key-file or --user-password-file/],
    ['an empty list', { enable: ' , ' }, /--enable: expects a comma-separated list/],
    ['--only with --enable', { only: 'machine-id', enable: 'logfiles' }, /--only replaces/],
    ['a missing script', { script: ['/s/one.sh', '/s/missing.sh'] }, /--script: cannot read \/s\/missing.sh/],
    ['a bad --ssh-inject', { sshInject: ['root'] }, /--ssh-inject: expects USER:file:FILE or USER:string:KEY/],
    ['--operations with --enable', { operations: 'defaults', enable: 'logfiles' }, /--operations: do not combine it with --enable/],
    ['--operations that selects nothing', { operations: 'machine-id,-machine-id' }, /--operations: selects no operation/],
    ['--operations all', { operations: 'all' }, /"all" is not supported/],
    ['an --add-user part it does not know', { addUser: ['teacher:admin'] }, /--add-user: expects NAME\[:groups=a\+b\]/],
    ['an --add-user uid that is not a number', { addUser: ['teacher:uid=x'] }, /--add-user: expects/],
    ['an --add-group gid that is not a number', { addGroup: ['students:x'] }, /--add-group: expects NAME or NAME:GID/],
    ['a --write-file without mode', { writeFile: ['/etc/x:/f/agent.conf'] }, /--write-file: expects DEST:MODE:FILE/],
    ['a --write-file of a missing local file', { writeFile: ['/etc/x:0644:/f/missing'] }, /--write-file: cannot read \/f\/missing/],
    ['a --file-owner for a file not written', { writeFile: ['/etc/x:0644:/f/agent.conf'], fileOwner: ['root:/etc/y'] }, /--file-owner: \/etc\/y is not written by a --write-file/],
    ['a --keyboard with two variants', { keyboard: 'de:a:b' }, /--keyboard: expects LAYOUT or LAYOUT:VARIANT/],
  ])('refuses %s before anything is sent', (_name, options, message) => {
    expect(() => build(options)).toThrow(UsageError);
    expect(() => build(options)).toThrow(message);
  });

  it('warns about a secret file readable by other users, and not about a 0600 one', () => {
    expect(build({ rootPasswordFile: '/secret/open-pw' })).toEqual({
      body: { dryRun: false, params: { rootPassword: { value: 'open' } } },
      warnings: [expect.stringMatching(/open-pw is readable by other users/)],
    });
    expect(build({ rootPasswordFile: '/secret/rootpw' }).warnings).toEqual([]);
  });
});

describe('flagForField', () => {
  it.each([
    ['params.hostname', '--hostname'],
    ['operations.enable[1]', '--enable'],
    ['operations.only', '--only'],
    ['params.rootPassword.value', '--root-password-file'],
    ['params.users[0].sshKeys[1]', '--ssh-key-file'],
    ['params.users[0].password', '--user-password-file'],
    ['params.users[0].name', '--user'],
    ['params.scripts[0]', '--script'],
    ['params.timezone', '--timezone'],
    ['params.files[0].owner', '--file-owner'],
    ['params.users[1].groups[0]', '--add-user'],
    ['params.files[0].mode', '--write-file'],
    ['params.services.disable[0]', '--disable-service'],
    ['params.firewall.ports[1]', '--firewall-port'],
    ['params.groups[0].gid', '--add-group'],
    ['mode', '--mode'],
    ['vms[2]', undefined],
    [undefined, undefined],
  ])('names the option for %s', (field, flag) => {
    expect(flagForField(field)).toBe(flag);
  });

  it('takes every customisation flag description from somewhere (no empty help)', () => {
    for (const f of SYSPREP_FLAGS) expect(f.description.length).toBeGreaterThan(10);
  });

  it('documents every generated flag in docs/cli.md', () => {
    const doc = readFileSync(path.join(__dirname, '../../../docs/cli.md'), 'utf8');
    const missing = SYSPREP_FLAGS.map((f) => f.option.split(' ')[0]).filter((flag) => !doc.includes(`\`${flag}`));
    expect(missing).toEqual([]);
  });
});
