// The value of the `identity` customisation (params.identity): 'all', or a list of the
// catalogue's script items by name ('all' may stand in the list too: the web form and
// the CLI give lists, and a profile's 'all' appended to a request's list stays 'all').
// Names of items virt-sysprep does itself are refused with the operation to select.
import { z } from 'zod';
import type { IdentityItem } from './IdentityItem';
import { IDENTITY_ITEM_BY_NAME, SCRIPT_ITEMS } from './items';

export type IdentityValue = 'all' | string[];

/** Why NAME cannot be selected, or undefined when it can. */
export function identityNameProblem(name: string): string | undefined {
  if (name === 'all') return undefined;
  const item = IDENTITY_ITEM_BY_NAME.get(name);
  if (!item) return `is not an identity item (GET /identity-items lists them): ${JSON.stringify(name)}`;
  if (item.by === 'tool') return `${name} is done by virt-sysprep's own operation ${item.coveredBy!.operation}: select that operation instead`;
  return undefined;
}

const itemName = z.string().superRefine((name, ctx) => {
  const problem = identityNameProblem(name);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

export const identityValue: z.ZodType<IdentityValue> = z.union([z.literal('all'), z.array(itemName).min(1, 'must name at least one item').max(64)]);

/** The items a value selects, in catalogue order, each once: 'all' (alone or in the list) = every script item. */
export function selectedItems(value: IdentityValue | readonly string[]): IdentityItem[] {
  const names: readonly string[] = value === 'all' ? ['all'] : value;
  if (names.includes('all')) return [...SCRIPT_ITEMS];
  const wanted = new Set(names);
  return SCRIPT_ITEMS.filter((i) => wanted.has(i.name));
}
