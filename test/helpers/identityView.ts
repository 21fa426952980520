// What of an identity item a guest still carries, from the files under the item's paths
// (read from a disk by readIdentityItems, or taken from a fixture's tree): the part that
// is identity, reduced to absent / empty / a content hash, and the cell of the measured
// table (contract 8) that compares it with the golden image.
//
// The identity part of a file is the item's own business: for an `edit` that drops keys
// it is the lines of those keys (a keyfile without mac-address= carries no identity,
// even though the file is still there); for an `edit` that replaces the content, every
// file that is not the replacement; for everything else, the files and their bytes.
import { createHash } from 'node:crypto';
import type { IdentityItem } from '../../shared/identity';

export interface GuestFile {
  /** Path in the guest. */
  path: string;
  content: Buffer;
}

export type ItemState =
  | { state: 'absent' }
  | { state: 'empty' }
  | { state: 'present'; hash: string };

export type Cell = 'gone' | 'kept' | 'changed' | 'n/a';

const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
const escape = (s: string) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&');

/** The identity `item` leaves in `files` (the files under its paths in one guest). */
export function identityState(item: IdentityItem, files: readonly GuestFile[]): ItemState {
  const edit = item.edit;
  let parts: string[];
  if (edit && 'dropKeys' in edit) {
    const key = new RegExp(`^\\s*(${edit.dropKeys.map(escape).join('|')})\\s*=`);
    parts = files.flatMap((f) => f.content.toString('utf8').split('\n').filter((l) => key.test(l)).map((l) => `${f.path}\0${l}`));
    if (parts.length === 0) return { state: 'absent' };
  } else {
    const kept = edit && 'replaceWith' in edit ? files.filter((f) => f.content.toString('utf8') !== edit.replaceWith) : files;
    if (kept.length === 0) return { state: 'absent' };
    if (kept.every((f) => f.content.length === 0)) return { state: 'empty' };
    parts = kept.map((f) => `${f.path}\0${sha256(f.content)}`);
  }
  return { state: 'present', hash: sha256(parts.sort().join('\n')) };
}

/** The cell of a run's result against the golden image's state of the same item. */
export function cellOf(after: ItemState, golden: ItemState): Cell {
  if (after.state !== 'present') return 'gone';
  return golden.state === 'present' && golden.hash === after.hash ? 'kept' : 'changed';
}

/**
 * The cell of SEVERAL clones of one golden image: `gone` when none carries it, `kept`
 * when one still has the golden's or two share one (either way clones are not unique),
 * else `changed` (each has its own).
 */
export function clonesCell(clones: readonly ItemState[], golden: ItemState): Cell {
  const present = clones.filter((c): c is Extract<ItemState, { state: 'present' }> => c.state === 'present');
  if (present.length === 0) return 'gone';
  if (present.some((c) => cellOf(c, golden) === 'kept')) return 'kept';
  return new Set(present.map((c) => c.hash)).size === present.length ? 'changed' : 'kept';
}

/** Whether a guest path is one of the item's paths: equal, matched by its glob (`*` within one component), or under it. */
export function pathOfItem(item: IdentityItem, p: string): boolean {
  return item.paths.some((pattern) => {
    const re = new RegExp(`^${pattern.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('[^/]*')}(/.*)?$`);
    return re.test(p);
  });
}
