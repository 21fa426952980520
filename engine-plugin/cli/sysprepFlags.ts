// The sysprep commands' flags, generated: the request's own flags (profile, operations,
// mode, dry run) written here, then every flag of every customisation's CLI binding in
// the shared catalog (shared/catalog/customizations.ts). commander's options, their
// help, and the flag named next to a field the engine refused all come from this list.
import { Command, Option } from 'commander';
import { catalogProblems } from '../../shared/catalog/bake';
import { flagName } from '../../shared/catalog/cliBinding';
import { CUSTOMIZATIONS } from '../../shared/catalog/customizations';

export interface SysprepFlag {
  /** commander option syntax. */
  option: string;
  description: string;
  /** May be given several times (values are collected in order). */
  repeatable?: boolean;
  choices?: string[];
  /** Request fields it fills: the engine's `details.field` is matched against them. */
  fields: string[];
  /** For an alias: the flag it stands for (its values join that flag's). */
  aliasOf?: string;
}

/** Flags of the request itself, not of a customisation. */
const REQUEST_FLAGS: readonly SysprepFlag[] = [
  { option: '--profile <name>', description: 'start from this profile (see "ovirt-sysprep profiles")', fields: ['profile'] },
  { option: '--enable <ops>', description: 'run these operations too, comma-separated (see "ovirt-sysprep operations")', fields: ['operations.enable'] },
  { option: '--disable <ops>', description: 'do not run these operations, comma-separated', fields: ['operations.disable'] },
  { option: '--only <ops>', description: "run exactly these operations (replaces the profile's)", fields: ['operations.only'] },
  { option: '--operations <ops>', description: "virt-sysprep's syntax: names run exactly these, or \"defaults,-name,+name\" changes the defaults", fields: ['operations'] },
  { option: '--replace <key>', repeatable: true, description: "let this param (catalog key, e.g. delete) replace the profile's value instead of adding to its list (repeatable)", fields: ['replace'] },
  { option: '--mode <mode>', choices: ['safe', 'in_place'], description: 'safe: work on overlays, commit only on success (default); in_place: write the disks directly', fields: ['mode'] },
  { option: '--dry-run', description: 'run virt-sysprep with --dry-run: nothing is changed', fields: ['dryRun'] },
];

/** The catalog's flags: the first of an entry fills the whole param, the others the part they name. */
const CATALOG_FLAGS: readonly SysprepFlag[] = CUSTOMIZATIONS.flatMap((c) =>
  c.cli.flags.flatMap((f) => {
    const field = `params.${c.key}`;
    const flag: SysprepFlag = { option: f.option, description: f.help, repeatable: f.repeatable, fields: [field] };
    if (!f.alias) return [flag];
    const arg = f.option.slice(flagName(f.option).length);
    return [flag, { option: `${f.alias}${arg}`, description: `same as ${flagName(f.option)} (virt-sysprep's name)`, repeatable: f.repeatable, fields: [field], aliasOf: flagName(f.option) }];
  }),
);

// The catalog's bake() checks its own flags; here they must not clash with the request's.
const clash = catalogProblems(CUSTOMIZATIONS, REQUEST_FLAGS.map((f) => flagName(f.option)));
if (clash.length) throw new Error(`the CLI's sysprep flags clash with the catalog:\n  ${clash.join('\n  ')}`);

export const SYSPREP_FLAGS: readonly SysprepFlag[] = [...REQUEST_FLAGS, ...CATALOG_FLAGS];

/** commander's property name of a flag (`--root-password-file` -> `rootPasswordFile`). */
export const optionKey = (flag: string): string => new Option(flag).attributeName();

const collect = (value: string, previous: string[] = []) => [...previous, value];

export function addSysprepOptions(cmd: Command): Command {
  for (const f of SYSPREP_FLAGS) {
    const opt = new Option(f.option, f.description);
    if (f.repeatable) opt.argParser(collect);
    if (f.choices) opt.choices(f.choices);
    cmd.addOption(opt);
  }
  return cmd;
}

/** The flag to name next to a field the engine refused (longest matching field wins). */
export function flagForField(field: string | undefined): string | undefined {
  if (!field) return undefined;
  const key = /^params\.(\w+)(.*)$/.exec(field);
  const entry = key && CUSTOMIZATIONS.find((c) => c.key === key[1]);
  if (entry) {
    // Several flags fill one param (users): the one filling the part at fault, else the first.
    const part = entry.cli.flags.find((f) => f.fills && [f.fills].flat().some((fill) => key![2].includes(`.${fill}`)));
    return flagName((part ?? entry.cli.flags[0]).option);
  }
  let best: { flag: string; len: number } | undefined;
  for (const f of REQUEST_FLAGS) {
    for (const prefix of f.fields) {
      const hit = field === prefix || field.startsWith(`${prefix}.`) || field.startsWith(`${prefix}[`);
      if (hit && (!best || prefix.length > best.len)) best = { flag: flagName(f.option), len: prefix.length };
    }
  }
  return best?.flag;
}
