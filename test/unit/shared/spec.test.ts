import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parseOperationList } from '../../../shared/catalog/operations';
import { InputError } from '../../../shared/errors';
import { resolveSpec, SpecInput } from '../../../shared/spec';

// The listing of the virt-sysprep 1.48 installed on these machines, captured as data.
const OPS = parseOperationList(readFileSync(path.join(__dirname, '../../fixtures/virt-sysprep-1.48-list-operations.txt'), 'utf8'));
const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl admin@example';

function errorOf(input: SpecInput): InputError {
  try {
    resolveSpec(input, OPS);
  } catch (err) {
    if (err instanceof InputError) return err;
    throw err;
  }
  throw new Error('expected an InputError');
}

describe('parseOperationList', () => {
  it('reads name, default flag and heading of every line', () => {
    expect(OPS.length).toBeGreaterThan(30);
    expect(OPS.find((o) => o.name === 'ssh-hostkeys')).toEqual({ name: 'ssh-hostkeys', defaultEnabled: true, description: 'Remove the SSH host keys in the guest' });
    expect(OPS.find((o) => o.name === 'user-account')?.defaultEnabled).toBe(false);
  });
  it('refuses output it does not understand', () => {
    expect(() => parseOperationList('Some banner text!\n')).toThrow(/unexpected line/);
    expect(() => parseOperationList('')).toThrow(/no operation/);
  });
});

describe('resolveSpec', () => {
  it('runs the tool defaults when nothing is said', () => {
    const r = resolveSpec({}, OPS);
    expect(r.operations).toEqual(OPS.filter((o) => o.defaultEnabled).map((o) => o.name));
  });
  it('applies only, then enable and disable', () => {
    const r = resolveSpec({ operations: { only: ['machine-id', 'logfiles'], enable: ['ssh-hostkeys'], disable: ['logfiles'] } }, OPS);
    expect(r.operations).toEqual(['machine-id', 'ssh-hostkeys']);
  });
  it('adds customize when a customisation is requested', () => {
    const r = resolveSpec({ operations: { only: ['machine-id'] }, params: { hostname: 'web-01' } }, OPS);
    expect(r.operations).toEqual(['customize', 'machine-id']);
  });
  it('adds user-account for removeUsers', () => {
    const r = resolveSpec({ operations: { only: ['machine-id'] }, params: { removeUsers: ['olduser'] } }, OPS);
    expect(r.operations).toEqual(['machine-id', 'user-account']);
  });

  it.each<[string, SpecInput, string, RegExp]>([
    ['unknown operation', { operations: { enable: ['ssh-hostkeys', 'no-such-op'] } }, 'operations.enable[1]', /unknown operation "no-such-op"/],
    ['operation that looks like a flag', { operations: { only: ['--run=/bin/sh'] } }, 'operations.only[0]', /unknown operation/],
    ['customize disabled with a customisation', { operations: { disable: ['customize'] }, params: { hostname: 'a' } }, 'params.hostname', /needs the "customize" operation/],
    ['invalid hostname', { params: { hostname: 'bad_name!' } }, 'params.hostname', /not a valid hostname/],
    ['hostname starting with -', { params: { hostname: '-rf' } }, 'params.hostname', /must not start with "-"/],
    ['invalid timezone', { params: { timezone: 'Mars/Olympus' } }, 'params.timezone', /not a known IANA time zone/],
    ['malformed ssh key', { params: { users: [{ name: 'root', sshKeys: ['ssh-ed25519 AAAAnotakey'] }] } }, 'params.users[0].sshKeys[0]', /not an OpenSSH public key/],
    ['ssh key of another type than declared', { params: { users: [{ name: 'root', sshKeys: [KEY.replace('ssh-ed25519', 'ssh-rsa')] }] } }, 'params.users[0].sshKeys[0]', /not an OpenSSH public key/],
    ['package starting with -', { params: { install: ['htop', '--allow-unauthenticated'] } }, 'params.install[1]', /must not start with "-"/],
    ['unknown param', { params: { hostnme: 'x' } }, 'params.hostnme', /not a known field/],
    ['password without a value', { params: { rootPassword: { value: '' } } }, 'params.rootPassword.value', /must not be empty/],
    ['relative guest path', { params: { delete: ['etc/x'] } }, 'params.delete[0]', /absolute path/],
    ['user name with a comma', { params: { removeUsers: ['a,b'] } }, 'params.removeUsers[0]', /not a valid user name/],
    ['nothing left to run', { operations: { only: ['logfiles'], disable: ['logfiles'] } }, 'operations', /selects no operation/],
  ])('refuses %s, naming %s', (_name, input, field, message) => {
    const err = errorOf(input);
    expect(err.field).toBe(field);
    expect(err.message).toMatch(message);
    expect(err.details.field).toBe(field);
  });

  it('accepts a full, valid customisation set', () => {
    const r = resolveSpec(
      {
        params: {
          hostname: 'web-01.example.org',
          rootPassword: { random: true },
          users: [{ name: 'student', password: { value: '-starts-with-dash-is-fine-in-a-file' }, sshKeys: [KEY] }],
          timezone: 'Europe/Berlin',
          scripts: ['#!/bin/sh\ntrue\n'],
          truncate: ['/etc/machine-id'],
        },
      },
      OPS,
    );
    expect(r.operations).toContain('customize');
    expect(Object.keys(r.params).sort()).toEqual(['hostname', 'rootPassword', 'scripts', 'timezone', 'truncate', 'users']);
  });
});
