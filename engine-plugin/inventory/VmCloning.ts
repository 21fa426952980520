// The clone port: a new VM from a template, as rooms (and POST /vms) need on every
// inventory. The embedded inventory and libvirt make copy-on-write overlays of the
// template's disks (InventoryActions implements it there); oVirt creates the VM from the
// template through its REST API. `marks` are the product's own labels on the VM (a room
// marks the VMs it created, so that `room delete` removes those and nothing else): kept
// with the VM by each inventory and read back on Vm.marks.
import { InputError } from '../../shared/errors';
import type { Vm, VmStatus } from './Inventory';

export interface CloneInput {
  name: string;
  /** Template id or name. */
  template: string;
  /** The status the new VM is created with (image_locked: held until its reset ends). */
  status: VmStatus;
  /** Labels kept with the VM (key -> value), read back on Vm.marks. */
  marks?: Record<string, string>;
}

export interface VmCloning {
  /** A VM cloned from the template; 409 when the name is taken, 404 when the template is unknown. */
  cloneVm(input: CloneInput): Promise<Vm>;
}

export const VmCloning = Symbol('VmCloning');

const MARK_KEY = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
/** Printable: no control characters (newlines included), so a mark fits one line of `vm show` and one XML attribute. */
const MARK_VALUE = /^[^\p{Cc}]{0,256}$/u;
const MAX_MARKS = 32;

/**
 * The marks of a clone as each inventory keeps them, checked where they enter (every
 * inventory's cloneVm): at most 32, keys 1 to 64 of `A-Z a-z 0-9 . _ -` starting with a
 * letter or digit, values up to 256 printable characters. 400 naming `marks` or
 * `marks.KEY`; an empty or absent object: none (undefined).
 */
export function checkMarks(marks: unknown): Record<string, string> | undefined {
  if (marks === undefined) return undefined;
  if (!marks || typeof marks !== 'object' || Array.isArray(marks)) throw new InputError('marks', 'must be an object of key -> value strings');
  const entries = Object.entries(marks);
  if (entries.length > MAX_MARKS) throw new InputError('marks', `at most ${MAX_MARKS} marks`);
  for (const [key, value] of entries) {
    if (!MARK_KEY.test(key)) throw new InputError('marks', `key ${JSON.stringify(key.slice(0, 80))}: must be 1 to 64 letters, digits, ".", "_" or "-", starting with a letter or digit`);
    if (typeof value !== 'string' || !MARK_VALUE.test(value)) throw new InputError(`marks.${key}`, 'must be a string of at most 256 printable characters (no control characters)');
  }
  return entries.length ? Object.fromEntries(entries) as Record<string, string> : undefined;
}
