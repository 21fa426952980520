// A room file's data, already of the right shape (roomSchema.ts), expanded into one plan
// per room: every VM with its id, name, template, params and snapshot description
// rendered through the catalog's one renderer (patterns.ts), and every problem that needs
// more than one value at a time collected with the key where it was written:
//
//  * a room's values come from the group, else the room, else `defaults`; params merge per
//    catalog key in that order as a request's merge over its profile (mergeParams.ts: a
//    list adds to the one below, a scalar replaces it, `replace:` beside params replaces
//    lists too), and a group's `hostname` is its params.hostname;
//  * ids are unique in a room, rendered names unique in the file and valid VM names;
//  * params are rendered and checked by the catalog per VM; the first VM of a group that
//    fails names the group's problem (its other VMs would repeat it);
//  * no two VMs of a room share a static address (the catalog's checkAcrossVms);
//  * the reset regex compiles, is not exponential, and matches the room's own
//    descriptions.
import { InputError } from '../errors';
import { Params } from '../catalog/customizations';
import { checkAcrossVms } from '../catalog/acrossVms';
import { mergeParams, ParamLayer, replaceProblems } from '../catalog/mergeParams';
import { PatternContext, renderParams, renderString } from '../catalog/patterns';
import { isVmName, NAME_MESSAGE } from '../vmName';
import { renderRolloutTime, RoomPlan, RoomSource, RoomVmPlan, StartPolicy } from './RoomPlan';
import { expandIds } from './roomIds';
import { KeyPath, RoomIssues } from './roomIssues';
import {
  DEFAULT_NAMES, DEFAULT_SNAPSHOT_DESCRIPTION, DEFAULT_START_AFTER_RESET, DEFAULT_START_AFTER_ROLLOUT,
  GroupInput, MAX_FILE_VMS, RoomFile, RoomInput,
} from './roomSchema';
import { descriptionRegex, regexProblem, renderSnapshotDescription } from './roomSnapshots';

/** Line and column of a key path (roomYaml.ts), as the plan's RoomSource. */
export type Locate = (path: KeyPath) => RoomSource;

/** A value and the key path it was written at. */
interface Given<T> {
  value: T;
  at: KeyPath;
}

type RoomKey = Exclude<keyof RoomInput, 'vms'>;

/** The static addresses (ADDRESS/PREFIX) of rendered params: the `network` customisation's interfaces. */
export function staticAddresses(params: Params): string[] {
  const interfaces = params.network;
  if (!Array.isArray(interfaces)) return [];
  return interfaces.flatMap((i: unknown) => {
    const address = i && typeof i === 'object' ? (i as { address?: unknown }).address : undefined;
    return typeof address === 'string' ? [address] : [];
  });
}

