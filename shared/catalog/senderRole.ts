// Which params a role may send, from each entry's least role (and its restricted parts,
// such as a user's password). The engine refuses the request with the field named; the
// web page disables the same fields, from the same catalog entries.
import { CUSTOMIZATION_BY_KEY } from './customizations';
import type { SenderRole } from './Customization';

const RANK: Record<SenderRole, number> = { operator: 0, admin: 1 };

export interface RoleDenial {
  /** `params.scripts`, `params.users[0].password`. */
  field: string;
  /** What the role may not send, for the message. */
  what: string;
  /** The least role that may. */
  role: SenderRole;
}

/** The first param (or part of one) `role` may not send, or undefined. Unknown keys are left to validation. */
export function deniedParam(params: Record<string, unknown> | undefined, role: SenderRole): RoleDenial | undefined {
  for (const [key, value] of Object.entries(params ?? {})) {
    const c = CUSTOMIZATION_BY_KEY.get(key);
    if (!c || value === undefined) continue;
    if (RANK[role] < RANK[c.role]) return { field: `params.${key}`, what: c.label.toLowerCase(), role: c.role };
    for (const part of Array.isArray(value) || (value && typeof value === 'object') ? c.restricted?.(value) ?? [] : []) {
      if (RANK[role] < RANK[part.role]) return { field: `params.${key}${part.path}`, what: part.what, role: part.role };
    }
  }
  return undefined;
}
