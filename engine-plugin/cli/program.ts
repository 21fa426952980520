// The command tree of `ovirt-sysprep` (commander). Each command is a thin action: build
// the request, call the API through ApiClient, print a table / lines / bars or JSON.
// Nothing here exits the process: actions return an exit code (exitCodes.ts).
import { Command, InvalidArgumentError, Option } from 'commander';
import { ApiClient } from './ApiClient';
import { caFetch } from './caFetch';
import { addJobLogCommand } from './commands/jobLog';
import { EXIT, exitCodeForState } from './exitCodes';
import { Column, describeError, formatTable, jobSummary, oldIdentityNote, progressText, warningText } from './format';
import type { JobLike } from './JobProgress';
import { JobView, QuietView } from './JobView';
import { LineView } from './LineView';
import { resolveConnection } from './settings';
import { addSysprepOptions as addCatalogOptions } from './sysprepFlags';
import { buildSysprepBody, FileReader, SysprepOptions } from './sysprepRequest';
import { TtyView } from './TtyView';
import { watchJob } from './watchJob';
import { VERSION } from '../../shared/version';
import type { CliIo } from './CliIo';
import type { CommandContext } from './commands/CommandContext';
import { completionCommand } from './commands/completionCommand';
import { inspectCommand } from './commands/inspectCommand';
import { inventoryCommands } from './commands/inventoryCommands';
import { powerCommands } from './commands/powerCommands';
import { sparsifyCommands } from './commands/sparsifyCommands';
import { snapshotCommands } from './commands/snapshotCommands';
import { profileCommands } from './commands/profileCommands';
import { roomCommands } from './commands/roomCommands';
import { isData, OUTPUT_FORMATS, OutputFormat, outputFormat, renderData, renderTable, WideColumn } from './output';

interface GlobalOptions {
  engine?: string;
  token?: string;
  tokenFile?: string;
  caFile?: string;
  config?: string;
  json?: boolean;
  output?: string;
}

const ENV_HELP = `
Engine and token (first found wins):
  --engine URL, --token-file FILE (or --token TOKEN: visible in ps), --ca-file FILE
  OVIRT_SYSPREP_URL, OVIRT_SYSPREP_TOKEN, OVIRT_SYSPREP_TOKEN_FILE, OVIRT_SYSPREP_CA_FILE
  --config FILE, OVIRT_SYSPREP_CONFIG, or ~/.config/ovirt-sysprep/cli.conf:
      url = https://engine.example:8443
      token_file = /home/me/.config/ovirt-sysprep/token
      ca_file = /etc/pki/ovirt-engine/ca.pem
  default URL: http://127.0.0.1:8080; https URLs are checked against the system CAs,
  or only against the CA(s) of --ca-file

Exit codes: 0 done, 1 failed (job failed or cancelled, conflict, engine error or
unreachable), 2 bad usage (including a request the engine refused as invalid,
unauthenticated, forbidden or unknown: HTTP 400, 401, 403, 404), 3 partial (a pool or
list of VMs where some VMs failed), 130 interrupted (the job goes on), 141 the output
pipe was closed early (| head).`;

const SYSPREP_HELP = (cmd: string, target: string) => `
Without --no-wait the command waits for the job and shows its progress: bars on a
terminal, plain lines otherwise, the final job as JSON with --json. Secrets and scripts
are read from files: they never appear in argv, logs or job records.

Examples:
  ovirt-sysprep ${cmd} ${target} --profile clone-reset
  ovirt-sysprep ${cmd} ${target} --hostname '\${vm}.lab.example' --root-password-file ~/.rootpw \\
      --ssh-key-file ~/.ssh/id_ed25519.pub --timezone Europe/Berlin
  ovirt-sysprep ${cmd} ${target} --enable ssh-userdir --disable logfiles --script ./fix.sh --dry-run
  ovirt-sysprep ${cmd} ${target} --no-wait --json | jq -r .id`;

