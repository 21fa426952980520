// `room show|rollout|reset|delete FILE ROOM`: the room file's text is read here and sent
// (POST /rooms/{room}/...); the engine parses it (errors name file, line and key) and
// answers per VM. A rollout is one job of kind `room`: watched with per-VM progress like
// `pool sysprep`, then its follow-up steps (release, snapshot, start) are awaited and each
// VM's outcome is printed, with the command that retries those that failed.
import type { Command } from 'commander';
import { failedFollowUp, followUpEnded, rolloutVmDone } from '../../../shared/rooms/followUpSteps';
import type { ApiClient } from '../ApiClient';
import { EXIT, UsageError } from '../exitCodes';
import { describeError } from '../format';
import type { JobLike } from '../JobProgress';
import { renderTable } from '../output';
import type { CommandContext } from './CommandContext';

const enc = encodeURIComponent;
/** How long a rollout waits for the last VMs' follow-up steps once their sysprep ended. */
const FOLLOW_UP_WAIT_MS = 10 * 60_000;

type ErrorLike = NonNullable<JobLike['error']>;
interface StepLike { operation: string; state: string; at: string; message?: string }
interface ChildJob extends JobLike { steps?: StepLike[] }
interface RolloutVm { name: string; at: string; action: string; reason: string; template: string; addresses: string[]; profile?: string; operations?: string[]; jobId?: string; error?: ErrorLike }
interface RolloutAnswer { room: string; dryRun: boolean; vms: RolloutVm[]; job?: JobLike }
interface Outcome { name: string; at: string; ok: boolean; action: string; reason?: string; error?: ErrorLike; snapshot?: { name: string; description: string }; wasRunning?: boolean; started?: boolean }
interface CommandAnswer { room: string; dryRun: boolean; vms: Outcome[]; failed: number }
interface ShownVm { name: string; at: string; template: string; addresses: string[]; exists: boolean; status?: string; marked: boolean; snapshots?: { name: string; description: string; matches: boolean }[] }

/** 0 when every VM is done, 3 when some are, 1 when none is. */
const exitOf = (total: number, failed: number) => (failed === 0 ? EXIT.ok : failed < total ? EXIT.partial : EXIT.failed);

