// The scripts behind the `groups` and `users` customisations: accounts are made by the
// guest's own shadow-utils (groupadd, useradd, usermod), so its login.defs, its id ranges,
// its /etc/gshadow and its skeleton apply as if an administrator had typed the commands.
// Declarative: an account that already exists is not made again, its groups, shell and
// sudo file are brought to what was asked. Pure (no Node API): bundled for the browser too.
import type { Group, User } from '../values';
import { requireCommand, script, shQuote, writeFileCommands } from './sh';

/** Where a user's sudo rule lives (no "." in the name: sudo skips such files). */
export const sudoersFile = (name: string): string => `/etc/sudoers.d/ovirt-sysprep-${name}`;

const exists = (db: 'passwd' | 'group', name: string) => `grep -q ${shQuote(`^${name}:`)} /etc/${db}`;

/** groupadd for each group not in /etc/group yet. */
export function groupsScript(groups: readonly Group[]): string {
  return script([
    requireCommand('groupadd', 'create groups'),
    ...groups.map((g) => {
      const add = ['groupadd', ...(g.gid !== undefined ? ['-g', String(g.gid)] : []), shQuote(g.name)].join(' ');
      return `if ${exists('group', g.name)}; then echo ${shQuote(`group ${g.name} exists: kept`)}; else ${add}; fi`;
    }),
  ]);
}

/** Whether the users need the script (not only keys and passwords, which virt-customize sets). */
export const needsAccountScript = (u: User): boolean =>
  Boolean(u.create) || u.shell !== undefined || (u.groups?.length ?? 0) > 0 || u.sudo !== undefined;

function userLines(u: User): string[] {
  const name = shQuote(u.name);
  const lines: string[] = [];
  if (u.create) {
    const add = [
      'useradd -m',
      ...(u.uid !== undefined ? ['-u', String(u.uid)] : []),
      ...(u.comment !== undefined ? ['-c', shQuote(u.comment)] : []),
      ...(u.shell !== undefined ? ['-s', shQuote(u.shell)] : []),
      name,
    ].join(' ');
    lines.push(`if ${exists('passwd', u.name)}; then echo ${shQuote(`user ${u.name} exists: not created`)}; else ${add}; fi`);
  } else {
    lines.push(`${exists('passwd', u.name)} || { echo ${shQuote(`error: user ${u.name} does not exist (set "create": true to create it)`)} >&2; exit 1; }`);
  }
  // For a new user too: useradd's -s was given, usermod makes an existing one match.
  if (u.shell !== undefined && !u.create) lines.push(`usermod -s ${shQuote(u.shell)} ${name}`);
  if (u.groups?.length) lines.push(`usermod -aG ${shQuote(u.groups.join(','))} ${name}`);
  if (u.sudo === true) {
    // visudo checks the rule where the guest has it; a guest without sudo gets the file for later.
    lines.push(...writeFileCommands(sudoersFile(u.name), `${u.name} ALL=(ALL:ALL) ALL\n`, '0440', (tmp) => `{ ! command -v visudo >/dev/null 2>&1 || visudo -cqf ${tmp}; }`));
  } else if (u.sudo === false) {
    lines.push(`rm -f ${shQuote(sudoersFile(u.name))}`);
  }
  return lines;
}

/** The account part of the users (create, shell, groups, sudo); undefined when none needs it. */
export function usersScript(users: readonly User[]): string | undefined {
  const todo = users.filter(needsAccountScript);
  if (!todo.length) return undefined;
  const tools = new Set(todo.flatMap((u) => [...(u.create ? ['useradd'] : []), ...(u.groups?.length || (u.shell && !u.create) ? ['usermod'] : [])]));
  return script([...[...tools].map((t) => requireCommand(t, 'create or change users')), ...todo.flatMap(userLines)]);
}
