// The marks the engine keeps in an oVirt VM's comment (ovirtMarks.ts) and the snapshot
// mapping of OvirtSnapshots (oVirt's JSON -> the port's Snapshot): pure parsing, table tests.
import { commentWithMarks, marksOf, MARKS_PREFIX, readMarker } from '../../../engine-plugin/ovirt/ovirtMarks';
import { toSnapshots } from '../../../engine-plugin/ovirt/ovirtModel';

describe('oVirt marks in the VM comment', () => {
  it('writes one marker line after the text an administrator wrote, replacing an earlier one', () => {
    const c1 = commentWithMarks('room01-vd1', { 'ovirt-sysprep-room': 'room01' }, 'owned by the lab team');
    expect(c1).toBe(`owned by the lab team\n${MARKS_PREFIX}{"name":"room01-vd1","marks":{"ovirt-sysprep-room":"room01"}}`);
    const c2 = commentWithMarks('room01-vd1', { a: 'b' }, c1);
    expect(c2.split('\n')).toEqual(['owned by the lab team', `${MARKS_PREFIX}{"name":"room01-vd1","marks":{"a":"b"}}`]);
    expect(readMarker(c2)).toEqual({ name: 'room01-vd1', marks: { a: 'b' } });
  });

  it.each([
    ['no comment', undefined],
    ['text only', 'just a note'],
    ['not JSON', `${MARKS_PREFIX}{oops`],
    ['no name', `${MARKS_PREFIX}{"marks":{}}`],
    ['marks a list', `${MARKS_PREFIX}{"name":"x","marks":[]}`],
    ['marks null', `${MARKS_PREFIX}{"name":"x","marks":null}`],
  ])('reads no marker from %s', (_what, comment) => {
    expect(readMarker(comment)).toBeUndefined();
  });

  it('keeps string values only', () => {
    expect(readMarker(`${MARKS_PREFIX}{"name":"x","marks":{"a":"1","b":2,"c":null}}`)).toEqual({ name: 'x', marks: { a: '1' } });
  });

  it('counts the marks only on the VM they were written for: a copy made with "Clone VM" (comment copied, other name) is not ours', () => {
    const comment = commentWithMarks('room01-vd1', { r: '1' });
    expect(marksOf({ name: 'room01-vd1', comment })).toEqual({ r: '1' });
    expect(marksOf({ name: 'room01-vd1-copy', comment })).toBeUndefined();
    expect(marksOf({ name: 'plain' })).toBeUndefined();
  });
});

describe("oVirt snapshots as the port's", () => {
  const snap = (id: string, type: string, date: number, description?: string) => ({ id, snapshot_type: type, date: String(date), snapshot_status: 'ok', ...(description !== undefined && { description }) });

  it('keeps the regular ones, oldest first, names them by their description, the newest current', () => {
    const list = toSnapshots([snap('act', 'active', 300, 'Active VM'), snap('b', 'regular', 200, 'evening'), snap('a', 'regular', 100, 'morning'), snap('p', 'preview', 50, 'Active VM before the preview'), snap('c', 'regular', 250)]);
    expect(list).toEqual([
      { id: 'a', name: 'morning', description: 'morning', date: new Date(100).toISOString(), vmState: 'down', current: false },
      { id: 'b', name: 'evening', description: 'evening', date: new Date(200).toISOString(), vmState: 'down', parent: 'a', current: false },
      { id: 'c', name: 'c', description: '', date: new Date(250).toISOString(), vmState: 'down', parent: 'b', current: true },
    ]);
  });

  it('answers an empty list for a VM with its active snapshot only', () => {
    expect(toSnapshots([snap('act', 'active', 1, 'Active VM')])).toEqual([]);
  });
});