export function roomCommands(ctx: CommandContext): void {
  const { io } = ctx;
  const data = () => ctx.format() === 'json' || ctx.format() === 'yaml';
  const room = ctx.program.command('room').description('rooms of VMs from a room file (docs/rooms.md): show, rollout, reset, delete');

  const body = (c: Command, extra: Record<string, unknown> = {}) => {
    const [file] = c.args;
    let source: string;
    try {
      source = io.files.read(file);
    } catch (err) {
      throw new UsageError(`cannot read room file ${file}: ${(err as Error).message}`);
    }
    return { file, source, dryRun: Boolean(c.opts<{ dryRun?: boolean }>().dryRun), ...extra };
  };
  const post = <T>(c: Command, verb: string, extra?: Record<string, unknown>) => ctx.client(c).post<T>(`/rooms/${enc(c.args[1])}/${verb}`, body(c, extra));
  const errorText = (e?: ErrorLike) => (e ? describeError(e) : '');

  room.command('show <file> <room>')
    .description("each VM of the room as planned (name, addresses) and as it is (exists, state, the room's mark, snapshots: + matches reset_to_snapshot)")
    .addHelpText('after', ctx.examples('ovirt-sysprep room show rooms.yaml lab1', 'ovirt-sysprep room show rooms.yaml lab1 -o json | jq -r \'.vms[] | select(.exists) | .name\''))
    .action(ctx.action(async (c) => {
      const shown = await post<{ vms: ShownVm[] }>(c, 'show');
      if (data()) ctx.printData(shown);
      else io.out(renderTable(ctx.format(), shown.vms, [
        { header: 'VM', value: (v) => v.name },
        { header: 'ADDRESSES', value: (v) => v.addresses.join(',') },
        { header: 'STATE', value: (v) => (v.exists ? v.status : 'absent') },
        { header: 'MARK', value: (v) => (v.exists ? (v.marked ? 'yes' : 'no') : '') },
        { header: 'SNAPSHOTS', value: (v) => v.snapshots?.map((s) => `${s.name}${s.matches ? '+' : ''}`).join(',') },
        { header: 'TEMPLATE', value: (v) => v.template, wide: true },
        { header: 'AT', value: (v) => v.at, wide: true },
      ]));
      return EXIT.ok;
    }));

  room.command('rollout <file> <room>')
    .description("clone each VM of the room and sysprep it with its own values (one job, a child per VM), then snapshot it and start it if the room asks; refused while a VM of the room exists, unless --resume")
    .option('--dry-run', 'print what would be done per VM; nothing changes')
    .option('--resume', 'finish a rollout: VMs with their snapshot are left, those without are syspreped again, missing ones cloned')
    .option('--no-wait', 'return once the job is accepted')
    .addHelpText('after', ctx.examples('ovirt-sysprep room rollout rooms.yaml lab1 --dry-run', 'ovirt-sysprep room rollout rooms.yaml lab1', 'ovirt-sysprep room rollout rooms.yaml lab1 --resume   # after a failure'))
    .action(ctx.action(async (c) => {
      const o = c.opts<{ resume?: boolean; wait: boolean }>();
      const api = ctx.client(c);
      const answer = await post<RolloutAnswer>(c, 'rollout', { resume: Boolean(o.resume) });
      if (!answer.job) {
        if (data()) ctx.printData(answer);
        else {
          io.out(renderTable(ctx.format(), answer.vms, [
            { header: 'VM', value: (v) => v.name },
            { header: 'ACTION', value: (v) => v.action },
            { header: 'ADDRESSES', value: (v) => v.addresses.join(',') },
            { header: 'PROFILE', value: (v) => v.profile },
            { header: 'TEMPLATE', value: (v) => v.template, wide: true },
            { header: 'OPERATIONS', value: (v) => v.operations?.join(','), wide: true },
            { header: 'REASON', value: (v) => v.reason },
          ]));
          if (!answer.dryRun) io.out(`nothing to do: every VM of room ${answer.room} is rolled out\n`);
        }
        return EXIT.ok;
      }
      const job = answer.job;
      if (!o.wait) {
        if (data()) ctx.printData(answer);
        else io.out(`job ${job.id} submitted (room ${answer.room}, ${job.childrenTotal ?? answer.vms.length} VMs); follow it with: ovirt-sysprep job watch ${job.id}\n`);
        return EXIT.ok;
      }
      if (!data()) io.out(`job ${job.id} (room ${answer.room}) submitted\n`);
      const followed = await ctx.follow(api, job.id, data());
      if (!followed.job) return followed.code;
      const children = await followUps(api, followed.job);
      const vms = answer.vms.map((v) => {
        const child = v.jobId ? children.get(v.jobId) : undefined;
        const done = v.action === 'done' || (!!child && rolloutVmDone(child.state, child.steps));
        const failedStep = failedFollowUp(child?.steps);
        const error = v.error ?? child?.error ?? (failedStep ? { code: `${failedStep.operation.toUpperCase()}_FAILED`, message: `${failedStep.operation}: ${failedStep.message ?? 'failed'}` } : undefined);
        return { name: v.name, at: v.at, action: v.action, done, jobId: v.jobId, state: child?.state, steps: child?.steps, error: done ? undefined : error };
      });
      const failed = vms.filter((v) => !v.done);
      if (data()) ctx.printData({ room: answer.room, job: followed.job, vms, failed: failed.length });
      else {
        io.out(renderTable(ctx.format(), vms, [
          { header: 'VM', value: (v) => v.name },
          { header: 'RESULT', value: (v) => (v.done ? (v.action === 'done' ? 'done before' : 'done') : 'failed') },
          { header: 'SYSPREP', value: (v) => v.state ?? (v.action === 'done' ? '' : 'not run') },
          { header: 'STEPS', value: (v) => v.steps?.filter((s) => ['release', 'snapshot', 'start'].includes(s.operation)).map((s) => `${s.operation}:${s.state}`).join(' ') },
          { header: 'ERROR', value: (v) => errorText(v.error) },
        ]));
        if (failed.length) io.out(`${failed.length} VM(s) not done: ${failed.map((v) => v.name).join(', ')}\nretry them with: ovirt-sysprep room rollout ${c.args[0]} ${c.args[1]} --resume\n`);
      }
      // Every VM done, one of them committed without something asked for (its warnings say what).
      if (!failed.length && vms.some((v) => v.state === 'incomplete')) return EXIT.incomplete;
      return exitOf(vms.length, failed.length);
    }));

  const perVm = (verb: 'reset' | 'delete', description: string, example: string) =>
    room.command(`${verb} <file> <room>`)
      .description(description)
      .option('--dry-run', 'print what would be done per VM; nothing changes')
      .addHelpText('after', ctx.examples(example, `${example} --dry-run`))
      .action(ctx.action(async (c) => {
        const answer = await post<CommandAnswer>(c, verb);
        if (data()) ctx.printData(answer);
        else io.out(renderTable(ctx.format(), answer.vms, [
          { header: 'VM', value: (v) => v.name },
          { header: 'ACTION', value: (v) => v.action },
          { header: 'RESULT', value: (v) => (v.ok ? (answer.dryRun ? 'would be done' : 'ok') : 'failed') },
          ...(verb === 'reset' ? [
            { header: 'SNAPSHOT', value: (v: Outcome) => v.snapshot?.name },
            { header: 'STARTED', value: (v: Outcome) => (v.started === undefined ? '' : v.started ? 'yes' : 'no') },
          ] : [{ header: 'REASON', value: (v: Outcome) => v.reason }]),
          { header: 'ERROR', value: (v) => errorText(v.error) },
        ]));
        return exitOf(answer.vms.length, answer.failed);
      }));
  perVm('reset', "stop the room's VMs, revert each to its newest snapshot matching reset_to_snapshot, start them per start_after_reset", 'ovirt-sysprep room reset rooms.yaml lab1');
  perVm('delete', "stop and delete the room's VMs (only those the room created: a VM of the same name without the room's mark is left and reported)", 'ovirt-sysprep room delete rooms.yaml lab1');
  room.addHelpText('after', ctx.examples(...room.commands.map((s) => `ovirt-sysprep room ${s.name()} --help`)));
}

/** Each child of the ended job, read again until its follow-up steps have ended (or the wait is over). */
async function followUps(api: ApiClient, job: JobLike): Promise<Map<string, ChildJob>> {
  const out = new Map<string, ChildJob>();
  const deadline = Date.now() + FOLLOW_UP_WAIT_MS;
  const ids = (await api.get<{ items: { id: string }[] }>(`/jobs/${enc(job.id)}/children`, { limit: 5000 })).items.map((c) => c.id);
  for (const id of ids) {
    for (;;) {
      const child = await api.get<ChildJob>(`/jobs/${enc(id)}`);
      out.set(id, child);
      if (followUpEnded(child.steps) || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
  return out;
}
