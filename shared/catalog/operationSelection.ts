// The one reading of an operation selection: `only` replaces the tool's default set,
// then `enable` adds and `disable` removes. The engine's spec resolver and the web
// dialog (through the browser bundle) both call it.
import type { OperationInfo } from './operations';

export interface OperationSelection {
  enable?: string[];
  disable?: string[];
  only?: string[];
}

/** The names a selection turns on, among `known` (unknown names are the caller's to refuse). */
export function selectedOperations(sel: OperationSelection | undefined, known: readonly OperationInfo[]): Set<string> {
  const selected = new Set(sel?.only?.length ? sel.only : known.filter((o) => o.defaultEnabled).map((o) => o.name));
  for (const n of sel?.enable ?? []) selected.add(n);
  for (const n of sel?.disable ?? []) selected.delete(n);
  return selected;
}
