// The Windows customisations (issue 15): what can be done to a Windows guest offline,
// each one catalog entry (os "windows"). None runs inside virt-sysprep, whose operations
// and customize options are Linux-only (its hostname and random-seed steps only warn on
// Windows); each gives the steps of the agent's one guestfish session instead
// (host-agent/windows/guestfishPlan.ts; decision note "Windows customisations").
import { z } from 'zod';
import { InputError } from '../../errors';
import type { CliGiven } from '../cliBinding';
import { cliText } from '../cliBinding';
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

/** A flag naming a YAML or JSON file whose value is the param. */
function yamlFileFlag(flag: string, g: CliGiven): unknown {
  const file = g.get(flag) as string | undefined;
  if (file === undefined) return undefined;
  const read = readYamlText(g.text(flag, file));
  if ('problem' in read) throw new InputError(flag, `${file} ${read.problem}`);
  return read.value;
}

/** cmd.exe wants CRLF line ends. */
const crlf = (text: string) => text.replace(/\r?\n/g, '\r\n');

export const WINDOWS_CUSTOMIZATIONS: readonly Customization[] = [
  entry({
    key: 'computerName',
    flag: 'hivexregedit',
    label: 'Windows computer name',
    help: "Set the Windows computer name: the registry's ComputerName and Tcpip host name, and the answer file's when one is written",
    secret: false,
    needsNetwork: false,
    operation: 'windows',
    os: 'windows',
    role: 'operator',
    // The hostname widget: its per-VM preview makes `${vm}` names hostname-safe, as the
    // engine does for this key (patterns.ts).
    widget: 'hostname',
    placeholder: '${vm}',
    cli: cliText('--computer-name <pattern>', 'Set the Windows computer name (at most 15 characters); ${vm} ${pool} ${index} ${template} are replaced per VM'),
    schema: computerName,
    toArgs: () => [],
    windows: (name) => [{ registry: computerNameEdits(name) }],
  }),
  entry({
    key: 'unattend',
    flag: 'upload',
    label: 'Windows answer file',
    help: 'Write an unattend.xml rendered per VM (computer name, static addresses, domain join, time zone, first logon commands) to C:\\Windows\\Panther for the first boot after generalize',
    secret: false,
    needsNetwork: false,
    operation: 'windows',
    os: 'windows',
    // First logon commands run as the first user, a domain join adds the VM to a domain.
    role: 'admin',
    widget: 'yaml',
    placeholder: 'timeZone: W. Europe Standard Time\ninterfaces:\n  - name: Ethernet\n    address: { ipFromIndex: 192.0.2.100/24 }\n    gateway: 192.0.2.1\ndomain: { name: corp.example, user: joiner }',
    cli: {
      flags: [{ option: '--unattend <file>', readsFile: true, help: 'the answer file settings in FILE (YAML or JSON): computerName, timeZone, interfaces, domain {name, user, ou}, firstLogonCommands' }],
      parse: (g) => yamlFileFlag('--unattend', g) as Unattend | undefined,
    },
    schema: unattendSchema,
    render: (value, ctx, field) => {
      if (!value || typeof value !== 'object' || !('interfaces' in value)) return value;
      return { ...value, interfaces: renderNetwork((value as { interfaces: unknown }).interfaces, ctx, `${field}.interfaces`) };
    },
    uniqueAcrossVms: (u) => (u.interfaces ? networkUniqueValues(u.interfaces as NetworkInterface[]).map((x) => ({ ...x, field: `.interfaces${x.field}` })) : []),
    toArgs: () => [],
    windows: (u, files, params) => [{
      upload: {
        local: files.file(renderUnattend(u, { computerName: params.computerName as string | undefined, domainJoinPassword: params.domainJoinPassword as string | undefined })),
        guest: UNATTEND_PATH,
      },
    }],
  }),
  entry({
    key: 'domainJoinPassword',
    flag: 'upload',
    label: 'Domain join password',
    help: "The password of the answer file's domain join account (unattend.domain.user)",
    secret: true,
    needsNetwork: false,
    operation: 'windows',
    os: 'windows',
    role: 'admin',
    widget: 'password',
    cli: {
      flags: [{ option: '--domain-join-password-file <file>', readsFile: true, help: "the domain join account's password: the first line of FILE (keep it mode 0600)" }],
      parse: (g) => {
        const file = g.get('--domain-join-password-file') as string | undefined;
        return file === undefined ? undefined : g.secret('--domain-join-password-file', file);
      },
    },
    schema: z.string().min(1, 'must not be empty').max(256).regex(/^[^\x00-\x1f]*$/, 'must be on one line'),
    // Written by the unattend entry (the answer file is its only place).
    toArgs: () => [],
    windows: () => [],
  }),
  entry({
    key: 'setupComplete',
    flag: 'upload',
    label: 'Windows first boot script',
    help: 'A cmd script Windows Setup runs as SYSTEM at the end of the first boot after generalize (C:\\Windows\\Setup\\Scripts\\SetupComplete.cmd)',
    secret: true,
    needsNetwork: false,
    operation: 'windows',
    os: 'windows',
    role: 'admin',
    widget: 'script',
    cli: {
      flags: [{ option: '--setup-complete <file>', readsFile: true, help: 'the cmd script in FILE, run by Windows Setup as SYSTEM at the end of the first boot after generalize' }],
      parse: (g) => {
        const file = g.get('--setup-complete') as string | undefined;
        return file === undefined ? undefined : g.text('--setup-complete', file);
      },
    },
    schema: v.script,
    toArgs: () => [],
    windows: (text, files) => [{ upload: { local: files.file(crlf(text)), guest: SETUP_COMPLETE_PATH } }],
  }),
  entry({
    key: 'registry',
    flag: 'hivexregedit',
    label: 'Windows registry edits',
    help: 'Set or delete values in the SYSTEM, SOFTWARE or DEFAULT hive (hive, key, name, type sz/expand_sz/multi_sz/dword/qword/binary, data)',
    secret: false,
    needsNetwork: false,
    operation: 'windows',
    os: 'windows',
    // Any machine setting: services, policies, Run keys.
    role: 'admin',
    widget: 'yaml',
    placeholder: '- hive: SOFTWARE\n  key: Policies\\Example\n  name: Enabled\n  type: dword\n  data: 1',
    cli: {
      flags: [{ option: '--registry <file>', readsFile: true, help: 'registry edits in FILE (YAML or JSON list of {hive, key, name, type, data} or {hive, key, name, delete: true})' }],
      parse: (g) => yamlFileFlag('--registry', g) as z.infer<typeof registryEdits> | undefined,
    },
    schema: registryEdits,
    toArgs: () => [],
    windows: (edits) => [{ registry: edits }],
  }),
];
