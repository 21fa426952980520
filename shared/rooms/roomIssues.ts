// The problems found in a room file, collected rather than thrown: an administrator fixes
// a file once for all its errors, not once per error. Each problem names a key path; its
// line and column are looked up in the YAML document at the end (roomYaml.ts), so the
// checks themselves never deal with positions.

import { fieldPath } from '../spec';

/** A key path in the file: `['rooms', 'lab1', 'vms', 0, 'ids']`. */
export type KeyPath = readonly (string | number)[];

export interface RoomIssue {
  path: KeyPath;
  message: string;
  /** Point at the key itself (an unknown key) rather than at its value. */
  atKey?: boolean;
  /** A parser error: its own offset in the text, not a key path's. */
  offset?: number;
}

/** Enough for any file an administrator fixes by hand; the rest would repeat the same mistake. */
export const MAX_ISSUES = 50;

export class RoomIssues {
  readonly items: RoomIssue[] = [];
  /** Problems found beyond MAX_ISSUES, counted only. */
  dropped = 0;

  add(path: KeyPath, message: string, opts: { atKey?: boolean; offset?: number } = {}): void {
    if (this.items.length >= MAX_ISSUES) {
      this.dropped++;
      return;
    }
    // The same problem reached twice (two VMs of a group, a default used by two rooms) is said once.
    if (this.items.some((i) => i.message === message && samePath(i.path, path))) return;
    this.items.push({ path, message, ...opts });
  }

  get empty(): boolean {
    return this.items.length === 0;
  }
}

const samePath = (a: KeyPath, b: KeyPath) => a.length === b.length && a.every((p, i) => p === b[i]);

/** `rooms.lab1.vms[0].ids`: the key path as the messages and the API's `field` name it. */
export function formatPath(path: KeyPath): string {
  return fieldPath('', path);
}

/** The closest known name to a mistyped one, when it is close enough to be a typo. */
export function didYouMean(given: string, known: Iterable<string>): string | undefined {
  let best: { name: string; distance: number } | undefined;
  for (const name of known) {
    const distance = editDistance(given.toLowerCase(), name.toLowerCase());
    if (!best || distance < best.distance) best = { name, distance };
  }
  return best && best.distance <= Math.max(1, Math.floor(best.name.length / 3)) ? best.name : undefined;
}

function editDistance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) {
      next[j] = Math.min(row[j] + 1, next[j - 1] + 1, row[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    row = next;
  }
  return row[b.length];
}
