// The Windows customisations (issue 15): what can be done to a Windows guest offline,
// each one catalog entry (os "windows"). None runs inside virt-sysprep, whose operations
// and customize options are Linux-only (its hostname and random-seed steps only warn on
// Windows); each gives the steps of the agent's one guestfish session instead
// (host-agent/windows/guestfishPlan.ts; decision note "Windows customisations").
import { z } from 'zod';
import { InputError } from '../../errors';
import type { CliBinding, CliGiven } from '../cliBinding';
import { cliText, flagName } from '../cliBinding';
import { Customization, entry } from '../Customization';
import { networkUniqueValues, renderNetwork } from '../network';
import type { NetworkInterface } from '../network';
import * as v from '../values';
import { readYamlText } from '../yamlText';
import { computerNameEdits, registryEdits } from './registry';
import { computerName, renderUnattend, Unattend, unattendSchema } from './unattend';

/** Where Windows Setup looks for an answer file at the first boot after generalize. */
export const UNATTEND_PATH = '/Windows/Panther/unattend.xml';
/** Run by Windows Setup as SYSTEM at the end of setup, before the first logon. */
export const SETUP_COMPLETE_PATH = '/Windows/Setup/Scripts/SetupComplete.cmd';

/** How a file flag's file becomes the value: YAML/JSON, the first line (a secret), or the whole text. */
type FileRead = 'yaml' | 'secret' | 'text';

/** One flag naming a file (never the value itself in argv) whose content is the param. */
function fileCli<T>(option: string, help: string, read: FileRead): CliBinding<T> {
  const flag = flagName(option);
  return {
    flags: [{ option, readsFile: true, help }],
    parse: (g: CliGiven) => {
      const file = g.get(flag) as string | undefined;
      if (file === undefined) return undefined;
      if (read === 'secret') return g.secret(flag, file) as T;
      if (read === 'text') return g.text(flag, file) as T;
      const value = readYamlText(g.text(flag, file));
      if ('problem' in value) throw new InputError(flag, `${file} ${value.problem}`);
      return value.value as T;
    },
  };
}

/** The fields every Windows entry shares: done in the guestfish session, never in virt-sysprep's argv. */
type WindowsEntry<T> = Omit<Customization<T>, 'needsNetwork' | 'operation' | 'os' | 'toArgs' | 'windows'> & Required<Pick<Customization<T>, 'windows'>>;
const windowsEntry = <T>(c: WindowsEntry<T>): Customization<T> => entry({ ...c, needsNetwork: false, operation: 'windows', os: 'windows', toArgs: () => [] });

/** cmd.exe wants CRLF line ends. */
const crlf = (text: string) => text.replace(/\r?\n/g, '\r\n');

export const WINDOWS_CUSTOMIZATIONS: readonly Customization[] = [
  windowsEntry({
    key: 'computerName',
    flag: 'hivexregedit',
    label: 'Windows computer name',
    help: "Set the Windows computer name: the registry's ComputerName and Tcpip host name, and the answer file's when one is written",
    secret: false,
    role: 'operator',
    // The hostname widget: its per-VM preview makes `${vm}` names hostname-safe, as the
    // engine does for this key (patterns.ts).
    widget: 'hostname',
    placeholder: '${vm}',
    cli: cliText('--computer-name <pattern>', 'Set the Windows computer name (at most 15 characters); ${vm} ${pool} ${index} ${template} are replaced per VM'),
    schema: computerName,
    windows: (name) => [{ registry: computerNameEdits(name) }],
  }),
  windowsEntry({
    key: 'unattend',
    flag: 'upload',
    label: 'Windows answer file',
    help: 'Write an unattend.xml rendered per VM (computer name, static addresses, domain join, time zone, first logon commands) to C:\\Windows\\Panther for the first boot after generalize',
    secret: false,
    // First logon commands run as the first user, a domain join adds the VM to a domain.
    role: 'admin',
    widget: 'yaml',
    placeholder: 'timeZone: W. Europe Standard Time\ninterfaces:\n  - name: Ethernet\n    address: { ipFromIndex: 192.0.2.100/24 }\n    gateway: 192.0.2.1\ndomain: { name: corp.example, user: joiner }',
    cli: fileCli<Unattend>('--unattend <file>', 'the answer file settings in FILE (YAML or JSON): computerName, timeZone, interfaces, domain {name, user, ou}, firstLogonCommands', 'yaml'),
    schema: unattendSchema,
    render: (value, ctx, field) => {
      if (!value || typeof value !== 'object' || !('interfaces' in value)) return value;
      return { ...value, interfaces: renderNetwork((value as { interfaces: unknown }).interfaces, ctx, `${field}.interfaces`) };
    },
    uniqueAcrossVms: (u) => (u.interfaces ? networkUniqueValues(u.interfaces as NetworkInterface[]).map((x) => ({ ...x, field: `.interfaces${x.field}` })) : []),
    windows: (u, files, params) => [{
      upload: {
        local: files.file(renderUnattend(u, { computerName: params.computerName as string | undefined, domainJoinPassword: params.domainJoinPassword as string | undefined })),
        guest: UNATTEND_PATH,
      },
    }],
  }),
  windowsEntry({
    key: 'domainJoinPassword',
    flag: 'upload',
    label: 'Domain join password',
    help: "The password of the answer file's domain join account (unattend.domain.user)",
    secret: true,
    role: 'admin',
    widget: 'password',
    cli: fileCli<string>('--domain-join-password-file <file>', "the domain join account's password: the first line of FILE (keep it mode 0600)", 'secret'),
    schema: z.string().min(1, 'must not be empty').max(256).regex(/^[^\x00-\x1f]*$/, 'must be on one line'),
    // Written by the unattend entry (the answer file is its only place).
    windows: () => [],
  }),
  windowsEntry({
    key: 'setupComplete',
    flag: 'upload',
    label: 'Windows first boot script',
    help: 'A cmd script Windows Setup runs as SYSTEM at the end of the first boot after generalize (C:\\Windows\\Setup\\Scripts\\SetupComplete.cmd)',
    secret: true,
    role: 'admin',
    widget: 'script',
    cli: fileCli<string>('--setup-complete <file>', 'the cmd script in FILE, run by Windows Setup as SYSTEM at the end of the first boot after generalize', 'text'),
    schema: v.script,
    windows: (text, files) => [{ upload: { local: files.file(crlf(text)), guest: SETUP_COMPLETE_PATH } }],
  }),
  windowsEntry({
    key: 'registry',
    flag: 'hivexregedit',
    label: 'Windows registry edits',
    help: 'Set or delete values in the SYSTEM, SOFTWARE or DEFAULT hive (hive, key, name, type sz/expand_sz/multi_sz/dword/qword/binary, data)',
    secret: false,
    // Any machine setting: services, policies, Run keys.
    role: 'admin',
    widget: 'yaml',
    placeholder: '- hive: SOFTWARE\n  key: Policies\\Example\n  name: Enabled\n  type: dword\n  data: 1',
    cli: fileCli<z.infer<typeof registryEdits>>('--registry <file>', 'registry edits in FILE (YAML or JSON list of {hive, key, name, type, data} or {hive, key, name, delete: true})', 'yaml'),
    schema: registryEdits,
    windows: (edits) => [{ registry: edits }],
  }),
];
