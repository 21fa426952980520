// Automatic reset on clone, with the REAL agent and the REAL virt-sysprep (TCG):
// three clones of one template get three resets; afterwards their disks have three
// hostnames from the VM names, three different non-empty machine-ids, no SSH host keys,
// and the template's disk is byte-identical.
import * as path from 'node:path';
import { sha256File } from '../../helpers/disk';
import { copyGuestImage, GOLDEN_MACHINE_ID, IDENTITY_PATHS } from '../../helpers/guestImage';
import { readGuestFiles } from './guestFiles';
import { Stack, startStack } from './stack';

jest.setTimeout(25 * 60_000);

describe('automatic reset of cloned VMs (real virt-sysprep)', () => {
  let s: Stack;
  beforeAll(async () => {
    s = await startStack({ autoResetClone: true, maxJobs: 2 });
  });
  afterAll(() => s?.close());

  it('gives three clones three hostnames, three machine-ids, no host keys, and leaves the template unchanged', async () => {
    const templateDisk = path.join(s.storage, 'golden.qcow2');
    await copyGuestImage(templateDisk);
    const before = await sha256File(templateDisk);
    expect((await s.api('POST', '/templates', { name: 'golden', disks: [{ path: templateDisk }] })).status).toBe(201);

    const names = ['web_1', 'web_2', 'db-1'];
    const created = [];
    for (const name of names) {
      const r = await s.api('POST', '/vms', { name, template: 'golden' });
      expect(r.status).toBe(201);
      expect(r.body.vm.status).toBe('image_locked');
      expect(r.body.job).toMatchObject({ kind: 'auto-reset', profile: 'clone-reset' });
      created.push(r.body);
    }
    const jobs = await Promise.all(created.map((c) => s.waitJob(c.job.id)));
    for (const job of jobs) {
      expect(job).toMatchObject({ state: 'succeeded', host: 'e2e-host' });
      expect(job.steps.map((st: { operation: string }) => st.operation)).toEqual(expect.arrayContaining(['machine-id', 'ssh-hostkeys', 'customize']));
    }
    for (const c of created) expect((await s.api('GET', `/vms/${c.vm.id}`)).body.status).toBe('down');
    expect((await s.api('GET', '/jobs?kind=auto-reset')).body.total).toBe(3);

    const disks = created.map((c) => c.vm.disks[0].path);
    const files = await readGuestFiles([...disks, templateDisk], ['/etc/hostname', '/etc/machine-id', ...IDENTITY_PATHS.sshHostKeys]);
    const hostnames = disks.map((d) => files[d]['/etc/hostname']?.trim());
    expect(hostnames).toEqual(['web-1', 'web-2', 'db-1']);
    const ids = disks.map((d) => files[d]['/etc/machine-id']?.trim());
    expect(ids.every((id) => /^[0-9a-f]{32}$/.test(id ?? ''))).toBe(true);
    expect(new Set([...ids, GOLDEN_MACHINE_ID]).size).toBe(4);
    for (const d of disks) for (const key of IDENTITY_PATHS.sshHostKeys) expect(files[d][key]).toBeNull();
    // The template still has its own identity, and not one byte changed.
    expect(files[templateDisk]['/etc/machine-id']?.trim()).toBe(GOLDEN_MACHINE_ID);
    expect(await sha256File(templateDisk)).toBe(before);
  });
});
