// The one reader of an engine.conf section whose keys are a table of setters ([ovirt],
// [libvirt]): unknown keys are refused with the known ones listed, and every error names
// the file and the section.

/** Sets one key of `c` from its trimmed text; `err` throws naming the file and section. */
export type KeySetter<C> = (c: C, v: string, err: (msg: string) => never) => void;

/** Applies `values` to `c` through `keys`; throws `<file>: [<section>] <message>`. */
export function parseSection<C>(section: string, keys: Record<string, KeySetter<C>>, c: C, values: Record<string, string>, file: string): C {
  for (const [k, v] of Object.entries(values)) {
    const err = (msg: string): never => {
      throw new Error(`${file}: [${section}] ${msg}`);
    };
    const set = keys[k];
    if (!set) err(`has no key "${k}" (known: ${Object.keys(keys).join(', ')})`);
    set(c, v.trim(), err);
  }
  return c;
}
