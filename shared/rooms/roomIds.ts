// A group's `ids` to the list of ids it names, each problem said once with the key at
// fault: `"1-30"`, `7`, `[1, 2, 5]` or `{ from: 1, to: 30 }`.
import { KeyPath, RoomIssues } from './roomIssues';
import { Ids, MAX_GROUP_VMS, MAX_ID } from './roomSchema';

const RANGE = /^\s*(-?\d+)\s*(?:-\s*(-?\d+)\s*)?$/;

/** The ids in the order given; undefined when `ids` is at fault (its problems are in `issues`). */
export function expandIds(ids: Ids, at: KeyPath, issues: RoomIssues): number[] | undefined {
  if (Array.isArray(ids)) {
    let ok = true;
    const seen = new Set<number>();
    ids.forEach((id, i) => {
      if (!inRange(id, [...at, i], issues)) ok = false;
      else if (seen.has(id)) {
        issues.add([...at, i], `names id ${id} twice`);
        ok = false;
      }
      seen.add(id);
    });
    if (ids.length > MAX_GROUP_VMS) {
      issues.add(at, `names ${ids.length} VMs; a group holds at most ${MAX_GROUP_VMS}`);
      return undefined;
    }
    return ok ? ids : undefined;
  }
  if (typeof ids === 'number') return inRange(ids, at, issues) ? [ids] : undefined;
  if (typeof ids === 'string') {
    const m = RANGE.exec(ids);
    if (!m) {
      issues.add(at, `${JSON.stringify(ids)} is not a range such as "1-30" (or one id such as "7")`);
      return undefined;
    }
    return range(Number(m[1]), m[2] === undefined ? Number(m[1]) : Number(m[2]), at, at, issues);
  }
  return range(ids.from, ids.to, [...at, 'from'], [...at, 'to'], issues);
}

function inRange(id: number, at: KeyPath, issues: RoomIssues): boolean {
  if (id >= 0 && id <= MAX_ID) return true;
  issues.add(at, `id ${id} is out of range: ids are 0 to ${MAX_ID}`);
  return false;
}

function range(from: number, to: number, fromAt: KeyPath, toAt: KeyPath, issues: RoomIssues): number[] | undefined {
  if (!inRange(from, fromAt, issues) || !inRange(to, toAt, issues)) return undefined;
  if (to < from) {
    issues.add(toAt, `the range ${from}-${to} runs backwards: give the lower id first`);
    return undefined;
  }
  if (to - from + 1 > MAX_GROUP_VMS) {
    issues.add(toAt, `the range ${from}-${to} names ${to - from + 1} VMs; a group holds at most ${MAX_GROUP_VMS}`);
    return undefined;
  }
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}
