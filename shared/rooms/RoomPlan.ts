// The contract between a room file (shared/rooms: parsed, validated and expanded, with
// errors naming the file, line and key) and what acts on it (engine-plugin/rooms:
// show, rollout, reset, delete). A plan is pure data: the same for the CLI's
// `--dry-run` listing, the REST answer and the service that clones and resets.
import type { Params } from '../catalog/customizations';

/** When a VM is started after a reset: always, if it was running before (auto), never. */
export type StartPolicy = 'always' | 'auto' | 'never';

/** Where something was written in the room file: for messages about it found later (a template unknown to the inventory, a name taken). */
export interface RoomSource {
  /** Key path in the file, e.g. `rooms.lab1.vms[0].template`. */
  key: string;
  /** 1-based line and column. */
  line: number;
  column: number;
}

/** One VM of a room, everything rendered for it. */
export interface RoomVmPlan {
  /** Its id in the room (from `ids`): `${id}`, and `${index}` of the catalog's patterns. */
  id: number;
  /** Its VM name (the `names` pattern rendered). */
  name: string;
  /** Template (id or name) it is cloned from. */
  template: string;
  /** Profile of its sysprep (default clone-reset). */
  profile?: string;
  /** Its customisation params, patterns rendered and validated for this VM (secrets as given). */
  params: Params;
  /** Param keys some level of the room file replaces (the profile's value of each is replaced too). */
  replace?: string[];
  /** Its static addresses (ADDRESS/PREFIX), for listings; empty with DHCP only. */
  addresses: string[];
  /** Description of its rollout snapshot; `${rollout_time}` is left for the rollout to fill (renderRolloutTime). */
  snapshotDescription: string;
  /** Where its group (`names`) and its template were written. */
  at: RoomSource;
  templateAt: RoomSource;
}

export interface RoomPlan {
  /** The room file's name as given (in messages). */
  file: string;
  room: string;
  vms: RoomVmPlan[];
  /** Regular expression (source) on snapshot descriptions: `room reset` reverts to the newest match. */
  resetToSnapshot: string;
  startAfterRollout: boolean;
  startAfterReset: StartPolicy;
}

/** The mark a room puts on each VM it creates (VmCloning's `marks`), and its value. */
export const ROOM_MARK = 'ovirt-sysprep-room';
export const roomMarkValue = (room: string): string => room;

/** A snapshot description with `${rollout_time}` filled (ISO time, seconds). */
export function renderRolloutTime(description: string, at: Date): string {
  return description.split('${rollout_time}').join(at.toISOString().replace(/\.\d{3}Z$/, 'Z'));
}
