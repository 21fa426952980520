// The shared qemu-img wrapper on the real qemu-img: probe, overlay and commit of a tiny
// image, internal snapshots, and the typed in-use error naming the request field when asked to.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DiskInUseError, QemuImg, qemuImgMessage } from '../../../shared/tools/qemuImg';

describe('QemuImg (shared wrapper)', () => {
  let dir: string;
  const q = new QemuImg();
  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'qemuimg-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('probes an image, makes a copy-on-write overlay of it and commits the overlay back', async () => {
    const base = path.join(dir, 'base.qcow2');
    execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', base, '2M']);
    expect(await q.info(base)).toMatchObject({ format: 'qcow2', virtualSize: 2 * 1024 * 1024 });
    const overlay = path.join(dir, 'overlay.qcow2');
    await q.createOverlay(base, 'qcow2', overlay);
    expect(await q.info(overlay, { format: 'qcow2', shared: true })).toMatchObject({ format: 'qcow2', backingFilename: base });
    await q.commit(overlay);
  });

  it('creates, lists, applies and deletes internal snapshots (tags, ids, dates in the probe)', async () => {
    const img = path.join(dir, 'snap.qcow2');
    execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', img, '1M']);
    expect((await q.info(img)).snapshots).toEqual([]);
    await q.snapshot('create', img, 'one');
    await q.snapshot('create', img, 'two');
    const snaps = (await q.info(img, { shared: true })).snapshots;
    expect(snaps.map((x) => [x.id, x.name, x.vmStateSize])).toEqual([['1', 'one', 0], ['2', 'two', 0]]);
    expect(Date.parse(snaps[0].date)).toBeGreaterThan(Date.now() - 60_000);
    await q.snapshot('apply', img, 'one');
    await q.snapshot('delete', img, 'two');
    expect((await q.info(img)).snapshots.map((x) => x.name)).toEqual(['one']);
    await expect(q.snapshot('delete', img, 'nope')).rejects.toThrow(/nope|not found|Could not delete/i);
  });

  it("fails on a file that is not the declared format, with qemu-img's own words", async () => {
    const text = path.join(dir, 'notes.txt');
    writeFileSync(text, 'not an image\n');
    const err = await q.info(text, { format: 'qcow2' }).then(() => undefined, (e) => e);
    expect(err).toBeDefined();
    expect(err).not.toBeInstanceOf(DiskInUseError);
    expect(qemuImgMessage(err)).toMatch(/qcow2|Image is not in qcow2 format/i);
  });

  it('names the request field of a disk in use when asked to', () => {
    const e = new DiskInUseError('/images/a.qcow2', 'Failed to get "write" lock').at('disks[1].path');
    expect(e).toMatchObject({ kind: 'conflict', code: 'DISK_IN_USE', details: { field: 'disks[1].path', disk: '/images/a.qcow2' } });
    expect(e.message).toBe('disks[1].path: disk /images/a.qcow2 is in use by a running VM or tool (Failed to get "write" lock)');
  });
});
