// The checks that need every VM of one request at once: values that must differ from VM
// to VM (a static address), declared by the catalog entries (uniqueAcrossVms). Run on
// the params as rendered for each VM, before anything is stored or run: a pool, bulk or
// room request where two VMs would get the same address is refused as a whole.
import { InputError } from '../errors';
import { CUSTOMIZATION_BY_KEY, Params } from './customizations';

export function checkAcrossVms(rendered: readonly { vm: string; params: Params }[]): void {
  const holders = new Map<string, { vm: string; field: string }>();
  for (const { vm, params } of rendered) {
    for (const [key, value] of Object.entries(params)) {
      const unique = CUSTOMIZATION_BY_KEY.get(key)?.uniqueAcrossVms;
      if (!unique || value === undefined) continue;
      for (const u of unique(value)) {
        const field = `params.${key}${u.field}`;
        const first = holders.get(u.key);
        if (first && first.vm !== vm) {
          throw new InputError(field, `${u.key} is given to both VM "${first.vm}" (${first.field}) and VM "${vm}"`, 'DUPLICATE_ACROSS_VMS', { vms: [first.vm, vm], value: u.key });
        }
        if (!first) holders.set(u.key, { vm, field });
      }
    }
  }
}
