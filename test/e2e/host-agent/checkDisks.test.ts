// CheckDisks on a real agent with the real qemu-img: what the engine asks before a disk
// enters its inventory. Real images are described (format probed, sizes, backing file,
// in use); anything outside a storage root (the disk or any backing file), not a disk,
// or a text file declared raw is refused with its reason and field; nothing in the storage root changes. StartSysprep
// and Inspect refuse the same files through the same check.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { fixtureDisk, refusal, startTestAgent, TestAgent } from '../../helpers/agentHarness';
import { DiskHolder, holdWriteLock } from '../../helpers/disk';

jest.setTimeout(300_000);

/**
 * Every entry under `dir`: type, mtime and ctime (any write or metadata change), size,
 * link targets; with `hash`, also the content hash of files (slow on images: once).
 */
function snapshot(dir: string, hash = false): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = path.join(d, name);
      const st = lstatSync(p);
      if (st.isDirectory()) {
        out[p] = `dir ${st.mtimeMs}`;
        walk(p);
      } else if (st.isSymbolicLink()) out[p] = `link ${readlinkSync(p)} ${st.mtimeMs}`;
      else if (st.isFile()) out[p] = `file ${st.mtimeMs} ${st.ctimeMs} ${st.size}${hash ? ` ${createHash('sha256').update(readFileSync(p)).digest('hex')}` : ''}`;
      else out[p] = `other ${st.mtimeMs}`;
    }
  };
  walk(dir);
  return out;
}

