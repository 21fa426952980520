// A sysprep spec names operations (enable / disable / only) and customisation params.
// resolveSpec validates it against the operations of the installed tool and the
// customisation catalog and yields the exact operation list to run. Every error names
// the field at fault (`operations.enable[1]`, `params.hostname`, ...).
import { z } from 'zod';
import { CUSTOMIZATION_BY_KEY, Params, paramsSchema } from './catalog/customizations';
import { OperationSelection, selectedOperations } from './catalog/operationSelection';
import { OperationInfo } from './catalog/operations';
import { InputError } from './errors';

export type { OperationSelection } from './catalog/operationSelection';

export interface SpecInput {
  operations?: OperationSelection;
  params?: unknown;
}

export interface ResolvedSpec {
  /** Operations to pass to `--operations`, in the tool's listing order. */
  operations: string[];
  params: Params;
}

/** Formats a zod issue path as `a.b[0].c`. */
export function fieldPath(prefix: string, path: readonly PropertyKey[]): string {
  return path.reduce<string>(
    (acc, p) => (typeof p === 'number' ? `${acc}[${p}]` : acc ? `${acc}.${String(p)}` : String(p)),
    prefix,
  );
}

/**
 * Parses with a zod schema; the first issue becomes an InputError naming its field
 * (`body` when the whole value is at fault, e.g. an array where an object belongs).
 */
export function parseOrThrow<T>(schema: z.ZodType<T>, value: unknown, prefix: string): T {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  if (issue.code === 'unrecognized_keys') {
    const key = issue.keys[0];
    throw new InputError(fieldPath(prefix, [...issue.path, key]), 'is not a known field', 'UNKNOWN_FIELD');
  }
  throw new InputError(fieldPath(prefix, issue.path) || 'body', issue.message);
}

export function validateParams(params: unknown): Params {
  const parsed = parseOrThrow(paramsSchema, params ?? {}, 'params') as Params;
  return Object.fromEntries(Object.entries(parsed).filter(([, v]) => v !== undefined));
}

/** A selection that both enables and disables an operation is a contradiction, not a choice. */
export function checkSelection(sel: OperationSelection | undefined): void {
  const disable = new Set(sel?.disable ?? []);
  (sel?.enable ?? []).forEach((name, i) => {
    if (disable.has(name)) throw new InputError(`operations.enable[${i}]`, `operation "${name}" is both enabled and disabled`);
  });
}

export function resolveSpec(input: SpecInput, known: readonly OperationInfo[]): ResolvedSpec {
  const names = new Set(known.map((o) => o.name));
  const sel = input.operations ?? {};
  const lists = { enable: sel.enable ?? [], disable: sel.disable ?? [], only: sel.only ?? [] };
  for (const [list, values] of Object.entries(lists)) {
    values.forEach((name, i) => {
      if (typeof name !== 'string' || !names.has(name)) {
        throw new InputError(
          `operations.${list}[${i}]`,
          `unknown operation ${JSON.stringify(name)}; the installed virt-sysprep knows: ${[...names].join(', ')}`,
          'UNKNOWN_OPERATION',
        );
      }
    });
  }
  checkSelection(sel);

  const params = validateParams(input.params);
  const windows = Object.keys(params).filter((k) => CUSTOMIZATION_BY_KEY.get(k)!.operation === 'windows');
  // A request of Windows customisations alone runs no virt-sysprep operation unless it
  // names some (the defaults are Linux-only; the OS guard refuses them on Windows).
  const named = lists.enable.length || lists.disable.length || lists.only.length;
  const selected = windows.length === Object.keys(params).length && windows.length && !named ? new Set<string>() : selectedOperations(lists, known);

  // Customisations only run inside their operation: add it, or refuse when the caller
  // explicitly disabled it (the tool would silently ignore them).
  for (const key of Object.keys(params)) {
    const op = CUSTOMIZATION_BY_KEY.get(key)!.operation;
    if (op === 'windows') continue; // the agent's guestfish session, no virt-sysprep operation
    if (lists.disable.includes(op)) {
      throw new InputError(
        `params.${key}`,
        `needs the "${op}" operation, which operations.disable turns off`,
        'CUSTOMIZE_DISABLED',
      );
    }
    if (!names.has(op)) throw new InputError(`params.${key}`, `the installed virt-sysprep has no "${op}" operation`);
    selected.add(op);
  }
  if (params.removeUsers && params.keepUsers) {
    throw new InputError('params.keepUsers', 'cannot be combined with params.removeUsers');
  }
  const domain = (params.unattend as { domain?: unknown } | undefined)?.domain !== undefined;
  if (domain && params.domainJoinPassword === undefined) throw new InputError('params.domainJoinPassword', 'is required by params.unattend.domain (the join account\'s password)');
  if (!domain && params.domainJoinPassword !== undefined) throw new InputError('params.domainJoinPassword', 'is used only with params.unattend.domain');
  const operations = known.map((o) => o.name).filter((n) => selected.has(n));
  if (operations.length === 0 && !windows.length) throw new InputError('operations', 'selects no operation to run');
  return { operations, params };
}
