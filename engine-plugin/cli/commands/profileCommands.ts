// `ovirt-sysprep profile list|show|set|delete` (issue 11): the profiles API
// (GET/PUT/DELETE /profiles/{name}). `set` replaces the profile with a body from a file
// (JSON or YAML: docs/api.md's profile body) and/or options; an option wins over the
// file's field. Secrets cannot be stored in a profile: the engine refuses them.
import { Command, Option } from 'commander';
import { parse } from 'yaml';
import { EXIT, UsageError } from '../exitCodes';
import { renderData, renderTable } from '../output';
import type { CommandContext } from './CommandContext';

const enc = encodeURIComponent;
const collect = (value: string, prev?: string[]) => [...(prev ?? []), value];

interface ProfileOptions { file?: string; description?: string; enable?: string[]; disable?: string[]; only?: string[]; mode?: string }

export function profileCommands(ctx: CommandContext): void {
  const { io } = ctx;
  const data = () => ctx.format() === 'json' || ctx.format() === 'yaml';
  const profile = ctx.program.command('profile').description('sysprep profiles: list, show, set, delete');

  profile
    .command('list')
    .description('built-in and user profiles')
    .action(ctx.action(async (c) => {
      const { items } = await ctx.client(c).get<{ items: { name: string; builtIn?: boolean; description?: string }[] }>('/profiles');
      if (data()) ctx.printData(items);
      else io.out(renderTable(ctx.format(), items, [
        { header: 'NAME', value: (p) => p.name },
        { header: 'BUILT-IN', value: (p) => (p.builtIn ? 'yes' : 'no') },
        { header: 'DESCRIPTION', value: (p) => p.description },
      ]));
      return EXIT.ok;
    }));

  profile
    .command('show <name>')
    .description('a profile: operations, parameters, mode (YAML by default: it is a body for profile set --file)')
    .action(ctx.action(async (c) => {
      const p = await ctx.client(c).get(`/profiles/${enc(c.args[0])}`);
      // A profile is nested data: text output is its YAML.
      if (ctx.format() === 'json') ctx.printData(p);
      else io.out(renderData('yaml', p));
      return EXIT.ok;
    }));

  profile
    .command('set <name>')
    .description('create or replace a user profile (admin)')
    .option('--file <file>', 'the profile body, JSON or YAML: {description, operations: {enable, disable, only}, params, mode}')
    .option('--description <text>', 'what the profile is for')
    .option('--enable <operation>', 'enable an operation (repeatable)', collect)
    .option('--disable <operation>', 'disable an operation (repeatable)', collect)
    .option('--only <operation>', 'run only these operations (repeatable)', collect)
    .addOption(new Option('--mode <mode>', 'safe (overlay, then commit) or in_place').choices(['safe', 'in_place']))
    .addHelpText('after', ctx.examples(
      "ovirt-sysprep profile set lab-reset --description 'lab VMs' --enable ssh-userdir --disable logfiles",
      'ovirt-sysprep profile show clone-reset > p.yaml; $EDITOR p.yaml; ovirt-sysprep profile set my-reset --file p.yaml',
    ))
    .action(ctx.action(async (c) => {
      const body = profileBody(c.opts<ProfileOptions>(), (f) => io.files.read(f));
      const saved = await ctx.client(c).put(`/profiles/${enc(c.args[0])}`, body);
      if (data()) ctx.printData(saved);
      else io.out(`profile ${c.args[0]} saved\n`);
      return EXIT.ok;
    }));

  profile
    .command('delete <name>')
    .description('delete a user profile (admin; built-ins stay)')
    .action(ctx.action(async (c) => {
      await ctx.client(c).delete(`/profiles/${enc(c.args[0])}`);
      if (data()) ctx.printData({ deleted: c.args[0] });
      else io.out(`profile ${c.args[0]} deleted\n`);
      return EXIT.ok;
    }));

  profile.addHelpText('after', ctx.examples(...profile.commands.map((s) => `ovirt-sysprep profile ${s.name()} --help`)));
}

/** The PUT body: the file's (a `profile show` output: its name and builtIn are dropped), then the options. */
export function profileBody(o: ProfileOptions, read: (file: string) => string): Record<string, unknown> {
  let body: Record<string, unknown> = {};
  if (o.file) {
    let parsed: unknown;
    try {
      parsed = parse(read(o.file));
    } catch (err) {
      throw new UsageError(`--file ${o.file}: ${(err as Error).message}`);
    }
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new UsageError(`--file ${o.file}: expected a mapping {description, operations, params, mode}`);
    const { name: _name, builtIn: _builtIn, ...rest } = parsed as Record<string, unknown>;
    body = rest;
  }
  if (o.description !== undefined) body.description = o.description;
  const ops = { ...((body.operations as Record<string, unknown> | undefined) ?? {}) };
  for (const k of ['enable', 'disable', 'only'] as const) if (o[k]) ops[k] = o[k];
  if (Object.keys(ops).length) body.operations = ops;
  if (o.mode) body.mode = o.mode;
  return body;
}
