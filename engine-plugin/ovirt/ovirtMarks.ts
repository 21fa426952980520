// The product's marks on an oVirt VM (VmCloning's `marks`), kept in the VM's `comment`.
//
// Why the comment (docs/engine-decisions.md, "oVirt: marks in the VM comment"): it is a
// free text field of every VM that the REST API sets in the same POST /vms that creates
// the VM (no window in which our clone exists unmarked, so the event watcher can tell it
// from VMs made in oVirt), that any API user with the right to edit the VM can write,
// and that oVirt shows only to administrators. Custom properties need engine-config
// (UserDefinedVMProperties) and an engine restart; tags are global, carry no value and
// take a call per tag after the VM exists.
//
// Format: one line `ovirt-sysprep-marks: {"name": <VM name>, "marks": {...}}` after any
// text an administrator wrote. `name` is the VM the marks were written for: oVirt's
// "Clone VM" copies the comment, and such a copy (another name) is not one of ours.
export const MARKS_PREFIX = 'ovirt-sysprep-marks: ';

export interface VmMarker {
  /** The VM name the engine gave the clone it made. */
  name: string;
  marks: Record<string, string>;
}

/** The comment with our marker line for `name` (replacing an earlier one), other text kept. */
export function commentWithMarks(name: string, marks: Record<string, string>, comment = ''): string {
  const others = comment.split('\n').filter((l) => l !== '' && !l.startsWith(MARKS_PREFIX));
  return [...others, `${MARKS_PREFIX}${JSON.stringify({ name, marks })}`].join('\n');
}

/** Our marker in a VM comment, or undefined (none, or not ours: malformed). */
export function readMarker(comment: string | undefined): VmMarker | undefined {
  const line = (comment ?? '').split('\n').find((l) => l.startsWith(MARKS_PREFIX));
  if (!line) return undefined;
  let j: unknown;
  try {
    j = JSON.parse(line.slice(MARKS_PREFIX.length));
  } catch {
    return undefined;
  }
  const o = j as { name?: unknown; marks?: unknown };
  if (typeof o?.name !== 'string' || typeof o.marks !== 'object' || o.marks === null || Array.isArray(o.marks)) return undefined;
  const marks: Record<string, string> = {};
  for (const [k, v] of Object.entries(o.marks)) if (typeof v === 'string') marks[k] = v;
  return { name: o.name, marks };
}

/** The marks of a VM the engine cloned (its marker names the VM itself), else undefined. */
export function marksOf(vm: { name?: string; comment?: string }): Record<string, string> | undefined {
  const m = readMarker(vm.comment);
  return m && m.name === vm.name ? m.marks : undefined;
}