export function buildProgram(io: CliIo, setExit: (code: number) => void): Command {
  const program = new Command('ovirt-sysprep')
    .description('Sysprep oVirt / KVM VMs, pools and templates through the ovirt-sysprep engine')
    .version(VERSION)
    .option('--engine <url>', 'engine URL (env OVIRT_SYSPREP_URL)')
    .option('--token <token>', 'API token (visible in ps: prefer --token-file or env OVIRT_SYSPREP_TOKEN)')
    .option('--token-file <file>', 'read the API token from FILE')
    .option('--ca-file <file>', "trust the CA certificate(s) in FILE (PEM) for an https engine, instead of the system CAs (env OVIRT_SYSPREP_CA_FILE)")
    .option('--config <file>', 'CLI config file (default ~/.config/ovirt-sysprep/cli.conf)')
    .option('--json', 'machine-readable output: the list as a JSON array, or the (final) job (= -o json)')
    .addOption(new Option('-o, --output <format>', 'table (default), wide (more columns), json or yaml').choices(OUTPUT_FORMATS))
    .configureHelp({ showGlobalOptions: true, sortSubcommands: false })
    .configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s) })
    .showHelpAfterError('(add --help for usage)')
    .exitOverride()
    .addHelpText('after', ENV_HELP)
    .addHelpText('after', `
Examples:
  export OVIRT_SYSPREP_URL=https://engine.example:8443 OVIRT_SYSPREP_TOKEN_FILE=~/.ovirt-sysprep.token
  ovirt-sysprep vms --search web
  ovirt-sysprep vm sysprep web1 --profile clone-reset --hostname web1.example.org
  ovirt-sysprep pool sysprep lab --hostname '\${pool}-\${index}' --no-wait
  ovirt-sysprep template seal golden
  ovirt-sysprep jobs --state running
  ovirt-sysprep job watch 6f1c0e2a-...
  ovirt-sysprep <command> --help`);

  const globals = (cmd: Command) => cmd.optsWithGlobals<GlobalOptions>();
  const client = (cmd: Command) => {
    const conn = resolveConnection(globals(cmd), io.env);
    for (const w of conn.warnings) io.err(`ovirt-sysprep: warning: ${w}\n`);
    return new ApiClient(conn.url, conn.token, io.fetch ?? (conn.ca ? caFetch(conn.ca) : fetch));
  };
  // -o is resolved once the command is known; json and yaml set `json`, so every
  // "--json" check below means "print data, not text", and printJson prints the format asked.
  let format: OutputFormat = 'table';
  program.hook('preAction', (_program, actionCmd) => {
    format = outputFormat(globals(actionCmd));
    if (isData(format)) program.setOptionValue('json', true);
  });
  const printJson = (value: unknown) => io.out(renderData(format, value));
  const action = (fn: (cmd: Command) => Promise<number>) => async function (this: Command) {
    setExit(await fn(this));
  };
  const examples = (...lines: string[]) => `\nExamples:\n${lines.map((l) => `  ${l}`).join('\n')}\n`;

  /** A list command: every page, a table or a JSON array. */
  const listCommand = <T>(name: string, description: string, path: string, columns: WideColumn<T>[], opts: { paged?: boolean; example?: string } = {}) => {
    const cmd = program.command(name).description(description);
    if (opts.paged) cmd.option('--search <text>', 'only names containing TEXT (case-insensitive)');
    cmd
      .option('--limit <n>', 'at most N items', (v) => positive('--limit', v))
      .addHelpText('after', examples(`ovirt-sysprep ${name}`, `ovirt-sysprep ${name} --json | jq -r '.[].${opts.example ?? 'name'}'`))
      .action(action(async (c) => {
        const o = c.opts<{ search?: string; limit?: number }>();
        const items = opts.paged
          ? await client(c).list<T>(path, { search: o.search }, o.limit ?? Infinity)
          : (await client(c).get<{ items: T[] }>(path)).items.slice(0, o.limit ?? Infinity);
        if (globals(c).json) printJson(items);
        else io.out(items.length ? renderTable(format, items, columns) : `no ${name}\n`);
        return EXIT.ok;
      }));
  };

  listCommand<any>('operations', "virt-sysprep operations of the agents' installed tool", '/operations', [
    { header: 'NAME', value: (o) => o.name },
    { header: 'DEFAULT', value: (o) => (o.defaultEnabled ? 'yes' : 'no') },
    { header: 'DESCRIPTION', value: (o) => o.description },
  ]);
  listCommand<any>('profiles', 'built-in and user profiles', '/profiles', [
    { header: 'NAME', value: (p) => p.name },
    { header: 'BUILT-IN', value: (p) => (p.builtIn ? 'yes' : 'no') },
    { header: 'DESCRIPTION', value: (p) => p.description },
  ]);
  listCommand<any>('vms', 'VMs', '/vms', [
    { header: 'NAME', value: (v) => v.name },
    { header: 'ID', value: (v) => v.id },
    { header: 'STATUS', value: (v) => v.status },
    { header: 'HOST', value: (v) => v.hostId },
    { header: 'DISKS', value: (v) => v.disks?.length },
    { header: 'POOL', value: (v) => v.poolId, wide: true },
    { header: 'TEMPLATE', value: (v) => v.templateId, wide: true },
    { header: 'CREATED', value: (v) => v.createdAt, wide: true },
  ], { paged: true });
  listCommand<any>('pools', 'VM pools', '/pools', [
    { header: 'NAME', value: (p) => p.name },
    { header: 'ID', value: (p) => p.id },
    { header: 'VMS', value: (p) => p.vmIds?.length },
    { header: 'TEMPLATE', value: (p) => p.templateId },
  ], { paged: true });
  listCommand<any>('templates', 'templates', '/templates', [
    { header: 'NAME', value: (t) => t.name },
    { header: 'ID', value: (t) => t.id },
    { header: 'DISKS', value: (t) => t.disks?.length },
    { header: 'PATHS', value: (t) => t.disks?.map((d: { path: string }) => d.path).join(','), wide: true },
    { header: 'CREATED', value: (t) => t.createdAt, wide: true },
  ], { paged: true });
  listCommand<any>('hosts', 'host agents: health, versions, jobs', '/hosts', [
    { header: 'ID', value: (h) => h.id },
    { header: 'NAME', value: (h) => h.name },
    { header: 'HEALTHY', value: (h) => (h.healthy ? 'yes' : `no${h.lastError ? ` (${h.lastError})` : ''}`) },
    { header: 'HYPERVISOR', value: (h) => h.hypervisor },
    { header: 'VIRT-SYSPREP', value: (h) => h.versions?.virtSysprep },
    { header: 'JOBS', value: (h) => (h.jobs ? `${h.jobs.running ?? 0} running, ${h.jobs.queued ?? 0} queued` : undefined) },
  ], { example: 'id' });

  /** Submit a sysprep, then wait for it unless --no-wait. */
  const sysprep = async (c: Command, path: string | ((body: object) => [string, object])): Promise<number> => {
    const o = c.opts<SysprepOptions & { wait: boolean }>();
    const { body, warnings } = buildSysprepBody(o, io.files);
    for (const w of warnings) io.err(`ovirt-sysprep: warning: ${w}\n`);
    const api = client(c);
    const [url, payload] = typeof path === 'string' ? [path, body] : path(body);
    const { job } = await api.post<{ job: JobLike }>(url, payload);
    const json = Boolean(globals(c).json);
    if (!o.wait) {
      if (json) printJson(job);
      else io.out(`job ${job.id} submitted (${job.kind} ${job.target.name}); follow it with: ovirt-sysprep job watch ${job.id}\n`);
      return EXIT.ok;
    }
    if (!json) io.out(`job ${job.id} (${job.kind} ${job.target.name}) submitted\n`);
    return watchAndReport(api, job.id, json);
  };

  /** Follows the job with bars or lines (nothing with json): its final record, or the exit code of an interrupt. */
  const follow = async (api: ApiClient, id: string, json: boolean): Promise<{ job?: JobLike; code: number }> => {
    const view: JobView = json ? new QuietView() : io.stdout.isTTY ? new TtyView(io.stdout) : new LineView((s) => io.out(s));
    const interrupted = new AbortController();
    const off = io.onInterrupt?.(() => interrupted.abort(new Error('interrupted')));
    try {
      const job = await watchJob(api, id, view, { signal: interrupted.signal });
      return { job, code: exitCodeForState(job.state) };
    } catch (err) {
      view.stop();
      if (interrupted.signal.aborted) {
        io.err(`\nstopped watching; job ${id} goes on (ovirt-sysprep job cancel ${id} cancels it)\n`);
        return { code: EXIT.interrupted };
      }
      throw err;
    } finally {
      off?.();
    }
  };
  const watchAndReport = async (api: ApiClient, id: string, json: boolean): Promise<number> => {
    const { job, code } = await follow(api, id, json);
    if (json && job) printJson(job);
    return code;
  };

  const addSysprepOptions = (cmd: Command) =>
    addCatalogOptions(cmd).option('--no-wait', 'return once the job is accepted (print its id, or the job with --json)');

  // ---- vm ----
  const vm = program.command('vm').description('one VM: show, sysprep, clone, import, delete, start, shutdown, stop, snapshots');
  vm.command('show <vm>').description('a VM by name or id').action(action(async (c) => show(c, `/vms/${enc(c.args[0])}`)));
  addSysprepOptions(vm.command('sysprep <vm...>'))
    .description('sysprep VMs (by name or id; they must be down); several VMs make one bulk job')
    .addHelpText('after', SYSPREP_HELP('vm sysprep', 'web1'))
    .action(action(async (c) => {
      const names = c.args;
      return names.length === 1 ? sysprep(c, `/vms/${enc(names[0])}/sysprep`) : sysprep(c, (body) => ['/sysprep', { ...body, vms: names }]);
    }));

  // ---- pool ----
  const pool = program.command('pool').description('one VM pool: show, sysprep, create, delete');
  pool.command('show <pool>').description('a pool by name or id, with its VM ids').action(action(async (c) => show(c, `/pools/${enc(c.args[0])}`)));
  addSysprepOptions(pool.command('sysprep <pool>'))
    .description('sysprep every VM of a pool: one child job per VM; values such as the hostname may use ${pool} ${index} ${vm}')
    .addHelpText('after', SYSPREP_HELP('pool sysprep', 'lab').replace("'${vm}.lab.example'", "'${pool}-${index}'"))
    .action(action(async (c) => sysprep(c, `/pools/${enc(c.args[0])}/sysprep`)));

  // ---- template ----
  const template = program.command('template').description('one template: show, seal, register, delete');
  template.command('show <template>').description('a template by name or id').action(action(async (c) => show(c, `/templates/${enc(c.args[0])}`)));
  addSysprepOptions(template.command('seal <template>'))
    .description('seal a template (default profile template-seal: machine-id left empty so that every clone makes its own); refused while clones use it')
    .addHelpText('after', SYSPREP_HELP('template seal', 'golden').replace(" --hostname '${vm}.lab.example'", ''))
    .action(action(async (c) => sysprep(c, `/templates/${enc(c.args[0])}/sysprep`)));

  // ---- jobs ----
  program
    .command('jobs')
    .description('top-level jobs, newest first')
    .option('--state <state>', 'pending, running, succeeded, incomplete, failed, cancelling, cancelled or partial')
    .option('--kind <kind>', 'vm, pool, bulk, room, template, auto-reset, inspect or sparsify')
    .option('--vm <vm>', 'jobs of this VM (id)')
    .option('--limit <n>', 'at most N jobs (default 20)', (v) => positive('--limit', v), 20)
    .addHelpText('after', examples('ovirt-sysprep jobs --state failed', "ovirt-sysprep jobs --json | jq -r '.[] | select(.state == \"partial\") | .id'"))
    .action(action(async (c) => {
      const o = c.opts<{ state?: string; kind?: string; vm?: string; limit: number }>();
      const items = await client(c).list<JobLike & { requestedBy?: string }>('/jobs', { state: o.state, kind: o.kind, vm: o.vm }, o.limit);
      if (globals(c).json) printJson(items);
      else io.out(items.length ? renderTable(format, items, JOB_COLUMNS) : 'no jobs\n');
      return EXIT.ok;
    }));

  const job = program.command('job').description('one job: show, watch, cancel, log');
  job
    .command('show <id>')
    .description('a job: state, progress, steps, children, error')
    .addHelpText('after', examples('ovirt-sysprep job show 6f1c0e2a-...', 'ovirt-sysprep job show 6f1c0e2a-... --json | jq .state'))
    .action(action(async (c) => {
      const j = await client(c).get<JobLike>(`/jobs/${enc(c.args[0])}`);
      if (globals(c).json) printJson(j);
      else io.out(describeJob(j));
      return EXIT.ok;
    }));
  job
    .command('watch <id>')
    .description("follow a job's progress until it ends (a finished job is replayed); exit code from its final state")
    .addHelpText('after', examples('ovirt-sysprep job watch 6f1c0e2a-...', 'ovirt-sysprep job watch 6f1c0e2a-... > job.log   # plain lines', 'ovirt-sysprep job watch 6f1c0e2a-... --json   # only the final job'))
    .action(action(async (c) => watchAndReport(client(c), c.args[0], Boolean(globals(c).json))));
  job
    .command('cancel <id>')
    .description('cancel a job (a pool or list: every VM not done yet); the disks stay as they were')
    .option('--wait', 'then follow the job until it ends')
    .addHelpText('after', examples('ovirt-sysprep job cancel 6f1c0e2a-...', 'ovirt-sysprep job cancel 6f1c0e2a-... --wait'))
    .action(action(async (c) => {
      const api = client(c);
      const { job: j } = await api.post<{ job: JobLike }>(`/jobs/${enc(c.args[0])}/cancel`);
      if (c.opts<{ wait?: boolean }>().wait) return watchAndReport(api, j.id, Boolean(globals(c).json));
      if (globals(c).json) printJson(j);
      else io.out(`job ${j.id}: ${j.state}\n`);
      return EXIT.ok;
    }));

  addJobLogCommand(job, { client, action, out: io.out });

  const show = async (c: Command, path: string): Promise<number> => {
    const item = await client(c).get<Record<string, unknown>>(path);
    if (globals(c).json) printJson(item);
    else io.out(Object.entries(item).map(([k, v]) => `${k}: ${typeof v === 'object' ? JSON.stringify(v) : String(v)}`).join('\n') + '\n');
    return EXIT.ok;
  };

  const ctx: CommandContext = { io, program, client, action, examples, format: () => format, printData: printJson, watchAndReport, follow };
  inventoryCommands(ctx, { vm, pool, template });
  powerCommands(ctx, vm);
  sparsifyCommands(ctx);
  snapshotCommands(ctx, vm);
  profileCommands(ctx);
  roomCommands(ctx);
  inspectCommand(ctx);
  completionCommand(ctx);

  for (const group of [vm, pool, template, job]) group.addHelpText('after', examples(...group.commands.map((s) => `ovirt-sysprep ${group.name()} ${s.name()} --help`)));

  // virt-sysprep's `--list-operations` as an alias of the `operations` command. With a
  // root action commander no longer rejects unknown commands itself: done here.
  program
    .option('--list-operations', 'same as the "operations" command (virt-sysprep\'s name)')
    .argument('[command...]')
    .usage('[options] [command]')
    .action(async function (this: Command) {
      if (this.opts<{ listOperations?: boolean }>().listOperations) {
        await program.commands.find((c) => c.name() === 'operations')!.parseAsync([], { from: 'user' });
      } else if (this.args.length) {
        this.error(`error: unknown command '${this.args[0]}'`, { code: 'commander.unknownCommand', exitCode: 2 });
      } else {
        this.help({ error: true });
      }
    });
  return program;
}