describe('CheckDisks', () => {
  let t: TestAgent;
  let root: string;
  let qcow2: string;
  let raw: string;
  let overlay: string;
  let textRaw: string;
  let holder: DiskHolder | undefined;
  let initial: Record<string, string>;

  beforeAll(async () => {
    t = await startTestAgent();
    root = t.dirs.root;
    qcow2 = await fixtureDisk(t.dirs, 'golden.qcow2');
    raw = path.join(root, 'golden.raw');
    execFileSync('qemu-img', ['convert', '-O', 'raw', qcow2, raw]);
    overlay = path.join(root, 'clone.qcow2');
    execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', '-b', qcow2, '-F', 'qcow2', overlay]);
    // Text that is a whole number of sectors: only the content test can refuse it.
    textRaw = path.join(root, 'notes.raw');
    writeFileSync(textRaw, 'root:x:0:0:root:/root:/bin/sh\n'.repeat(64).slice(0, 1536));
    writeFileSync(path.join(root, 'odd.raw'), Buffer.alloc(1000, 1));
    writeFileSync(path.join(root, 'empty.raw'), '');
    mkdirSync(path.join(root, 'adir'));
    symlinkSync('/etc/passwd', path.join(root, 'escape.qcow2'));
    symlinkSync(qcow2, path.join(root, 'alias.qcow2'));
    execFileSync('mkfifo', [path.join(root, 'pipe.raw')]);
    // Backing chains: a legitimate relative one with "..", and ones that lead out of the root.
    const img = (file: string, backing: string, backingFormat: string) =>
      execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', '-u', '-b', backing, '-F', backingFormat, file, '64M']);
    const outside = path.join(t.dirs.base, 'outside');
    mkdirSync(path.join(outside, 'sub'), { recursive: true });
    execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', path.join(outside, 'base.qcow2'), '64M']);
    mkdirSync(path.join(root, 'vm'));
    img(path.join(root, 'vm', 'clone.qcow2'), '../golden.qcow2', 'qcow2');
    img(path.join(root, 'backed-outside.qcow2'), path.join(outside, 'base.qcow2'), 'qcow2');
    img(path.join(root, 'backed-shadow.qcow2'), '/etc/shadow', 'raw');
    // Lexically vm/base.qcow2 (inside), really outside/base.qcow2: "evil" is a symlink to outside/sub.
    symlinkSync(path.join(outside, 'sub'), path.join(root, 'vm', 'evil'));
    img(path.join(root, 'vm', 'sneaky.qcow2'), 'evil/../base.qcow2', 'qcow2');
    img(path.join(root, 'backed-nbd.qcow2'), 'nbd://127.0.0.1:1/export', 'raw');
    img(path.join(root, 'backed-missing.qcow2'), 'gone.qcow2', 'qcow2');
    initial = snapshot(root, true);
  });

  afterAll(async () => {
    await holder?.release();
    await t?.stop();
  });

  it('describes real images: probed format, sizes, backing file; a raw image declared raw', async () => {
    const before = snapshot(root);
    const res = await t.client.checkDisks([
      { path: qcow2 },
      { path: raw, format: 'raw' },
      { path: overlay },
      { path: path.join(root, 'alias.qcow2'), format: 'qcow2' },
      { path: path.join(root, 'vm', 'clone.qcow2') },
    ]);
    const [q, r, o, alias, relative] = res.disks;
    expect(q).toMatchObject({ path: qcow2, realPath: qcow2, storageRoot: root, format: 'qcow2', backingFile: '', inUse: false });
    expect(Number(q.virtualSize)).toBeGreaterThan(0);
    expect(Number(q.actualSize)).toBeGreaterThan(0);
    expect(r).toMatchObject({ realPath: raw, format: 'raw', virtualSize: q.virtualSize, inUse: false });
    expect(o).toMatchObject({ realPath: overlay, format: 'qcow2', backingFile: qcow2, virtualSize: q.virtualSize });
    // A symlink inside the root to a disk inside the root: the real path is what the engine records.
    expect(alias).toMatchObject({ path: path.join(root, 'alias.qcow2'), realPath: qcow2, format: 'qcow2' });
    expect(relative).toMatchObject({ format: 'qcow2', backingFile: qcow2 });
    expect(snapshot(root)).toEqual(before);
  });

  it.each([
    // [what, disk, kind, code, field]
    ['a text file declared raw', () => ({ path: textRaw, format: 'raw' }), 'invalid', 'NOT_A_DISK', 'disks[0].path', /declared raw but is not a disk image: its first 1536 bytes are text/],
    ['a file of 1000 bytes declared raw', () => ({ path: path.join(root, 'odd.raw'), format: 'raw' }), 'invalid', 'NOT_A_DISK', 'disks[0].path', /not a whole number of 512-byte sectors/],
    ['an empty file declared raw', () => ({ path: path.join(root, 'empty.raw'), format: 'raw' }), 'invalid', 'NOT_A_DISK', 'disks[0].path', /empty/],
    ['a raw image not declared raw', () => ({ path: raw }), 'invalid', 'NOT_A_DISK', 'disks[0].path', /declare format "raw"/],
    ['a raw image declared qcow2', () => ({ path: raw, format: 'qcow2' }), 'invalid', 'NOT_A_DISK', 'disks[0].path', /not a qcow2 image/],
    ['an unknown format', () => ({ path: qcow2, format: 'qed' }), 'invalid', 'INVALID_ARGUMENT', 'disks[0].format', /must be one of "qcow2", "raw", "vmdk"/],
    ['a qcow2 declared vmdk', () => ({ path: qcow2, format: 'vmdk' }), 'invalid', 'FORMAT_MISMATCH', 'disks[0].format', /declared "vmdk" but is a qcow2 image/],
    ['/etc/shadow', () => ({ path: '/etc/shadow', format: 'raw' }), 'denied', 'PATH_OUTSIDE_ROOTS', 'disks[0].path', /outside the storage roots/],
    ['/proc/self/environ', () => ({ path: '/proc/self/environ', format: 'raw' }), 'denied', 'PATH_OUTSIDE_ROOTS', 'disks[0].path', /outside the storage roots/],
    ['/dev/zero', () => ({ path: '/dev/zero', format: 'raw' }), 'denied', 'PATH_OUTSIDE_ROOTS', 'disks[0].path', /outside the storage roots/],
    ['a directory in the root', () => ({ path: path.join(root, 'adir') }), 'invalid', 'NOT_A_DISK', 'disks[0].path', /not a regular file/],
    ['a FIFO in the root (never opened)', () => ({ path: path.join(root, 'pipe.raw'), format: 'raw' }), 'invalid', 'NOT_A_DISK', 'disks[0].path', /not a regular file/],
    ['a symlink in the root pointing outside', () => ({ path: path.join(root, 'escape.qcow2') }), 'denied', 'PATH_OUTSIDE_ROOTS', 'disks[0].path', /resolves to \/etc\/passwd/],
    ['ROOT/../x.qcow2', () => ({ path: `${root}/../images/golden.qcow2` }), 'denied', 'PATH_TRAVERSAL', 'disks[0].path', /"\.\." is not allowed/],
    ['a missing file', () => ({ path: path.join(root, 'missing.qcow2') }), 'not-found', 'DISK_NOT_FOUND', 'disks[0].path', /no such disk/],
    ['a relative path', () => ({ path: 'images/golden.qcow2' }), 'invalid', 'INVALID_ARGUMENT', 'disks[0].path', /absolute/],
    ['a qcow2 backed by a file outside the root', () => ({ path: path.join(root, 'backed-outside.qcow2') }), 'denied', 'PATH_OUTSIDE_ROOTS', 'disks[0].path', /outside the storage roots.*\(the backing file of/],
    ['a qcow2 backed by /etc/shadow', () => ({ path: path.join(root, 'backed-shadow.qcow2') }), 'denied', 'PATH_OUTSIDE_ROOTS', 'disks[0].path', /\/etc\/shadow is outside/],
    ['a backing name whose ".." follows a symlink out', () => ({ path: path.join(root, 'vm', 'sneaky.qcow2') }), 'denied', 'PATH_OUTSIDE_ROOTS', 'disks[0].path', /outside\/base\.qcow2 is outside/],
    ['a backing file on the network', () => ({ path: path.join(root, 'backed-nbd.qcow2') }), 'invalid', 'NOT_A_DISK', 'disks[0].path', /not a local file/],
    ['a missing backing file', () => ({ path: path.join(root, 'backed-missing.qcow2') }), 'invalid', 'NOT_A_DISK', 'disks[0].path', /gone\.qcow2 .* does not exist/],
  ])('refuses %s', async (_what, disk, kind, code, field, message) => {
    const before = snapshot(root);
    const err = await refusal(t.client.checkDisks([disk()]));
    expect(err).toMatchObject({ kind, code, details: { field } });
    expect(err.message).toMatch(message);
    expect(snapshot(root)).toEqual(before);
  });

  it('fails the call on the first disk at fault, naming its index', async () => {
    const err = await refusal(t.client.checkDisks([{ path: qcow2 }, { path: textRaw, format: 'raw' }, { path: '/etc/shadow' }]));
    expect(err).toMatchObject({ code: 'NOT_A_DISK', details: { field: 'disks[1].path' } });
    expect((await refusal(t.client.checkDisks([]))).details).toMatchObject({ field: 'disks' });
  });

  it('reports a disk a running QEMU holds as in use, read shared; StartSysprep still refuses it', async () => {
    const busy = await fixtureDisk(t.dirs, 'busy.qcow2');
    holder = await holdWriteLock(busy);
    const before = snapshot(root);
    const [d] = (await t.client.checkDisks([{ path: busy }])).disks;
    expect(d).toMatchObject({ realPath: busy, format: 'qcow2', inUse: true });
    expect(Number(d.virtualSize)).toBeGreaterThan(0);
    const err = await refusal(t.client.startSysprep({ jobId: 'busy-1', disks: [{ path: busy }], spec: { only: ['machine-id'] } }));
    expect(err).toMatchObject({ code: 'DISK_IN_USE', details: { field: 'disks[0].path' } });
    expect(snapshot(root)).toEqual(before);
    expect(holder.exitedEarly()).toBe(false);
    await holder.release();
    expect((await t.client.checkDisks([{ path: busy }])).disks[0].inUse).toBe(false);
  });

  it('StartSysprep and Inspect refuse a text file declared raw the same way, creating no job', async () => {
    const start = await refusal(t.client.startSysprep({ jobId: 'text-1', disks: [{ path: textRaw, format: 'raw' }], spec: { only: ['machine-id'] } }));
    expect(start).toMatchObject({ code: 'NOT_A_DISK', details: { field: 'disks[0].path' } });
    expect((await refusal(t.client.getJob('text-1'))).code).toBe('JOB_NOT_FOUND');
    const inspect = await refusal(t.client.inspect([{ path: textRaw, format: 'raw' }]));
    expect(inspect).toMatchObject({ code: 'NOT_A_DISK', details: { field: 'disks[0].path' } });
  });

  it('changed nothing in the storage root (content hashes) and took no lease', () => {
    const now = snapshot(root, true);
    delete now[path.join(root, 'busy.qcow2')]; // added (and held by qemu-io) by the in-use case
    expect(now).toEqual(initial);
    expect(readdirSync(root)).not.toContain('.ovirt-sysprep-leases');
  });
});
