// The catalog's start-up check, as virt-sysprep's registry bakes its operations: a bad
// entry stops the process at load time (and the unit test), never a user's request.
import type { Customization } from './Customization';
import { flagName } from './cliBinding';

const KEY = /^[a-z][a-zA-Z0-9]*$/;
const CLI_FLAG = /^--[a-z0-9]+(-[a-z0-9]+)*$/;
const TOOL_FLAG = /^--[a-z0-9]+(-[a-z0-9]+)*(, --[a-z0-9]+(-[a-z0-9]+)*)*$/;
/** Windows entries run in guestfish: their "flag" names what they use there. */
const WINDOWS_TOOL = /^(upload|hivexregedit)(, (upload|hivexregedit))*$/;

/** Problems of a catalog, one line each (empty: a good catalog). */
export function catalogProblems(entries: readonly Customization[], reservedFlags: readonly string[] = []): string[] {
  const problems: string[] = [];
  const keys = new Set<string>();
  const flags = new Map<string, string>(reservedFlags.map((f) => [f, 'the CLI']));
  for (const c of entries) {
    const at = `customisation "${c.key}"`;
    if (!KEY.test(c.key)) problems.push(`${at}: the key must be lowerCamelCase ([a-z][a-zA-Z0-9]*)`);
    if (keys.has(c.key)) problems.push(`${at}: the key is used twice`);
    keys.add(c.key);
    const windows = c.operation === 'windows';
    if (windows ? !WINDOWS_TOOL.test(c.flag) : !TOOL_FLAG.test(c.flag)) problems.push(`${at}: flag ${JSON.stringify(c.flag)} is not a ${windows ? 'guestfish step (upload, hivexregedit)' : 'virt-sysprep option name'}`);
    if (windows !== (c.os === 'windows') || windows !== (c.windows !== undefined)) problems.push(`${at}: a Windows entry has operation "windows", os "windows" and a windows hook, all three`);
    for (const [what, text] of [['label', c.label], ['help', c.help]] as const) {
      if (!text?.trim()) problems.push(`${at}: the ${what} is missing`);
      else if (text.trimEnd().endsWith('.')) problems.push(`${at}: the ${what} ends with a period`);
    }
    if (!c.cli?.flags.length) problems.push(`${at}: no CLI flag`);
    for (const f of c.cli?.flags ?? []) {
      for (const name of [flagName(f.option), ...(f.alias ? [f.alias] : [])]) {
        if (!CLI_FLAG.test(name)) problems.push(`${at}: CLI flag ${JSON.stringify(name)} is not --lower-case-words`);
        const owner = flags.get(name);
        if (owner) problems.push(`${at}: CLI flag ${name} is already taken by ${owner}`);
        flags.set(name, at);
      }
      if (!f.help?.trim()) problems.push(`${at}: CLI flag ${f.option} has no help`);
      else if (f.help.trimEnd().endsWith('.')) problems.push(`${at}: the help of CLI flag ${f.option} ends with a period`);
    }
  }
  return problems;
}

/** The catalog as given, or an error listing every problem. */
export function bake<T extends readonly Customization[]>(entries: T): T {
  const problems = catalogProblems(entries);
  if (problems.length) throw new Error(`the customisation catalog is broken:\n  ${problems.join('\n  ')}`);
  return entries;
}
