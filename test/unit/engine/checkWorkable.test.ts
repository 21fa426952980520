// The one pre-check of a job's target beyond the VM's status (engine-plugin/jobs/checkWorkable.ts):
// which disk or snapshot state refuses work, with which code and details. Plain inputs, no
// stand-in needed; the oVirt contract tests (test/unit/ovirt/diskStateAndSnapshots.test.ts)
// drive the same check through the API.
import { ConflictError } from '../../../shared/errors';
import { checkWorkable, Workable } from '../../../engine-plugin/jobs/checkWorkable';

const disk = (extra: object = {}) => ({ path: '/mnt/sd/images/d1/v1', format: 'qcow2', ...extra });

describe('checkWorkable', () => {
  it.each<[string, 'vm' | 'template', Workable]>([
    ['no inventory status (embedded)', 'vm', { name: 'a', disks: [disk()] }],
    ['every disk ok', 'template', { name: 't', disks: [disk({ status: 'ok' }), disk({ status: 'ok', path: '/x' })] }],
    ['no disk at all', 'vm', { name: 'a', disks: [] }],
  ])('lets through: %s', (_what, kind, target) => {
    expect(() => checkWorkable(kind, target)).not.toThrow();
  });

  it.each<[string, 'vm' | 'template', Workable, string, Record<string, unknown>]>([
    ['a locked disk', 'vm', { name: 'web', disks: [disk(), disk({ status: 'locked', path: '/p2' })] }, 'DISK_LOCKED', { vm: 'web', disk: '/p2', status: 'locked' }],
    ['an illegal disk', 'template', { name: 'gold', disks: [disk({ status: 'illegal' })] }, 'DISK_ILLEGAL', { template: 'gold', disk: disk().path, status: 'illegal' }],
    ['a disk no agent can work on', 'vm', { name: 'web', disks: [disk({ unsupported: 'block storage domain (iSCSI)' })] }, 'DISK_UNSUPPORTED', { vm: 'web', reason: 'block storage domain (iSCSI)' }],
    ['a snapshot in preview', 'vm', { name: 'web', disks: [disk({ status: 'ok' })], snapshotInPreview: 'golden' }, 'SNAPSHOT_IN_PREVIEW', { vm: 'web', snapshot: 'golden' }],
  ])('refuses with 409: %s', (_what, kind, target, code, details) => {
    let err: unknown;
    try {
      checkWorkable(kind, target);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConflictError);
    expect((err as ConflictError).toJSON()).toMatchObject({ code, details });
    expect((err as ConflictError).message).toContain(`"${target.name}"`);
  });
});
