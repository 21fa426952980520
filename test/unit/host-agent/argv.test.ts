import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parseOperationList } from '../../../shared/catalog/operations';
import { resolveSpec, SpecInput } from '../../../shared/spec';
import { assertNoValueReadAsFlag, buildArgv } from '../../../host-agent/sysprep/argv';

const OPS = parseOperationList(readFileSync(path.join(__dirname, '../../fixtures/virt-sysprep-1.48-list-operations.txt'), 'utf8'));
const DISK = { path: '/srv/images/vm1.qcow2', format: 'qcow2' };

function build(input: SpecInput, extra: { dryRun?: boolean; disks?: typeof DISK[] } = {}) {
  return buildArgv({ disks: extra.disks ?? [DISK], spec: resolveSpec(input, OPS), dryRun: !!extra.dryRun, filesDir: '/run/job1' });
}

describe('buildArgv', () => {
  it.each<[string, SpecInput, string[]]>([
    ['plain reset', { operations: { only: ['machine-id', 'ssh-hostkeys'] } },
      ['-v', '-x', '--format', 'qcow2', '-a', DISK.path, '--operations', 'machine-id,ssh-hostkeys', '--no-network']],
    ['hostname adds customize', { operations: { only: ['machine-id'] }, params: { hostname: 'vm-7' } },
      ['-v', '-x', '--format', 'qcow2', '-a', DISK.path, '--operations', 'customize,machine-id', '--hostname', 'vm-7', '--run', '/run/job1/f0', '--no-network']],
    ['install turns the network on', { operations: { only: ['logfiles'] }, params: { install: ['htop', 'vim'] } },
      ['-v', '-x', '--format', 'qcow2', '-a', DISK.path, '--operations', 'customize,logfiles', '--install', 'htop,vim', '--network']],
    ['update: false keeps the network off', { operations: { only: ['logfiles'] }, params: { update: false } },
      ['-v', '-x', '--format', 'qcow2', '-a', DISK.path, '--operations', 'customize,logfiles', '--no-network']],
    ['seal truncates machine-id after customize', { operations: { only: ['machine-id'] }, params: { hostname: 'localhost', truncate: ['/etc/machine-id'] } },
      ['-v', '-x', '--format', 'qcow2', '-a', DISK.path, '--operations', 'customize,machine-id', '--hostname', 'localhost', '--run', '/run/job1/f0', '--truncate', '/etc/machine-id', '--no-network']],
    ['user removal', { operations: { only: ['logfiles'] }, params: { removeUsers: ['olduser', 'temp'] } },
      ['-v', '-x', '--format', 'qcow2', '-a', DISK.path, '--operations', 'logfiles,user-account', '--remove-user-accounts', 'olduser,temp', '--no-network']],
  ])('%s', (_name, input, argv) => {
    expect(build(input).argv).toEqual(argv);
  });

  it('puts --format before every -a, one guest for all disks', () => {
    const { argv } = build({ operations: { only: ['logfiles'] } }, { disks: [DISK, { path: '/srv/images/var.raw', format: 'raw' }] });
    expect(argv.slice(2, 10)).toEqual(['--format', 'qcow2', '-a', DISK.path, '--format', 'raw', '-a', '/srv/images/var.raw']);
  });

  it('passes secrets and scripts only through files, never in argv', () => {
    const plan = build({
      operations: { only: ['machine-id'] },
      params: {
        rootPassword: { value: 'Sup3r-Secret' },
        users: [{ name: 'student', password: { value: 'pw2' }, sshKeys: ['ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl a@b'] }],
        scripts: ['#!/bin/sh\necho token=abc\n'],
        firstboot: ['#!/bin/sh\nreboot\n'],
      },
    });
    const joined = plan.argv.join(' ');
    expect(joined).not.toMatch(/Sup3r-Secret|pw2|token=abc|reboot|AAAAC3/);
    expect(plan.argv).toEqual(expect.arrayContaining([
      '--root-password', 'file:/run/job1/f0',
      '--password', 'student:file:/run/job1/f1',
      '--ssh-inject', 'student:file:/run/job1/f2',
      '--run', '/run/job1/f3',
      '--firstboot', '/run/job1/f4',
    ]));
    expect(plan.files.map((f) => f.content)).toEqual([
      'Sup3r-Secret', 'pw2', 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl a@b\n', '#!/bin/sh\necho token=abc\n', '#!/bin/sh\nreboot\n',
    ]);
  });

  it('asks for SHA-512 crypt whenever a password is set (1.48 picks MD5 on Rocky otherwise; the batch mode hashes the same)', () => {
    const root = build({ operations: { only: ['machine-id'] }, params: { rootPassword: { value: 'pw' } } });
    expect(root.argv.slice(root.argv.indexOf('--root-password'), root.argv.indexOf('--root-password') + 4))
      .toEqual(['--root-password', 'file:/run/job1/f0', '--password-crypto', 'sha512']);
    const user = build({ operations: { only: ['machine-id'] }, params: { users: [{ name: 'student', password: { value: 'pw2' } }] } });
    expect(user.argv).toEqual(expect.arrayContaining(['--password-crypto', 'sha512']));
    const keysOnly = build({ operations: { only: ['machine-id'] }, params: { users: [{ name: 'student', sshKeys: ['ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl a@b'] }] } });
    expect(keysOnly.argv).not.toContain('--password-crypto');
  });

  it('makes a random root password itself (virt-customize would print it)', () => {
    const a = build({ operations: { only: ['machine-id'] }, params: { rootPassword: { random: true } } });
    const b = build({ operations: { only: ['machine-id'] }, params: { rootPassword: { random: true } } });
    expect(a.argv).toContain('file:/run/job1/f0');
    expect(a.argv).not.toContain('random');
    expect(a.files[0].content).toMatch(/^[A-Za-z0-9_-]{24}$/);
    expect(a.files[0].content).not.toBe(b.files[0].content);
  });

  it('leaves out -v -x when tracing is off', () => {
    const plan = buildArgv({ disks: [DISK], spec: resolveSpec({ operations: { only: ['logfiles'] } }, OPS), dryRun: false, filesDir: '/run/job1', trace: false });
    expect(plan.argv.slice(0, 2)).toEqual(['--format', 'qcow2']);
  });

  it('adds --dry-run', () => {
    expect(build({ operations: { only: ['logfiles'] } }, { dryRun: true }).argv.at(-1)).toBe('--dry-run');
  });
});

