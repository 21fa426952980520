// The OS guard (issue 15): which fields of a planned request do not fit a guest OS. The
// catalog says per entry (`os`, default linux); virt-sysprep's operations are all Linux
// only here: none was shown to do its work on a Windows guest (hostname and random seed
// only warn there, the others find no Linux file and do nothing), so a Windows guest
// gets none of them. An unknown OS refuses nothing: the guard acts on knowledge only
// (inspection, or the inventory's declaration; engine-plugin/inventory/guestOsOf.ts).
import type { GuestOs } from '../guestOs';
import { CUSTOMIZATION_BY_KEY, osOf } from './customizations';

/** virt-sysprep operations shown to work on a Windows guest (none yet: see above). */
export const WINDOWS_OPERATIONS: ReadonlySet<string> = new Set<string>();

export interface PlannedFields {
  operations: readonly string[];
  params: Readonly<Record<string, unknown>>;
}

/**
 * The fields that do not fit `os`, each once: `params.KEY` for a customisation,
 * `operations.NAME` for a virt-sysprep operation. Empty when all fit or the OS is unknown.
 */
export function guestOsMismatches(os: GuestOs, plan: PlannedFields): string[] {
  if (os.type === 'unknown') return [];
  const fields: string[] = [];
  for (const op of plan.operations) {
    if (os.type === 'windows' && !WINDOWS_OPERATIONS.has(op)) fields.push(`operations.${op}`);
  }
  for (const key of Object.keys(plan.params)) {
    const entry = CUSTOMIZATION_BY_KEY.get(key);
    const want = entry ? osOf(entry) : 'linux';
    if (want !== 'any' && want !== os.type) fields.push(`params.${key}`);
  }
  return fields;
}

/** "a Windows guest" / "a Linux guest (debian)" for messages. */
export function describeGuestOs(os: GuestOs): string {
  const name = os.type === 'windows' ? 'Windows' : os.type === 'linux' ? 'Linux' : 'unknown';
  const what = [os.distro, os.version].filter(Boolean).join(' ');
  const from = os.source === 'inspection' ? 'inspected' : os.source === 'inventory' ? 'declared by the inventory' : '';
  return `a ${name} guest${what ? ` (${what})` : ''}${from ? `, ${from}` : ''}`;
}
