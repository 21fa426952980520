// The customisation catalog: bake() refuses a bad entry at load time, the role check and
// the operation selection read it, and one new entry (chmod) reaches every surface with
// no change outside the catalog. The web form's side is in test/e2e/web/sysprepDialog.test.ts.
import 'reflect-metadata';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import { createRouteTable } from '../../../engine-plugin/api/app';
import type { ApiDeps } from '../../../engine-plugin/api/deps';
import { buildOpenApi } from '../../../engine-plugin/api/openapi';
import type { CliIo } from '../../../engine-plugin/cli/CliIo';
import { buildProgram } from '../../../engine-plugin/cli/program';
import { buildSysprepBody } from '../../../engine-plugin/cli/sysprepRequest';
import { buildArgv } from '../../../host-agent/sysprep/argv';
import { bake, catalogProblems } from '../../../shared/catalog/bake';
import { cliText } from '../../../shared/catalog/cliBinding';
import type { Customization } from '../../../shared/catalog/Customization';
import { CUSTOMIZATIONS, describeCustomizations, paramsJsonSchema } from '../../../shared/catalog/customizations';
import { selectedOperations } from '../../../shared/catalog/operationSelection';
import { parseOperationList } from '../../../shared/catalog/operations';
import { deniedParam } from '../../../shared/catalog/senderRole';
import { resolveSpec } from '../../../shared/spec';

const OPS = parseOperationList(readFileSync(path.join(__dirname, '../../fixtures/virt-sysprep-1.48-list-operations.txt'), 'utf8'));

const good = (over: Partial<Customization> = {}): Customization => ({
  key: 'motd',
  flag: '--write',
  label: 'Message of the day',
  help: 'Write /etc/motd',
  secret: false,
  needsNetwork: false,
  operation: 'customize',
  role: 'operator',
  widget: 'text',
  cli: cliText('--motd <text>', 'Write /etc/motd'),
  schema: z.string(),
  toArgs: (v: string) => ['--write', `/etc/motd:${v}`],
  ...over,
});

describe('bake', () => {
  it('accepts the real catalog (it already ran when the module loaded)', () => {
    expect(catalogProblems(CUSTOMIZATIONS)).toEqual([]);
    expect(bake(CUSTOMIZATIONS)).toBe(CUSTOMIZATIONS);
  });

  it.each<[string, Customization[], RegExp]>([
    ['a key used twice', [good(), good({ cli: cliText('--motd2 <t>', 'x') })], /"motd": the key is used twice/],
    ['a key that is not lowerCamelCase', [good({ key: 'Motd-x' })], /the key must be lowerCamelCase/],
    ['a tool flag that is not an option name', [good({ flag: 'write' })], /flag "write" is not a virt-sysprep option name/],
    ['a missing label', [good({ label: '' })], /the label is missing/],
    ['a help text ending with a period (virt-sysprep registry style)', [good({ help: 'Write /etc/motd.' })], /the help ends with a period/],
    ['a CLI flag with capitals', [good({ cli: cliText('--Motd <t>', 'x') })], /CLI flag "--Motd" is not --lower-case-words/],
    ['a CLI flag taken by another entry', [good(), good({ key: 'motd2' })], /CLI flag --motd is already taken by customisation "motd"/],
    ['no CLI flag', [good({ cli: { flags: [], parse: () => undefined } })], /no CLI flag/],
  ])('refuses %s', (_name, entries, message) => {
    expect(() => bake(entries)).toThrow(message);
  });

  it('refuses a CLI flag that the request itself uses', () => {
    expect(catalogProblems([good({ cli: cliText('--profile <p>', 'x') })], ['--profile'])).toEqual([
      'customisation "motd": CLI flag --profile is already taken by the CLI',
    ]);
  });
});

describe('deniedParam: the least role of each entry', () => {
  it.each([
    [{ scripts: ['#!/bin/sh\n'] }, { field: 'params.scripts', role: 'admin' }],
    [{ firstboot: ['x'] }, { field: 'params.firstboot', role: 'admin' }],
    [{ rootPassword: { random: true } }, { field: 'params.rootPassword', role: 'admin' }],
    [{ users: [{ name: 'a', sshKeys: [] }, { name: 'b', password: { value: 'x' } }] }, { field: 'params.users[1].password', what: 'passwords', role: 'admin' }],
  ])('an operator may not send %j', (params, denial) => {
    expect(deniedParam(params, 'operator')).toMatchObject(denial);
    expect(deniedParam(params, 'admin')).toBeUndefined();
  });

  it('lets an operator send keys, a hostname, chmod, and leaves unknown keys to validation', () => {
    expect(deniedParam({ hostname: 'x', users: [{ name: 'a', sshKeys: ['k'] }], chmod: ['0600:/x'], nope: 1 }, 'operator')).toBeUndefined();
  });
});

