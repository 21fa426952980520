// The checks that need every VM of one request at once: values that must differ from VM
// to VM (a static address), declared by the catalog entries (uniqueAcrossVms). Run on
// the params as rendered for each VM, before anything is stored or run: a pool, bulk or
// room request where two VMs would get the same address is refused as a whole.
import { InputError } from '../errors';
import { CUSTOMIZATION_BY_KEY, Params } from './customizations';

/** The same check fed one VM at a time (a 100,000-VM pool is checked page by page): it holds only the values that must differ. */
export class AcrossVms {
  private readonly holders = new Map<string, { vm: string; field: string }>();

  /** Throws 400 DUPLICATE_ACROSS_VMS naming the field when `params` give another VM's value to `vm`. */
  add(vm: string, params: Params): void {
    for (const [key, value] of Object.entries(params)) {
      const unique = CUSTOMIZATION_BY_KEY.get(key)?.uniqueAcrossVms;
      if (!unique || value === undefined) continue;
      for (const u of unique(value)) {
        const field = `params.${key}${u.field}`;
        const first = this.holders.get(u.key);
        if (first && first.vm !== vm) {
          throw new InputError(field, `${u.key} is given to both VM "${first.vm}" (${first.field}) and VM "${vm}"`, 'DUPLICATE_ACROSS_VMS', { vms: [first.vm, vm], value: u.key });
        }
        if (!first) this.holders.set(u.key, { vm, field });
      }
    }
  }
}

export function checkAcrossVms(rendered: readonly { vm: string; params: Params }[]): void {
  const across = new AcrossVms();
  for (const { vm, params } of rendered) across.add(vm, params);
}
