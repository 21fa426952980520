// A held clone's overlays (heldOverlays.ts): the staging name of a final overlay, the
// pairs a release may rename (only the names the clone makes, in a clone directory), and
// the release on real files in a temporary storage root.
import { existsSync, mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { finalOverlay, isHeldPair, releaseHeld, stagingOf } from '../../../engine-plugin/libvirt/heldOverlays';

describe('held overlays', () => {
  it('names the staging file next to the final one', () => {
    expect(finalOverlay('/s/vms/u', 0)).toBe('/s/vms/u/disk0.qcow2');
    expect(stagingOf('/s/vms/u/disk12.qcow2')).toBe('/s/vms/u/disk12.pending.qcow2');
    expect(() => stagingOf('/s/vms/u/other.qcow2')).toThrow('not an overlay path');
  });

  it.each([
    ['/s/vms/u/disk0.qcow2', '/s/vms/u/disk0.pending.qcow2', true],
    ['/s/vms/u/disk0.qcow2', '/s/vms/u/disk1.pending.qcow2', false], // another disk's staging file
    ['/s/vms/u/disk0.qcow2', '/etc/shadow', false],
    ['/etc/disk0.qcow2', '/etc/disk0.pending.qcow2', false], // not in a clone directory
    ['/s/vms/u/../../x/disk0.qcow2', '/s/vms/u/../../x/disk0.pending.qcow2', false],
    ['/s/vms/u/passwd', '/s/vms/u/passwd.pending', false],
    ['s/vms/u/disk0.qcow2', 's/vms/u/disk0.pending.qcow2', false],
  ])('pair %s <- %s: %s', (final, staging, ok) => {
    expect(isHeldPair(final, staging)).toBe(ok);
  });

  it('renames staging to final inside a storage root, skips one already renamed; one pair outside: nothing renamed', async () => {
    const root = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'held-')));
    const outside = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'held-out-')));
    try {
      const dir = path.join(root, 'vms', 'u');
      const far = path.join(outside, 'vms', 'v');
      mkdirSync(dir, { recursive: true });
      mkdirSync(far, { recursive: true });
      writeFileSync(stagingOf(finalOverlay(dir, 0)), 'a');
      writeFileSync(finalOverlay(dir, 1), 'b'); // renamed before a crash
      writeFileSync(stagingOf(finalOverlay(far, 0)), 'c');
      const ours = {
        [finalOverlay(dir, 0)]: stagingOf(finalOverlay(dir, 0)),
        [finalOverlay(dir, 1)]: stagingOf(finalOverlay(dir, 1)),
      };
      // With a pair outside the roots (another engine's clone, edited metadata): all or none.
      expect(await releaseHeld({ ...ours, [finalOverlay(far, 0)]: stagingOf(finalOverlay(far, 0)) }, [root])).toEqual([finalOverlay(far, 0)]);
      expect(existsSync(stagingOf(finalOverlay(dir, 0)))).toBe(true);
      expect(existsSync(finalOverlay(dir, 0))).toBe(false);
      expect(existsSync(stagingOf(finalOverlay(far, 0)))).toBe(true);
      // Ours only: renamed, the one renamed before a crash skipped.
      expect(await releaseHeld(ours, [root])).toEqual([]);
      expect(existsSync(finalOverlay(dir, 0))).toBe(true);
      expect(existsSync(stagingOf(finalOverlay(dir, 0)))).toBe(false);
      expect(existsSync(finalOverlay(dir, 1))).toBe(true);
    } finally {
      rmSync(root, { recursive: true, force: true });
      rmSync(outside, { recursive: true, force: true });
    }
  });
});