export function expandRooms(file: RoomFile, locate: Locate, issues: RoomIssues): Map<string, Omit<RoomPlan, 'file'>> {
  const plans = new Map<string, Omit<RoomPlan, 'file'>>();
  const names = new Map<string, { room: string; group: number; id: number }>();
  let total = 0;
  for (const [room, input] of Object.entries(file.rooms)) {
    const roomAt: KeyPath = ['rooms', room];
    /** The room's value of a key, else the defaults', with where it was written. */
    const pick = <K extends RoomKey>(key: K): Given<NonNullable<RoomInput[K]>> | undefined => {
      if (input[key] !== undefined) return { value: input[key]!, at: [...roomAt, key] };
      const d = file.defaults?.[key];
      return d !== undefined ? { value: d as NonNullable<RoomInput[K]>, at: ['defaults', key] } : undefined;
    };
    const description = pick('snapshot_description') ?? { value: DEFAULT_SNAPSHOT_DESCRIPTION, at: [...roomAt] };
    const vms: RoomVmPlan[] = [];
    const ids = new Map<number, number>();
    /** Where each VM's params were written, for the checks across its room's VMs. */
    const sources = new Map<string, VmSources>();
    for (const [g, group] of input.vms.entries()) {
      const groupAt: KeyPath = [...roomAt, 'vms', g];
      const groupIds = expandIds(group.ids, [...groupAt, 'ids'], issues);
      if (!groupIds) continue;
      total += groupIds.length;
      if (total > MAX_FILE_VMS) {
        issues.add([...groupAt, 'ids'], `makes the file name more than ${MAX_FILE_VMS} VMs: split it into several files`);
        return plans;
      }
      const taken = groupIds.find((id) => ids.has(id));
      if (taken !== undefined) {
        issues.add([...groupAt, 'ids'], `id ${taken} is already one of vms[${ids.get(taken)}]: ids are unique in a room`);
        continue;
      }
      groupIds.forEach((id) => ids.set(id, g));
      const template = group.template !== undefined ? { value: group.template, at: [...groupAt, 'template'] } : pick('template');
      if (!template) {
        issues.add([...groupAt, 'template'], 'is missing: give template in the group, in the room or in defaults');
        continue;
      }
      const merged = mergedParams([
        { value: { params: file.defaults?.params, replace: file.defaults?.replace }, at: ['defaults'] },
        { value: { params: input.params, replace: input.replace }, at: roomAt },
        { value: { params: group.params, replace: group.replace }, at: groupAt },
      ], group, groupAt, issues);
      if (!merged) continue;
      const { params, replace } = merged;
      const namesAt: KeyPath = group.names !== undefined ? [...groupAt, 'names'] : groupAt;
      const context = { room, pool: room, template: template.value };
      for (const id of groupIds) {
        const vm = expandVm({ ...context, id, index: id, vm: '' }, group, namesAt, params, description, issues);
        if (!vm) break;
        const other = names.get(vm.name);
        if (other) {
          issues.add(namesAt, `renders "${vm.name}" for id ${id}, already the name of ${other.room === room ? '' : `room ${other.room}'s `}vms[${other.group}] id ${other.id}: VM names are unique`);
          break;
        }
        names.set(vm.name, { room, group: g, id });
        sources.set(vm.name, { params, fallback: namesAt });
        vms.push({ ...vm, id, template: template.value, ...profileOf(group, pick('profile')), ...(replace.length ? { replace } : {}), at: locate(namesAt), templateAt: locate(template.at) });
      }
    }
    checkRoomAcrossVms(vms, sources, issues);
    const reset = pick('reset_to_snapshot');
    plans.set(room, {
      room,
      vms,
      resetToSnapshot: reset ? checkedRegex(reset, vms, issues) : descriptionRegex(description.value),
      startAfterRollout: pick('start_after_rollout')?.value ?? DEFAULT_START_AFTER_ROLLOUT,
      startAfterReset: (pick('start_after_reset')?.value ?? DEFAULT_START_AFTER_RESET) as StartPolicy,
    });
  }
  return plans;
}

interface VmSources {
  params: Map<string, Given<unknown>>;
  fallback: KeyPath;
}

/**
 * What no two VMs of a room may share (a static address: checkAcrossVms, the catalog's
 * rule for every bulk request), named where the second VM's value was written. Rooms
 * are not checked against each other: two rooms may well be on networks of their own.
 */
function checkRoomAcrossVms(vms: RoomVmPlan[], sources: Map<string, VmSources>, issues: RoomIssues): void {
  try {
    checkAcrossVms(vms.map((vm) => ({ vm: vm.name, params: vm.params })));
  } catch (err) {
    if (!(err instanceof InputError)) throw err;
    const second = (err.details.vms as string[] | undefined)?.[1];
    const source = second !== undefined ? sources.get(second) : undefined;
    if (!source) throw err;
    issues.add(writtenAt(err.field, source.params, source.fallback), messageOf(err));
  }
}

function profileOf(group: GroupInput, room: Given<string> | undefined): { profile?: string } {
  const profile = group.profile ?? room?.value;
  return profile !== undefined ? { profile } : {};
}

/** Params by key with the key path each was written at: defaults < room < group < group.hostname. */
/**
 * A group's params over its room's over `defaults` (mergeParams.ts), each key with where
 * its nearest value was written; and every key some level replaces (its profile's value
 * is replaced too). Undefined when a level is wrong (added to issues).
 */
function mergedParams(layers: Given<ParamLayer>[], group: GroupInput, groupAt: KeyPath, issues: RoomIssues): { params: Map<string, Given<unknown>>; replace: string[] } | undefined {
  let bad = false;
  for (const { value, at } of layers) {
    for (const p of replaceProblems(value)) {
      issues.add([...at, 'replace', p.index], p.message);
      bad = true;
    }
  }
  if (bad) return undefined;
  const values = mergeParams(...layers.map((l) => l.value));
  const merged = new Map<string, Given<unknown>>();
  for (const { value, at } of layers) {
    for (const [key, v] of Object.entries(value.params ?? {})) if (v !== undefined) merged.set(key, { value: values[key], at: [...at, 'params', key] });
  }
  if (group.hostname !== undefined) {
    if (group.params?.hostname !== undefined) {
      issues.add([...groupAt, 'hostname'], 'is given twice: here and as params.hostname; keep one');
      return undefined;
    }
    merged.set('hostname', { value: group.hostname, at: [...groupAt, 'hostname'] });
  }
  return { params: merged, replace: [...new Set(layers.flatMap((l) => l.value.replace ?? []))] };
}

/** One VM's name, params and description, or undefined with its problem added. */
function expandVm(
  ctx: PatternContext,
  group: GroupInput,
  namesAt: KeyPath,
  params: Map<string, Given<unknown>>,
  description: Given<string>,
  issues: RoomIssues,
): Omit<RoomVmPlan, 'id' | 'template' | 'profile' | 'at' | 'templateAt'> | undefined {
  const pattern = group.names ?? DEFAULT_NAMES;
  if (pattern.includes('${vm}')) {
    issues.add(namesAt, 'cannot use ${vm}: names is what makes the VM\'s name (use ${room} and ${id})');
    return undefined;
  }
  const name = rendered(() => renderString(pattern, ctx, 'names'), namesAt, issues);
  if (name === undefined) return undefined;
  if (!isVmName(name)) {
    issues.add(namesAt, `renders "${name}" for id ${ctx.id}, which ${NAME_MESSAGE}`);
    return undefined;
  }
  const vmCtx = { ...ctx, vm: name };
  const raw = Object.fromEntries([...params].map(([k, g]) => [k, g.value]));
  let values: Params;
  try {
    values = renderParams(raw, vmCtx);
  } catch (err) {
    if (!(err instanceof InputError)) throw err;
    issues.add(writtenAt(err.field, params, namesAt), messageOf(err));
    return undefined;
  }
  const addresses = staticAddresses(values);
  const snapshotDescription = rendered(
    () => renderSnapshotDescription(description.value, vmCtx, addresses[0]?.split('/')[0], 'snapshot_description'),
    description.at,
    issues,
  );
  if (snapshotDescription === undefined) return undefined;
  return { name, params: values, addresses, snapshotDescription };
}

/** The catalog names `params.KEY...`: the key path where KEY was written (defaults, room, group), else `fallback`. */
function writtenAt(field: string, params: Map<string, Given<unknown>>, fallback: KeyPath): KeyPath {
  const m = /^params\.(\w+)(.*)$/.exec(field);
  const source = m ? params.get(m[1]) : undefined;
  return source ? [...source.at, ...subPath(m![2])] : fallback;
}

/** An InputError's message without its leading `FIELD: ` (our key goes in front instead). */
const messageOf = (err: InputError) => err.message.slice(err.field.length + 2);

/** `[0].name.x` -> [0, 'name', 'x']. */
function subPath(rest: string): (string | number)[] {
  return [...rest.matchAll(/\.([^.[\]]+)|\[(\d+)\]/g)].map((m) => (m[2] !== undefined ? Number(m[2]) : m[1]));
}

function rendered(render: () => string, at: KeyPath, issues: RoomIssues): string | undefined {
  try {
    return render();
  } catch (err) {
    if (!(err instanceof InputError)) throw err;
    issues.add(at, messageOf(err));
    return undefined;
  }
}

/** The given reset regex, after its checks; a regex that finds none of the room's own snapshots is a mistake. */
function checkedRegex(reset: Given<string>, vms: RoomVmPlan[], issues: RoomIssues): string {
  const problem = regexProblem(reset.value);
  if (problem) {
    issues.add(reset.at, problem);
    return reset.value;
  }
  const re = new RegExp(reset.value);
  const sample = new Date(Date.UTC(2026, 0, 1, 8, 0, 0));
  const miss = vms.find((vm) => !re.test(renderRolloutTime(vm.snapshotDescription, sample)));
  if (miss) {
    issues.add(reset.at, `does not match the snapshot description of ${miss.name} (${JSON.stringify(renderRolloutTime(miss.snapshotDescription, sample))}): a reset would find no snapshot`);
  }
  return reset.value;
}