describe('assertNoValueReadAsFlag', () => {
  it.each([
    [['--hostname', '-x']],
    [['--format', 'qcow2', '-a']],
    [['stray']],
  ])('refuses %j', (argv) => {
    expect(() => assertNoValueReadAsFlag(argv)).toThrow();
  });
  it('accepts flags without values', () => {
    expect(() => assertNoValueReadAsFlag(['-v', '-x', '--update', '--network', '--dry-run'])).not.toThrow();
  });
});

describe('leaseDirFor', () => {
  const { leaseDirFor } = require('../../../host-agent/storage/leases');
  it('puts an oVirt volume\'s lease in its storage domain directory, shared by all hosts', () => {
    const sd = '/rhev/data-center/mnt/nfs.example:_export_data/5b2d9c3e-1f4a-4c8e-9a7b-2e6f1d0c3b4a';
    const real = `${sd}/images/0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d/7e8f9a0b-1c2d-4e3f-8a5b-6c7d8e9f0a1b`;
    expect(leaseDirFor({ real, root: '/rhev/data-center/mnt' })).toBe(`${sd}/.ovirt-sysprep-leases`);
  });
  it('uses the storage root for other layouts', () => {
    expect(leaseDirFor({ real: '/var/lib/libvirt/images/vm1.qcow2', root: '/var/lib/libvirt/images' })).toBe('/var/lib/libvirt/images/.ovirt-sysprep-leases');
  });
});
