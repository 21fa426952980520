// The room file's shape, in zod like the API's bodies: strict objects (an unknown key is
// an error, never ignored), and the same schema exported as JSON Schema for the docs and
// for editors (roomFileJsonSchema). Only the shape lives here; what needs more than one
// value at a time (ranges, duplicates, patterns, templates given somewhere) is
// roomExpansion.ts's.
import { z } from 'zod';
import { CUSTOMIZATIONS } from '../catalog/customizations';
import { toolFlagOf } from '../catalog/Customization';
import type { StartPolicy } from './RoomPlan';

export const ROOM_FILE_VERSION = 1;

/** Room names are hostname labels: they go into VM names and hostnames through `${room}`. */
export const ROOM_NAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/i;
export const ROOM_NAME_MESSAGE = 'is not a valid room name (letters, digits and "-", 1-63 characters, not starting or ending with "-")';

export const MAX_ID = 9999;
/** VMs one `ids` may name, and one file in all: each VM is rendered and checked by the catalog on every load (about 1 ms with a network), and a command on one room checks the whole file. */
export const MAX_GROUP_VMS = 1000;
export const MAX_FILE_VMS = 5000;

export const DEFAULT_NAMES = '${room}-vd${id}';
export const DEFAULT_SNAPSHOT_DESCRIPTION = 'rollout ${rollout_time}';
export const DEFAULT_START_AFTER_ROLLOUT = false;
export const DEFAULT_START_AFTER_RESET: StartPolicy = 'auto';

const text = (max: number) => z.string().min(1, 'must not be empty').max(max, `must be at most ${max} characters`);

/**
 * Catalog params by key; values are checked by the catalog once their patterns are
 * rendered for each VM (a hostname pattern is not yet a hostname), so only the keys are
 * fixed here.
 */
const params = z
  .object(Object.fromEntries(CUSTOMIZATIONS.map((c) => [c.key, z.unknown().optional().describe(`${c.help} (${toolFlagOf(c)})`)])))
  .strict()
  .meta({ id: 'RoomParams', description: 'Customisation params of the catalog (GET /customizations); patterns allowed' });

const id = z.int('must be a whole number');
export const idsSchema = z
  .union([
    z.string().describe('a range "1-30" or one id "7"'),
    id,
    z.array(id).min(1, 'must name at least one id'),
    z.object({ from: id, to: id }).strict(),
  ], { error: 'must be a range "1-30", one id, a list of ids [1, 2, 5] or { from: 1, to: 30 }' })
  .meta({ id: 'RoomIds', description: `The VMs' ids, 0-${MAX_ID}: "1-30", 7, [1, 2, 5] or { from: 1, to: 30 }; at most ${MAX_GROUP_VMS} VMs` });

/** Param keys whose lower value (a room's, `defaults`', the profile's) this level's params replace instead of adding to. */
const replaceKeys = z
  .array(z.string())
  .max(64)
  .optional()
  .describe("Param keys whose value here replaces the one below (defaults, the profile's) instead of adding to its list");

/** The keys a room takes and `defaults` gives every room. */
const roomKeys = {
  template: text(256).optional().describe('Template (id or name) the VMs are cloned from'),
  profile: text(128).optional().describe('Sysprep profile of each VM (default clone-reset)'),
  params: params.optional(),
  replace: replaceKeys,
  start_after_rollout: z.boolean().optional().describe(`Start each VM once rolled out (default ${DEFAULT_START_AFTER_ROLLOUT})`),
  start_after_reset: z
    .enum(['always', 'auto', 'never'], 'must be always, auto (if it was running) or never')
    .optional()
    .describe(`Start each VM after a reset: always, auto (if it was running before) or never (default ${DEFAULT_START_AFTER_RESET})`),
  snapshot_description: text(1000).optional().describe(`Description of the snapshot taken after the rollout; \${ip} \${rollout_time} and the name variables (default "${DEFAULT_SNAPSHOT_DESCRIPTION}")`),
  reset_to_snapshot: text(1000).optional().describe('Regular expression (JavaScript syntax) on snapshot descriptions: a reset reverts to the newest match (default: one matching snapshot_description)'),
};

export const groupSchema = z
  .object({
    ids: idsSchema,
    names: text(256).optional().describe(`VM name pattern (default "${DEFAULT_NAMES}")`),
    template: roomKeys.template,
    profile: roomKeys.profile,
    hostname: text(253).optional().describe('Shortcut for params.hostname'),
    params: params.optional().describe("Params merged over the room's: a list adds to the room's, any other value replaces it"),
    replace: replaceKeys,
  })
  .strict()
  .meta({ id: 'RoomVmGroup', description: 'A group of VMs' });

export const roomSchema = z
  .object({ ...roomKeys, vms: z.array(groupSchema).min(1, 'must hold at least one group of VMs').max(100).describe('Groups of VMs') })
  .strict()
  .meta({ id: 'Room', description: 'A room: its VMs and the values they share' });

export const defaultsSchema = z.object(roomKeys).strict().describe('Values every room takes unless it gives its own');

export const roomFileSchema = z
  .object({
    version: z.literal(ROOM_FILE_VERSION, `must be ${ROOM_FILE_VERSION} (the only room file version there is)`),
    defaults: defaultsSchema.optional(),
    rooms: z
      .record(z.string().regex(ROOM_NAME, ROOM_NAME_MESSAGE), roomSchema)
      .refine((r) => Object.keys(r).length > 0, 'must hold at least one room')
      .describe('Rooms by name'),
  })
  .strict();

export type RoomFile = z.infer<typeof roomFileSchema>;
export type RoomInput = z.infer<typeof roomSchema>;
export type GroupInput = z.infer<typeof groupSchema>;
export type Ids = z.infer<typeof idsSchema>;

/** The room file's JSON Schema (docs/rooms.md; `# yaml-language-server: $schema=...` in editors). */
export function roomFileJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(roomFileSchema, { unrepresentable: 'any', io: 'input' }) as Record<string, unknown>;
}
