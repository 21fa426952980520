// How params given at several levels combine into one request's params: a profile's,
// then a room's `defaults`, room and group layers, then the request's own. One function
// for every level (JobService.plan, roomExpansion.ts) so a list means the same thing
// wherever it is written.
//
// Per catalog key (Customization.merge):
//  * `append` (the default for lists and objects of lists): the upper layer's items are
//    added after the lower one's. An item with the same identity as a lower one (a user,
//    group, file or interface of the same name/path, the same string) replaces it: the
//    upper layer's wins. An object of lists (services, firewall) appends per field, and an
//    item the upper layer names in one field leaves the lower layer's other fields
//    (a request that disables a unit the profile enables disables it);
//  * `replace` (scalars, and entries that say so): the upper layer's value replaces the
//    lower one's whole;
//  * a key the upper layer lists in its `replace` replaces whatever it merges with.
import { InputError } from '../errors';
import { CUSTOMIZATION_BY_KEY, Params } from './customizations';

/** One layer: its params and the keys whose lower values it replaces instead of adding to. */
export interface ParamLayer {
  params?: Params;
  replace?: readonly string[];
}

type Json = unknown;

const isPlainObject = (v: Json): v is Record<string, Json> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** What makes two list items the same one: a name, a path, else the whole value. */
function identity(item: Json): string {
  if (isPlainObject(item)) {
    if (typeof item.name === 'string') return `name:${item.name}`;
    if (typeof item.path === 'string') return `path:${item.path}`;
  }
  return `value:${JSON.stringify(item)}`;
}

/** `lower` then `upper`, an upper item replacing a lower one of the same identity (in the lower one's place). */
function appendList(lower: Json[], upper: Json[]): Json[] {
  const ups = new Map(upper.map((u) => [identity(u), u]));
  const kept = lower.map((l) => ups.get(identity(l)) ?? l);
  const seen = new Set(kept.map(identity));
  const out = [...kept];
  for (const u of upper) {
    const id = identity(u);
    if (!seen.has(id)) out.push(u);
    seen.add(id);
  }
  return out;
}

/** An object whose fields are lists (services, firewall): per field; an upper item leaves the lower layer's other fields. */
function appendObject(lower: Record<string, Json>, upper: Record<string, Json>): Record<string, Json> {
  const named = (field: string) => new Set(Object.entries(upper).filter(([f, v]) => f !== field && Array.isArray(v)).flatMap(([, v]) => (v as Json[]).map(identity)));
  const out: Record<string, Json> = {};
  for (const field of new Set([...Object.keys(lower), ...Object.keys(upper)])) {
    const [l, u] = [lower[field], upper[field]];
    if (Array.isArray(l)) {
      const others = named(field);
      const left = l.filter((item) => !others.has(identity(item)));
      out[field] = Array.isArray(u) ? appendList(left, u) : u === undefined ? left : u;
    } else {
      out[field] = u === undefined ? l : u;
    }
  }
  return out;
}

/** How `key`'s values combine (the catalog entry's `merge`, else by the values' shape). */
export function mergeMode(key: string): 'append' | 'replace' {
  return CUSTOMIZATION_BY_KEY.get(key)?.merge ?? 'append';
}

/** One key's lower and upper value combined as its entry says. */
export function mergeValue(key: string, lower: Json, upper: Json): Json {
  if (upper === undefined) return lower;
  if (lower === undefined || mergeMode(key) === 'replace') return upper;
  if (Array.isArray(lower) && Array.isArray(upper)) return appendList(lower, upper);
  // A single word where a list may stand (identity: 'all'): one item of that list.
  if (typeof lower === 'string' && Array.isArray(upper)) return appendList([lower], upper);
  if (Array.isArray(lower) && typeof upper === 'string') return appendList(lower, [upper]);
  if (isPlainObject(lower) && isPlainObject(upper) && Object.values(upper).some(Array.isArray)) return appendObject(lower, upper);
  return upper; // a scalar (or values of different shapes: the schema then says what is wrong)
}

/** What is wrong with each entry of a layer's `replace` list: a catalog key the layer gives a value for. */
export function replaceProblems(layer: ParamLayer): { index: number; message: string }[] {
  return (layer.replace ?? []).flatMap((key, index) => {
    if (!CUSTOMIZATION_BY_KEY.has(key)) return [{ index, message: `${JSON.stringify(key)} is not a customisation key (GET /customizations)` }];
    if (layer.params?.[key] === undefined) return [{ index, message: `${key} is not given in params: there is nothing to replace the profile's value with` }];
    return [];
  });
}

/** A request's `replace` checked (400 naming `replace[i]`); `at` names the list (`replace`). */
export function checkReplace(layer: ParamLayer, at = 'replace'): void {
  const [first] = replaceProblems(layer);
  if (first) throw new InputError(`${at}[${first.index}]`, first.message);
}

/** The layers' params combined, lowest first (a profile, then the request). */
export function mergeParams(...layers: ParamLayer[]): Params {
  let merged: Params = {};
  for (const layer of layers) {
    const replace = new Set(layer.replace ?? []);
    const next: Params = { ...merged };
    for (const [key, value] of Object.entries(layer.params ?? {})) {
      if (value === undefined) continue;
      next[key] = replace.has(key) ? value : mergeValue(key, merged[key], value);
    }
    merged = next;
  }
  return merged;
}