const JOB_COLUMNS: WideColumn<JobLike & { requestedBy?: string; startedAt?: string; endedAt?: string; host?: string }>[] = [
  { header: 'ID', value: (j) => j.id },
  { header: 'KIND', value: (j) => j.kind },
  { header: 'TARGET', value: (j) => j.target.name },
  { header: 'STATE', value: (j) => j.state },
  { header: 'PROGRESS', value: (j) => progressText(j.progress) },
  { header: 'CREATED', value: (j) => j.createdAt },
  { header: 'BY', value: (j) => j.requestedBy },
  { header: 'HOST', value: (j) => j.host, wide: true },
  { header: 'STARTED', value: (j) => j.startedAt, wide: true },
  { header: 'ENDED', value: (j) => j.endedAt, wide: true },
  { header: 'ERROR', value: (j) => (j.error ? describeError(j.error) : undefined), wide: true },
];

export function describeJob(j: JobLike): string {
  const lines = [jobSummary(j), `  created ${j.createdAt ?? '-'}  started ${j.startedAt ?? '-'}  ended ${j.endedAt ?? '-'}${j.host ? `  host ${j.host}` : ''}`];
  if (j.steps?.length) lines.push(`  steps: ${j.steps.map((s) => `${s.operation}${s.state === 'done' ? '' : ` (${s.state})`}`).join(', ')}`);
  const notes = [j, ...(j.children ?? [])].map((x) => oldIdentityNote(x.target)).filter((n) => n !== undefined);
  for (const n of notes) lines.push(`  note: ${n}`);
  for (const w of j.warnings ?? []) lines.push(`  ${warningText(w)}`);
  if (j.warningCount) lines.push(`  warnings: ${j.warningCount} on its VMs (job show CHILD)`);
  if (j.children?.length) {
    lines.push('', formatTable(j.children, [
      { header: 'VM', value: (c) => c.target.name },
      { header: 'JOB', value: (c) => c.id },
      { header: 'STATE', value: (c) => c.state },
      { header: 'PROGRESS', value: (c) => progressText(c.progress) },
      { header: 'HOST', value: (c) => c.host },
      { header: 'ERROR', value: (c) => (c.error ? describeError(c.error) : c.warningCount ? `${c.warningCount} warning(s)` : '') },
    ]).trimEnd());
  }
  return lines.join('\n') + '\n';
}

const enc = encodeURIComponent;

function positive(flag: string, v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`${flag} must be a positive integer`);
  return n;
}
