// The marks a clone carries (VmCloning.checkMarks), checked where they enter every
// inventory's cloneVm: table tests of what is taken and what is refused, naming the field.
import { checkMarks } from '../../../engine-plugin/inventory/VmCloning';

describe('checkMarks', () => {
  it.each([
    [undefined, undefined],
    [{}, undefined],
    [{ room: 'lab1' }, { room: 'lab1' }],
    [{ 'room.group': '', Z9_x: 'x'.repeat(256) }, { 'room.group': '', Z9_x: 'x'.repeat(256) }],
    [{ note: 'a & b < "c" é' }, { note: 'a & b < "c" é' }],
  ])('takes %j', (input, expected) => {
    expect(checkMarks(input)).toEqual(expected);
  });

  it.each([
    [null, 'marks', /object/],
    [['a'], 'marks', /object/],
    ['room=lab', 'marks', /object/],
    [{ '': 'x' }, 'marks', /key ""/],
    [{ '-room': 'x' }, 'marks', /key "-room"/],
    [{ 'a b': 'x' }, 'marks', /key "a b"/],
    [{ ['k'.repeat(65)]: 'x' }, 'marks', /1 to 64/],
    [{ room: 7 }, 'marks.room', /string/],
    [{ room: 'a\nb' }, 'marks.room', /printable/],
    [{ room: 'x'.repeat(257) }, 'marks.room', /256/],
    [Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`k${i}`, 'v'])), 'marks', /at most 32/],
  ])('refuses %j, naming %s', (input, field, message) => {
    let err: unknown;
    try {
      checkMarks(input);
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ kind: 'invalid', details: { field } });
    expect((err as Error).message).toMatch(message);
  });
});
