// A pool of 6 VMs syspreped in bulk with a hostname pattern (REAL virt-sysprep), one VM
// made to fail by removing its disk: the job ends partial with that child's error, the
// other five are done and have five distinct hostnames from the pattern.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { copyGuestImage } from '../../helpers/guestImage';
import { readGuestFiles } from './guestFiles';
import { OPERATOR, Stack, startStack } from './stack';

jest.setTimeout(25 * 60_000);

describe('bulk sysprep of a pool (real virt-sysprep)', () => {
  let s: Stack;
  beforeAll(async () => {
    s = await startStack({ maxJobs: 2 });
  });
  afterAll(() => s?.close());

  it('renders a hostname per VM and ends partial when one VM fails', async () => {
    const tplDisk = path.join(s.storage, 'class.qcow2');
    await copyGuestImage(tplDisk);
    await s.api('POST', '/templates', { name: 'class', disks: [{ path: tplDisk }] });
    const created = await s.api('POST', '/pools', { name: 'lab', template: 'class', size: 6, vmNamePattern: 'lab_${index}' });
    expect(created.status).toBe(201);
    const pool = created.body.pool;
    const vms = await Promise.all(pool.vmIds.map(async (id: string) => (await s.api('GET', `/vms/${id}`)).body));
    await fs.rm(vms[3].disks[0].path); // VM lab_4 loses its disk

    const r = await s.api('POST', `/pools/${pool.id}/sysprep`, {
      operations: { only: ['machine-id', 'ssh-hostkeys'] },
      params: { hostname: '${pool}-${index}.example.org' },
    }, OPERATOR);
    expect(r.status).toBe(202);
    expect(r.body.job).toMatchObject({ kind: 'pool', requestedBy: 'op', progress: { total: 6 } });
    const job = await s.waitJob(r.body.job.id);

    expect(job.state).toBe('partial');
    const byVm = new Map(job.children.map((c: any) => [c.target.name, c]));
    expect(byVm.get('lab_4')).toMatchObject({ state: 'failed', error: { code: expect.stringMatching(/NOT_FOUND|MISSING|DISK/) } });
    const done = vms.filter((v) => v.name !== 'lab_4');
    for (const v of done) expect(byVm.get(v.name)).toMatchObject({ state: 'succeeded' });

    const files = await readGuestFiles(done.map((v) => v.disks[0].path), ['/etc/hostname']);
    const hostnames = done.map((v) => files[v.disks[0].path]['/etc/hostname']?.trim());
    expect(hostnames).toEqual(['lab-1', 'lab-2', 'lab-3', 'lab-5', 'lab-6'].map((h) => `${h}.example.org`));
  });
});
