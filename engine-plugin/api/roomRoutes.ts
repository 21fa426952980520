// Rooms: POST /rooms/{room}/show|rollout|reset|delete with the room file's text in the
// body ({file, source, dryRun?, resume?}). The engine parses it (shared/rooms/roomFile.ts:
// a bad file is 400 ROOM_FILE_INVALID with each problem's file, line and key) and hands
// the room's plan to the room service; GET /rooms/schema is the file's JSON Schema.
import { z } from 'zod';
import { loadRoom, roomFileJsonSchema } from '../../shared/rooms/roomFile';
import type { ApiDeps } from './deps';
import type { RouteTable } from './RouteTable';

/** The room file as sent: its name (for messages) and its text; the room is the path's. */
export const roomBodySchema = z
  .object({
    file: z.string().min(1).max(1000).regex(/^[^\p{Cc}]*$/u, 'must hold no control characters'),
    source: z.string().max(1 << 20),
    dryRun: z.boolean().default(false),
  })
  .strict();
export const rolloutBodySchema = roomBodySchema.extend({ resume: z.boolean().default(false) }).strict();

export function roomRoutes(t: RouteTable, d: ApiDeps): void {
  const planOf = (body: { file: string; source: string }, room: string) => loadRoom(body.source, body.file, room);

  t.add({ method: 'get', path: '/rooms/schema', tag: 'rooms', summary: 'The JSON Schema of a room file (docs/rooms.md)', role: 'viewer', status: 200 }, () => roomFileJsonSchema());
  t.add({ method: 'post', path: '/rooms/:room/show', tag: 'rooms', summary: "A room's VMs as planned by the file and as they are: name, addresses, exists, state, the room's mark, snapshots (those matching reset_to_snapshot flagged)", role: 'viewer', status: 200, body: roomBodySchema }, ({ params, body }) =>
    d.rooms.show(planOf(body, params.room)),
  );
  t.add({ method: 'post', path: '/rooms/:room/rollout', tag: 'rooms', summary: 'Clone each VM of the room and sysprep it with its values: one job of kind room (a child per VM: release, snapshot, start follow); refused while a VM of the room exists, unless resume', role: 'operator', status: 202, body: rolloutBodySchema }, async ({ params, body, caller, res }) => {
    const out = await d.rooms.rollout(planOf(body, params.room), { resume: body.resume, dryRun: body.dryRun }, caller);
    if (!out.job) res.locals.status = 200; // a dry run, or nothing left to do: no job
    return out;
  });
  t.add({ method: 'post', path: '/rooms/:room/reset', tag: 'rooms', summary: "Stop the room's VMs, revert each to its newest snapshot matching reset_to_snapshot, start them per start_after_reset; per-VM results", role: 'operator', status: 200, body: roomBodySchema }, async ({ params, body, caller }) =>
    d.rooms.reset(planOf(body, params.room), { dryRun: body.dryRun }, caller),
  );
  t.add({ method: 'post', path: '/rooms/:room/delete', tag: 'rooms', summary: "Stop and delete the room's VMs (only those carrying the room's mark; others of a planned name are left and reported); per-VM results", role: 'operator', status: 200, body: roomBodySchema }, async ({ params, body, caller }) =>
    d.rooms.delete(planOf(body, params.room), { dryRun: body.dryRun }, caller),
  );
}