describe('selectedOperations: the one reading of enable/disable/only', () => {
  const defaults = OPS.filter((o) => o.defaultEnabled).map((o) => o.name);
  it.each([
    ['nothing: the defaults', {}, defaults],
    ['only replaces the defaults', { only: ['machine-id'] }, ['machine-id']],
    ['enable adds, disable removes', { enable: ['user-account'], disable: ['ssh-hostkeys'] }, [...defaults.filter((n) => n !== 'ssh-hostkeys'), 'user-account']],
    ['disable applies after only', { only: ['machine-id', 'logfiles'], disable: ['logfiles'] }, ['machine-id']],
  ])('%s', (_n, sel, names) => {
    expect([...selectedOperations(sel, OPS)].sort()).toEqual([...names].sort());
  });
});

describe('a new customisation (chmod, one catalog entry) reaches every surface', () => {
  it('is an option of the installed virt-sysprep (real tool)', () => {
    expect(execFileSync('virt-sysprep', ['--help'], { encoding: 'utf8' })).toMatch(/--chmod <PERMISSIONS:FILE>/);
  });

  it('is in the REST listing with its label, help, widget and role', () => {
    expect(describeCustomizations().find((c) => c.key === 'chmod')).toMatchObject({
      flag: '--chmod', label: 'Change file permissions', widget: 'list', role: 'operator', cliFlags: ['--chmod'], schema: { type: 'array' },
    });
  });

  it('is in the OpenAPI document: the sysprep bodies point at the catalog params', () => {
    const doc = buildOpenApi(createRouteTable({} as ApiDeps), 'test') as any;
    expect(paramsJsonSchema()).toEqual(doc.components.schemas.SysprepParams);
    expect(doc.components.schemas.SysprepParams.properties.chmod).toMatchObject({ title: 'Change file permissions', type: 'array', 'x-minimum-role': 'operator' });
    const body = doc.paths['/api/v1/vms/{id}/sysprep'].post.requestBody.content['application/json'].schema;
    expect(body.properties.params).toEqual({ $ref: '#/components/schemas/SysprepParams' });
  });

  it('is a flag in the CLI help and fills the request body', () => {
    let help = '';
    const io = { out: (t: string) => (help += t), err: () => undefined, env: {}, stdout: process.stdout, files: { read: () => '' } } as CliIo;
    const sysprep = buildProgram(io, () => undefined).commands.find((c) => c.name() === 'vm')!.commands.find((c) => c.name() === 'sysprep')!;
    sysprep.outputHelp();
    expect(help).toMatch(/--chmod <perms:file>\s+Change the permissions of a file in the guest: octal PERMISSIONS:FILE \(repeatable\)/);
    expect(buildSysprepBody({ chmod: ['0600:/etc/app.conf'] }, io.files).body.params).toEqual({ chmod: ['0600:/etc/app.conf'] });
  });

  it('becomes virt-sysprep argv inside the customize operation', () => {
    const spec = resolveSpec({ operations: { only: ['logfiles'] }, params: { chmod: ['0600:/etc/app.conf', '0755:/opt/x'] } }, OPS);
    expect(spec.operations).toEqual(expect.arrayContaining(['customize', 'logfiles']));
    const { argv } = buildArgv({ disks: [{ path: '/srv/vm.qcow2', format: 'qcow2' }], spec, dryRun: false, filesDir: '/run/j' });
    expect(argv.join(' ')).toContain('--chmod 0600:/etc/app.conf --chmod 0755:/opt/x');
  });

  it.each(['600', '0600:etc/x', '0999:/x', '-0600:/x'])('refuses %j with a message naming the form', (bad) => {
    expect(() => resolveSpec({ params: { chmod: [bad] } }, OPS)).toThrow(/params\.chmod\[0\]: must be PERMISSIONS:FILE/);
  });
});
