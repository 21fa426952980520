// A room file, from its text to the plan of one room (RoomPlan.ts). Steps:
//  1. YAML with its limits (roomYaml.ts): syntax errors, duplicate keys, tags, aliases;
//  2. the shape (roomSchema.ts, zod, strict), each issue with its key path;
//  3. the expansion of every room (roomExpansion.ts): ids, names, params per VM;
// all problems of the file are collected (up to MAX_ISSUES) and thrown together as one
// RoomFileError, each with its line, column and key: a file is taken whole or not at all.
// A later step runs only on what the earlier ones found sound (a room of the wrong shape
// is not expanded; the file's other rooms are).
import type { z } from 'zod';
import { RoomFileError, RoomFileProblem } from '../errors';
import { CUSTOMIZATIONS } from '../catalog/customizations';
import type { RoomPlan } from './RoomPlan';
import { expandRooms } from './roomExpansion';
import { didYouMean, formatPath, KeyPath, RoomIssues } from './roomIssues';
import { defaultsSchema, groupSchema, RoomFile, roomFileSchema, roomSchema } from './roomSchema';
import { parseRoomYaml, RoomYaml } from './roomYaml';

export { roomFileJsonSchema } from './roomSchema';

/** Every room of the file by name, or the RoomFileError of all its problems. */
export function loadRoomFile(source: string, file: string): Map<string, RoomPlan> {
  const issues = new RoomIssues();
  const yaml = parseRoomYaml(source, issues);
  let plans = new Map<string, RoomPlan>();
  if (issues.empty) {
    const data = checkShape(yaml.value, issues);
    if (data) {
      const locate = (path: KeyPath) => ({ key: formatPath(path), ...yaml.positionOf(path) });
      const expanded = expandRooms(data, locate, issues);
      plans = new Map([...expanded].map(([name, plan]) => [name, { file, ...plan }]));
    }
  }
  if (!issues.empty) throw roomFileError(file, yaml, issues);
  return plans;
}

/** The plan of one room of the file; the whole file is checked first. */
export function loadRoom(source: string, file: string, room: string): RoomPlan {
  const plans = loadRoomFile(source, file);
  const plan = plans.get(room);
  if (plan) return plan;
  const yaml = parseRoomYaml(source, new RoomIssues());
  const issues = new RoomIssues();
  const near = didYouMean(room, plans.keys());
  issues.add(['rooms'], `has no room "${room}"${near ? ` (did you mean "${near}"?)` : ''}; its rooms: ${[...plans.keys()].join(', ')}`, { atKey: true });
  throw roomFileError(file, yaml, issues);
}

/** The names of the file's rooms, in file order; the whole file is checked first. */
export function listRooms(source: string, file: string): string[] {
  return [...loadRoomFile(source, file).keys()];
}

function roomFileError(file: string, yaml: RoomYaml, issues: RoomIssues): RoomFileError {
  const problems: RoomFileProblem[] = issues.items.map((i) => ({
    ...(i.offset !== undefined ? yaml.positionAt(i.offset) : yaml.positionOf(i.path, i.atKey)),
    key: formatPath(i.path),
    message: i.message,
  }));
  // In file order, as an editor lists them (stable: problems at one place keep theirs).
  problems.sort((a, b) => a.line - b.line || a.column - b.column);
  return new RoomFileError(file, problems, issues.dropped);
}

/** The file's data checked against the schema; zod's issues become problems on their keys. */
function checkShape(value: unknown, issues: RoomIssues): RoomFile | undefined {
  if (value === undefined || value === null) {
    issues.add([], 'is empty: a room file starts with "version: 1" and holds "rooms:"', { offset: 0 });
    return undefined;
  }
  if (typeof value !== 'object' || Array.isArray(value)) {
    issues.add([], `must be a mapping (version:, defaults:, rooms:), not ${Array.isArray(value) ? 'a list' : 'a single value'}`);
    return undefined;
  }
  const r = roomFileSchema.safeParse(value);
  if (r.success) return r.data;
  for (const issue of r.error.issues) addIssue(issue, value, issues);
  return soundRooms(value as Record<string, unknown>, r.error.issues);
}

/**
 * The file without its rooms of the wrong shape, when the rest is sound: their problems
 * are already known, and the other rooms' (ids, names, params) are found in the same run.
 */
function soundRooms(value: Record<string, unknown>, found: readonly z.core.$ZodIssue[]): RoomFile | undefined {
  const broken = new Set<PropertyKey>();
  for (const issue of found) {
    if (issue.path[0] !== 'rooms' || issue.path.length < 2) return undefined;
    broken.add(issue.path[1]);
  }
  const rooms = Object.fromEntries(Object.entries(value.rooms as object).filter(([name]) => !broken.has(name)));
  const r = roomFileSchema.safeParse({ ...value, rooms });
  return r.success ? r.data : undefined;
}

function addIssue(issue: z.core.$ZodIssue, data: unknown, issues: RoomIssues): void {
  const path = issue.path as (string | number)[];
  if (issue.code !== 'unrecognized_keys' && issue.code !== 'invalid_key' && valueAt(data, path) === undefined) {
    issues.add(path, 'is missing');
    return;
  }
  switch (issue.code) {
    case 'unrecognized_keys':
      for (const key of issue.keys) {
        const known = knownKeys(path);
        const near = didYouMean(key, known);
        issues.add([...path, key], `is not a known key${near ? ` (did you mean "${near}"?)` : ''}; known here: ${known.join(', ')}`, { atKey: true });
      }
      return;
    case 'invalid_key':
      issues.add(path, issue.issues[0]?.message ?? issue.message, { atKey: true });
      return;
    case 'invalid_type':
      issues.add(path, issue.message.replace(/^Invalid input: expected (\w+), received (\w+)$/, 'must be a $1, not a $2'));
      return;
    default:
      issues.add(path, issue.message.replace(/^Invalid input: /, ''));
  }
}

/** The keys the schema takes at a path (for "did you mean"). */
function knownKeys(path: KeyPath): string[] {
  const keys = (schema: { shape: object }) => Object.keys(schema.shape);
  if (path[path.length - 1] === 'params') return CUSTOMIZATIONS.map((c) => c.key);
  if (path.length === 0) return keys(roomFileSchema);
  if (path[0] === 'defaults') return keys(defaultsSchema);
  if (path.length === 2) return keys(roomSchema);
  if (path.length === 4) return keys(groupSchema);
  return path[path.length - 1] === 'ids' ? ['from', 'to'] : [];
}

function valueAt(data: unknown, path: KeyPath): unknown {
  return path.reduce<unknown>((v, p) => (v && typeof v === 'object' ? (v as Record<string | number, unknown>)[p] : undefined), data);
}
