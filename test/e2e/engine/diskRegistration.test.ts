// Disks entering the embedded inventory, in front of the REAL agent (its CheckDisks, with
// qemu-img): a text file declared raw, a symlink in the root leading to /etc/shadow and a
// ".." path are refused at POST /templates naming the field; a good image registers by
// its real path with the format the agent probed; a template's disk cannot be imported
// as a VM. The engine runs as its own process with a qemu-img on its PATH that logs its
// argv: it spawns qemu-img for no registration, only for a clone's overlay.
import { ChildProcess, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { ENGINE_MAIN, engineConfFile, freePort, Stack, startEngineProcess, startStack } from './stack';

jest.setTimeout(5 * 60_000);

describe('disk registration with a real agent', () => {
  let s: Stack;
  let engine: ChildProcess | undefined;
  let argvLog: string;
  /** Every qemu-img command line the engine process ran. */
  const engineQemuImg = () => (existsSync(argvLog) ? readFileSync(argvLog, 'utf8').split('\n').filter(Boolean) : []);
  const image = (name: string, format = 'qcow2') => {
    const file = path.join(s.storage, name);
    execFileSync('qemu-img', ['create', '-q', '-f', format, file, '16M']);
    return file;
  };

  beforeAll(async () => {
    if (!existsSync(ENGINE_MAIN)) throw new Error(`${ENGINE_MAIN} is missing: run npm run build first`);
    s = await startStack({ engine: false });
    const bin = path.join(s.dir, 'engine-bin');
    mkdirSync(bin);
    argvLog = path.join(s.dir, 'engine-qemu-img.argv');
    const real = execFileSync('sh', ['-c', 'command -v qemu-img']).toString().trim();
    writeFileSync(path.join(bin, 'qemu-img'), `#!/bin/sh\nprintf '%s\\n' "$*" >> '${argvLog}'\nexec '${real}' "$@"\n`, { mode: 0o755 });
    const port = await freePort();
    s.url = `http://127.0.0.1:${port}`;
    engine = await startEngineProcess(engineConfFile(s, port), s.url, { ...process.env, PATH: `${bin}:${process.env.PATH}` });
    // Text of a whole number of sectors: only its content tells it is no disk.
    writeFileSync(path.join(s.storage, 'notes.txt'), 'meeting notes, not a disk image\n'.repeat(128));
    symlinkSync('/etc/shadow', path.join(s.storage, 'shadow.qcow2'));
  });
  afterAll(async () => {
    if (engine && engine.exitCode === null) {
      engine.kill('SIGTERM');
      await new Promise((r) => engine!.once('exit', r));
    }
    await s?.close();
  });

  it.each([
    ['a text file declared raw', () => ({ path: path.join(s.storage, 'notes.txt'), format: 'raw' }), 'NOT_A_DISK'],
    ['a symlink in the root to /etc/shadow', () => ({ path: path.join(s.storage, 'shadow.qcow2') }), 'PATH_OUTSIDE_ROOTS'],
    ['/etc/shadow', () => ({ path: '/etc/shadow' }), 'PATH_OUTSIDE_ROOTS'],
    ['ROOT/../x.qcow2', () => ({ path: `${s.storage}/../x.qcow2` }), 'PATH_TRAVERSAL'],
  ])('refuses %s at POST /templates with 400 naming the field, recording nothing', async (what, disk, code) => {
    const name = `bad-${code.toLowerCase()}-${what.length}`;
    const r = await s.api('POST', '/templates', { name, disks: [disk()] });
    expect(r.status).toBe(400);
    expect(r.body.error).toMatchObject({ code, details: { field: 'disks[0].path' } });
    expect((await s.api('GET', `/templates/${name}`)).status).toBe(404);
  });

  it('registers good images by their real path with the format the agent probed', async () => {
    const qcow2 = image('gold.qcow2');
    symlinkSync(qcow2, path.join(s.storage, 'gold-link.img'));
    const raw = image('data.raw', 'raw');
    const r = await s.api('POST', '/templates', { name: 'gold', disks: [{ path: path.join(s.storage, 'gold-link.img') }, { path: raw, format: 'raw' }] });
    expect(r.status).toBe(201);
    expect(r.body.disks).toEqual([
      { path: qcow2, format: 'qcow2', storageDomain: s.storage },
      { path: raw, format: 'raw', storageDomain: s.storage },
    ]);
  });

  it("refuses the template's disk imported as a VM with 409 DISK_OWNED", async () => {
    const r = await s.api('POST', '/vms', { name: 'alias', disks: [{ path: path.join(s.storage, 'gold.qcow2') }] });
    expect(r.status).toBe(409);
    expect(r.body.error).toMatchObject({ code: 'DISK_OWNED', details: { field: 'disks[0].path', owner: { type: 'template', name: 'gold' } } });
  });

  it('ran qemu-img in the engine for no registration, only for the overlays of a clone', async () => {
    expect(engineQemuImg()).toEqual([]);
    const r = await s.api('POST', '/vms', { name: 'clone-1', template: 'gold' });
    expect(r.status).toBe(201);
    const dir = path.join(s.storage, 'vms', r.body.vm.id);
    expect(engineQemuImg().sort()).toEqual([
      `create -q -f qcow2 -b ${path.join(s.storage, 'data.raw')} -F raw -- ${dir}/disk1.qcow2`,
      `create -q -f qcow2 -b ${path.join(s.storage, 'gold.qcow2')} -F qcow2 -- ${dir}/disk0.qcow2`,
    ]);
  });
});
