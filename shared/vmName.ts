// What a VM, template or pool name may be, on every inventory we create names on
// (embedded, libvirt) and in a room file, which names VMs before any inventory sees them.
import { InputError } from './errors';

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
export const NAME_MESSAGE = 'must be 1-64 letters, digits, "_", "." or "-", starting with a letter or digit';

export function isVmName(name: unknown): name is string {
  return typeof name === 'string' && NAME.test(name);
}

export function checkName(field: string, name: string): void {
  if (!isVmName(name)) throw new InputError(field, NAME_MESSAGE);
}
