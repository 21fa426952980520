// The CLI's inventory, profile, output-format and completion commands (issue 11) against
// a real engine over real HTTP (test/unit/engine/harness.ts: real SQLite and files,
// FAKE agents). The completion script is sourced in a real bash.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import { parse } from 'yaml';
import { run } from '../../../engine-plugin/cli/main';
import type { CliIo } from '../../../engine-plugin/cli/CliIo';
import { harness, Harness, TOKENS } from '../engine/harness';

jest.setTimeout(60_000);

describe('inventory and profile commands', () => {
  let h: Harness;
  const cli = async (args: string[], files: Record<string, string> = {}) => {
    let out = '';
    let err = '';
    const io: CliIo = {
      out: (s) => void (out += s),
      err: (s) => void (err += s),
      env: { OVIRT_SYSPREP_URL: h.engine.url, OVIRT_SYSPREP_TOKEN: TOKENS.admin.token, HOME: '/nonexistent' },
      stdout: new PassThrough() as unknown as CliIo['stdout'],
      files: { read: (f) => { if (files[f] === undefined) throw Object.assign(new Error('ENOENT'), { code: 'ENOENT' }); return files[f]; }, mode: () => 0o100600 },
    };
    const code = await run(['node', 'ovirt-sysprep', ...args], io);
    return { code, out, err };
  };

  beforeAll(async () => {
    h = await harness({ agents: [{ jobMs: 200 }] });
  });
  afterAll(() => h.close());

  it('registers a template, clones a VM and follows its automatic reset', async () => {
    const disk = h.image('golden.qcow2');
    expect(await cli(['template', 'register', 'golden', '--disk', disk])).toMatchObject({ code: 0, out: expect.stringMatching(/^template golden registered \(/) });
    const clone = await cli(['vm', 'clone', 'web-2', '--template', 'golden']);
    expect(clone.code).toBe(0);
    expect(clone.out).toMatch(/^VM web-2 created \(.*\); automatic reset job \S+\n/);
    expect(clone.out).toMatch(/succeeded/);
    expect((await h.api('GET', '/vms/web-2')).body.status).toBe('down');
  });

  it('imports a VM without waiting, printing YAML with -o yaml', async () => {
    const r = await cli(['vm', 'import', 'legacy', '--disk', h.image('legacy.qcow2'), '--format', 'qcow2', '--no-wait', '-o', 'yaml']);
    expect(r.code).toBe(0);
    const doc = parse(r.out);
    expect(doc.vm).toMatchObject({ name: 'legacy', disks: [{ format: 'qcow2' }] });
    expect(doc.job.id).toEqual(expect.any(String));
    await h.waitJob(doc.job.id);
  });

  it('vm start | shutdown | stop mark an embedded VM up and down (nothing runs it)', async () => {
    expect(await cli(['vm', 'start', 'legacy'])).toEqual({ code: 0, out: 'VM legacy is up\n', err: '' });
    expect((await h.api('GET', '/vms/legacy')).body.status).toBe('up');
    expect(await cli(['vm', 'shutdown', 'legacy', '--timeout', '0'])).toEqual({ code: 0, out: 'VM legacy is down\n', err: '' });
    expect((await cli(['vm', 'start', 'legacy', '-o', 'json'])).out).toContain('"status": "up"');
    expect(await cli(['vm', 'stop', 'legacy'])).toEqual({ code: 0, out: 'VM legacy is down\n', err: '' });
    expect(await cli(['vm', 'shutdown', 'legacy', '--timeout', '601'])).toMatchObject({ code: 2, err: expect.stringMatching(/--timeout must be a number of seconds from 0 to 600/) });
    expect(await cli(['vm', 'stop', 'nope'])).toMatchObject({ code: 2, err: expect.stringMatching(/VM_NOT_FOUND/) });
  });

  it('vm snapshots and vm snapshot create | revert | delete on the embedded inventory (real qemu-img on the disk)', async () => {
    expect(await cli(['vm', 'snapshots', 'legacy'])).toEqual({ code: 0, out: 'VM legacy has no snapshots\n', err: '' });
    expect(await cli(['vm', 'snapshot', 'create', 'legacy', 's1', '--description', 'first'])).toEqual({ code: 0, out: 'snapshot s1 of VM legacy created\n', err: '' });
    expect(await cli(['vm', 'snapshot', 'create', 'legacy', 's1'])).toMatchObject({ code: 1, err: expect.stringMatching(/SNAPSHOT_EXISTS/) });
    expect(await cli(['vm', 'snapshot', 'create', 'legacy', '42'])).toMatchObject({ code: 2, err: expect.stringMatching(/all digits/) });
    expect((await cli(['vm', 'snapshots', 'legacy'])).out).toMatch(/^s1 \*\s+\S+\s+first$/m);
    expect(await cli(['vm', 'snapshot', 'revert', 'legacy', 's1'])).toEqual({ code: 0, out: 'VM legacy reverted to snapshot s1\n', err: '' });
    expect(await cli(['vm', 'snapshot', 'delete', 'legacy', 's1'])).toEqual({ code: 0, out: 'snapshot s1 of VM legacy deleted\n', err: '' });
    expect(await h.api('DELETE', '/vms/legacy/snapshots/s1')).toMatchObject({ status: 404, body: { error: { code: 'SNAPSHOT_NOT_FOUND', details: { field: 'sid' } } } });
  });

  it('prints lists as a table, -o wide with more columns, -o json and -o yaml the same data', async () => {
    const table = await cli(['vms']);
    expect(table.out.split('\n')[0]).toMatch(/^NAME\s+ID\s+STATUS\s+HOST\s+DISKS$/);
    const wide = await cli(['vms', '-o', 'wide']);
    expect(wide.out.split('\n')[0]).toMatch(/^NAME\s+ID\s+STATUS\s+HOST\s+DISKS\s+POOL\s+TEMPLATE\s+CREATED$/);
    const json = JSON.parse((await cli(['vms', '-o', 'json'])).out);
    expect(json).toEqual(JSON.parse((await cli(['--json', 'vms'])).out));
    expect(parse((await cli(['vms', '-o', 'yaml'])).out)).toEqual(json);
    expect(json.map((v: { name: string }) => v.name).sort()).toEqual(['legacy', 'web-2']);
    expect(await cli(['vms', '--json', '-o', 'yaml'])).toMatchObject({ code: 2, err: expect.stringMatching(/--json and -o yaml: give one of them/) });
    expect(await cli(['vms', '-o', 'xml'])).toMatchObject({ code: 2, err: expect.stringMatching(/Allowed choices are table, wide, json, yaml/) });
  });

  it('creates and deletes a pool; deletes a VM and then its template, refused while the clone exists', async () => {
    const pool = await cli(['pool', 'create', 'lab', '--template', 'golden', '--size', '2', '--vm-name-pattern', 'lab-${index}']);
    expect(pool).toMatchObject({ code: 0, out: expect.stringMatching(/^pool lab created \(.*\) with 2 VMs\n/) });
    const overlay = (await h.api('GET', '/vms/lab-1')).body.disks[0].path;
    for (const line of pool.out.split('\n').slice(1).filter(Boolean)) await h.waitJob(/job (\S+)/.exec(line)![1]);
    expect(await cli(['pool', 'delete', 'lab'])).toEqual({ code: 0, out: 'pool lab deleted\n', err: '' });
    expect(existsSync(overlay)).toBe(false);

    const refused = await cli(['template', 'delete', 'golden']);
    expect(refused.code).toBe(1);
    expect(refused.err).toMatch(/backs the disks of VM\(s\) web-2.*\[IN_USE\]/);
    expect((await cli(['vm', 'delete', 'web-2'])).code).toBe(0);
    expect(await cli(['template', 'delete', 'golden', '-o', 'json'])).toMatchObject({ code: 0, out: '{\n  "deleted": "golden"\n}\n' });
    expect(await cli(['vm', 'delete', 'nope'])).toMatchObject({ code: 2, err: expect.stringMatching(/no VM "nope" \[VM_NOT_FOUND\]/) });
  });

  it('sets, shows, lists and deletes a profile; from options and from a YAML file', async () => {
    expect(await cli(['profile', 'set', 'lab-reset', '--description', 'lab VMs', '--enable', 'bash-history', '--disable', 'logfiles'])).toEqual({ code: 0, out: 'profile lab-reset saved\n', err: '' });
    const shown = parse((await cli(['profile', 'show', 'lab-reset'])).out);
    expect(shown).toMatchObject({ name: 'lab-reset', description: 'lab VMs', operations: { enable: ['bash-history'], disable: ['logfiles'] } });

    // profile show's output is a body for profile set --file; an option wins over the file.
    const file = (await cli(['profile', 'show', 'lab-reset'])).out;
    expect(await cli(['profile', 'set', 'copy', '--file', 'p.yaml', '--description', 'a copy'], { 'p.yaml': file })).toMatchObject({ code: 0 });
    expect((await h.api('GET', '/profiles/copy')).body).toMatchObject({ description: 'a copy', operations: { enable: ['bash-history'], disable: ['logfiles'] } });

    const list = JSON.parse((await cli(['profile', 'list', '-o', 'json'])).out).map((p: { name: string }) => p.name);
    expect(list).toEqual(expect.arrayContaining(['clone-reset', 'lab-reset', 'copy']));
    expect(await cli(['profile', 'set', 'x', '--file', 'bad.yaml'], { 'bad.yaml': '- a list\n' })).toMatchObject({ code: 2, err: expect.stringMatching(/expected a mapping/) });
    expect(await cli(['profile', 'delete', 'copy'])).toEqual({ code: 0, out: 'profile copy deleted\n', err: '' });
    expect((await h.api('GET', '/profiles/copy')).status).toBe(404);
    expect((await cli(['profile', 'delete', 'clone-reset'])).err).toMatch(/PROFILE_BUILT_IN/);
  });
});

describe('shell completion', () => {
  let script: string;
  beforeAll(async () => {
    let out = '';
    const io = { out: (s: string) => void (out += s), err: () => undefined, env: {}, stdout: new PassThrough() as unknown as CliIo['stdout'], files: { read: () => '' } };
    expect(await run(['node', 'ovirt-sysprep', 'completion', 'bash'], io)).toBe(0);
    script = out;
  });

  /** COMPREPLY for the words typed so far (the last one being completed), in a real bash. */
  const complete = (...words: string[]) =>
    execFileSync('bash', ['-c', `${script}\nCOMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _ovirt_sysprep_complete; printf '%s\\n' "\${COMPREPLY[@]}"`], { cwd: __dirname, encoding: 'utf8' })
      .split('\n')
      .filter(Boolean);

  it.each([
    [['ovirt-sysprep', ''], ['vm', 'pool', 'template', 'profile', 'completion', '--output']],
    [['ovirt-sysprep', 'vm', ''], ['show', 'sysprep', 'clone', 'import', 'delete']],
    [['ovirt-sysprep', 'vm', 'cl'], ['clone']],
    [['ovirt-sysprep', '--engine', 'http://x', 'profile', 's'], ['show', 'set']],
    [['ovirt-sysprep', 'vm', 'sysprep', 'web1', '--prof'], ['--profile']],
    [['ovirt-sysprep', 'vms', '-o', ''], ['table', 'wide', 'json', 'yaml']],
    [['ovirt-sysprep', 'template', 'register', 'g', '--disk', 'commands.te'], ['commands.test.ts']],
  ])('%j -> %j', (words, expected) => {
    expect(complete(...words)).toEqual(expect.arrayContaining(expected));
  });

  it('offers only what fits', () => {
    expect(complete('ovirt-sysprep', 'vm', 'cl')).toEqual(['clone']);
    expect(complete('ovirt-sysprep', 'vm', 'sysprep', 'web1', '--prof')).toEqual(['--profile']);
  });

  it('zsh: the same function through bashcompinit', async () => {
    let out = '';
    const io = { out: (s: string) => void (out += s), err: () => undefined, env: {}, stdout: new PassThrough() as unknown as CliIo['stdout'], files: { read: () => '' } };
    expect(await run(['node', 'ovirt-sysprep', 'completion', 'zsh'], io)).toBe(0);
    expect(out).toMatch(/bashcompinit/);
    expect(out).toContain('complete -F _ovirt_sysprep_complete ovirt-sysprep');
  });
});
