// Sealing a template with template-seal (REAL virt-sysprep), followed over SSE: the
// client sees each operation and the final state; machine-id is EMPTY in the disk.
import * as path from 'node:path';
import { copyGuestImage, IDENTITY_PATHS } from '../../helpers/guestImage';
import { readGuestFiles } from './guestFiles';
import { ADMIN, Stack, startStack } from './stack';

jest.setTimeout(25 * 60_000);

interface Sse { type: string; data: any }

async function readEvents(url: string): Promise<Sse[]> {
  const res = await fetch(url, { headers: { authorization: `Bearer ${ADMIN}` } });
  expect(res.headers.get('content-type')).toContain('text/event-stream');
  const text = await res.text(); // the stream ends after the final state
  return [...text.matchAll(/event: (\w+)\ndata: (.*)\n/g)].map((m) => ({ type: m[1], data: JSON.parse(m[2]) }));
}

describe('template seal (real virt-sysprep)', () => {
  let s: Stack;
  beforeAll(async () => {
    s = await startStack();
  });
  afterAll(() => s?.close());

  it('leaves machine-id empty and the hostname localhost, with live progress over SSE', async () => {
    const disk = path.join(s.storage, 'base.qcow2');
    await copyGuestImage(disk);
    const tpl = (await s.api('POST', '/templates', { name: 'base', disks: [{ path: disk }] })).body;
    const r = await s.api('POST', `/templates/${tpl.id}/sysprep`, { profile: 'template-seal' }, ADMIN);
    expect(r.status).toBe(202);
    expect(r.body.job).toMatchObject({ kind: 'template', profile: 'template-seal', target: { type: 'template', name: 'base' } });

    const events = await readEvents(`${s.url}/api/v1/jobs/${r.body.job.id}/events`);
    expect(events[0].type).toBe('snapshot');
    const operations = events.filter((e) => e.type === 'operation').map((e) => e.data.operation);
    expect(operations).toEqual(expect.arrayContaining(['machine-id', 'ssh-hostkeys', 'customize']));
    expect(operations.indexOf('machine-id')).toBeLessThan(operations.indexOf('customize'));
    expect(events.some((e) => e.type === 'state' && e.data.state === 'running')).toBe(true);
    expect(events.at(-1)).toMatchObject({ type: 'state', data: { state: 'succeeded' } });
    const progress = events.filter((e) => e.type === 'operation').map((e) => e.data.progress.done);
    expect(progress).toEqual([...progress].sort((a, b) => a - b));

    const files = (await readGuestFiles([disk], ['/etc/machine-id', '/etc/hostname', IDENTITY_PATHS.sshHostKeys[0]]))[disk];
    expect(files['/etc/machine-id']).toBe('');
    expect(files['/etc/hostname']?.trim()).toBe('localhost');
    expect(files[IDENTITY_PATHS.sshHostKeys[0]]).toBeNull();
  });
});
