// Windows registry edits as values (the `registry` and `computerName` customisations)
// and their rendering as a `.reg` file for `hivexregedit --merge` (hivex's own merge
// tool: it creates missing keys and writes strings as UTF-16LE, as Windows does). Pure:
// the agent's guestfish plan (host-agent/windows/guestfishPlan.ts) writes the text into
// a private file and merges it into the hive downloaded from the guest.
//
// Offline there is no HKLM\...\CurrentControlSet (a link the running kernel makes): a
// key under `CurrentControlSet\` is written to `ControlSet001`, the set Windows boots
// with unless SYSTEM\Select\Current says otherwise (docs/windows.md).
import { z } from 'zod';

/** The machine hives an edit may name, and where they sit in the guest. */
export const HIVES = {
  SYSTEM: '/Windows/System32/config/SYSTEM',
  SOFTWARE: '/Windows/System32/config/SOFTWARE',
  DEFAULT: '/Windows/System32/config/DEFAULT',
} as const;
export type Hive = keyof typeof HIVES;
const HIVE_NAMES = Object.keys(HIVES) as [Hive, ...Hive[]];

export const REGISTRY_TYPES = ['sz', 'expand_sz', 'multi_sz', 'dword', 'qword', 'binary'] as const;
export type RegistryType = (typeof REGISTRY_TYPES)[number];

// Key components: no control characters, no "[" "]" (they frame a key line of the .reg
// file), no empty component; values: no line breaks (a .reg string is one line).
const KEY = /^[^\\\[\]\x00-\x1f]+(\\[^\\\[\]\x00-\x1f]+)*$/;
const ONE_LINE = /^[^\x00-\x1f]*$/;
const HEX = /^([0-9a-fA-F]{2})*$/;
const U32 = 0xffffffff;

export const registryEdit = z
  .object({
    hive: z.enum(HIVE_NAMES, { error: `must be one of ${HIVE_NAMES.join(', ')}` }),
    key: z.string().max(1024).regex(KEY, 'must be a key path below the hive, components separated by "\\", e.g. "ControlSet001\\Services\\Tcpip\\Parameters"'),
    name: z.string().max(255).regex(ONE_LINE, 'must be on one line (use "" for the default value)'),
    type: z.enum(REGISTRY_TYPES, { error: `must be one of ${REGISTRY_TYPES.join(', ')}` }).optional(),
    data: z.union([z.string().max(1 << 16), z.number(), z.array(z.string().max(1 << 12)).max(256)]).optional(),
    /** Removes the value instead of setting it. */
    delete: z.literal(true).optional(),
  })
  .strict()
  .superRefine((e, ctx) => {
    const issue = (path: string, message: string) => ctx.addIssue({ code: 'custom', path: [path], message });
    if (e.delete) {
      if (e.data !== undefined || e.type !== undefined) issue('delete', 'cannot be given with type or data');
      return;
    }
    if (e.type === undefined) return issue('type', `is required (one of ${REGISTRY_TYPES.join(', ')})`);
    if (e.data === undefined) return issue('data', 'is required');
    const d = e.data;
    switch (e.type) {
      case 'sz':
      case 'expand_sz':
        if (typeof d !== 'string' || !ONE_LINE.test(d)) issue('data', `must be a string on one line for type ${e.type}`);
        break;
      case 'multi_sz':
        if (!Array.isArray(d) || !d.every((s) => ONE_LINE.test(s) && s.length > 0)) issue('data', 'must be a list of non-empty one-line strings for type multi_sz');
        break;
      case 'dword':
        if (typeof d !== 'number' || !Number.isInteger(d) || d < 0 || d > U32) issue('data', 'must be an integer from 0 to 4294967295 for type dword');
        break;
      case 'qword':
        if (!(typeof d === 'number' && Number.isSafeInteger(d) && d >= 0) && !(typeof d === 'string' && /^[0-9]{1,20}$/.test(d) && BigInt(d) < 2n ** 64n)) {
          issue('data', 'must be an unsigned 64-bit integer (a number, or a decimal string above 2^53) for type qword');
        }
        break;
      case 'binary':
        if (typeof d !== 'string' || !HEX.test(d)) issue('data', 'must be hex bytes such as "0a0b0c" for type binary');
        break;
    }
  });
export type RegistryEdit = z.infer<typeof registryEdit>;

export const registryEdits = z.array(registryEdit).min(1).max(1024);

/** The key as written offline: `CurrentControlSet\` is ControlSet001 (module header). */
export function offlineKey(key: string): string {
  return key.replace(/^CurrentControlSet(?=\\|$)/i, 'ControlSet001');
}

const quoted = (s: string) => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
const hexBytes = (bytes: Iterable<number>) => [...bytes].map((b) => b.toString(16).padStart(2, '0')).join(',');
/** UTF-16LE with its terminating NUL, as REG_EXPAND_SZ and REG_MULTI_SZ hold text. */
// (No Buffer: the catalog is bundled for the browser too.)
const utf16z = (s: string): number[] => [...`${s}\0`].flatMap((ch) => {
  const units: number[] = [];
  for (let i = 0; i < ch.length; i++) units.push(ch.charCodeAt(i));
  return units.flatMap((u) => [u & 0xff, u >> 8]);
});
const bytesOfHex = (hex: string): number[] => (hex.match(/../g) ?? []).map((b) => parseInt(b, 16));

function dataText(e: RegistryEdit): string {
  if (e.delete) return '-';
  const d = e.data!;
  switch (e.type!) {
    case 'sz':
      return quoted(d as string);
    case 'expand_sz':
      return `hex(2):${hexBytes(utf16z(d as string))}`;
    case 'multi_sz':
      return `hex(7):${hexBytes([...(d as string[]).flatMap(utf16z), 0, 0])}`;
    case 'dword':
      return `dword:${(d as number).toString(16).padStart(8, '0')}`;
    case 'qword': {
      let n = BigInt(d as number | string);
      const bytes: number[] = [];
      for (let i = 0; i < 8; i++, n >>= 8n) bytes.push(Number(n & 0xffn));
      return `hex(b):${hexBytes(bytes)}`;
    }
    case 'binary':
      return `hex:${hexBytes(bytesOfHex(d as string))}`;
  }
}

/** The `HKEY_LOCAL_MACHINE\HIVE` prefix hivexregedit --merge is given for a hive. */
export const hivePrefix = (hive: Hive): string => `HKEY_LOCAL_MACHINE\\${hive}`;

/**
 * The .reg text of one hive's edits (in order; keys grouped as written), with the
 * prefix of hivePrefix(hive). Throws when an edit names another hive (a caller's bug).
 */
export function renderReg(hive: Hive, edits: readonly RegistryEdit[]): string {
  const lines = ['Windows Registry Editor Version 5.00', ''];
  let current: string | undefined;
  const opened = new Set<string>();
  const section = (key: string) => {
    if (current !== undefined) lines.push('');
    lines.push(`[${key}]`);
    opened.add(key);
    current = key;
  };
  for (const e of edits) {
    if (e.hive !== hive) throw new Error(`renderReg: an edit of ${e.hive} among ${hive}'s`);
    const parts = offlineKey(e.key).split('\\');
    const key = `${hivePrefix(hive)}\\${parts.join('\\')}`;
    if (key !== current) {
      // hivexregedit --merge creates a key only below an existing one: its ancestors first
      // (an empty section changes nothing in a key that exists).
      for (let i = 1; i < parts.length; i++) {
        const ancestor = `${hivePrefix(hive)}\\${parts.slice(0, i).join('\\')}`;
        if (!opened.has(ancestor)) section(ancestor);
      }
      section(key);
    }
    lines.push(`${e.name === '' ? '@' : quoted(e.name)}=${dataText(e)}`);
  }
  return `${lines.join('\r\n')}\r\n`;
}

/** The registry values of a computer name: what Windows reads at boot, and Tcpip's host name. */
export function computerNameEdits(name: string): RegistryEdit[] {
  const sz = (key: string, value: string): RegistryEdit => ({ hive: 'SYSTEM', key, name: value, type: 'sz', data: name });
  return [
    sz('ControlSet001\\Control\\ComputerName\\ComputerName', 'ComputerName'),
    sz('ControlSet001\\Control\\ComputerName\\ActiveComputerName', 'ComputerName'),
    sz('ControlSet001\\Services\\Tcpip\\Parameters', 'Hostname'),
    sz('ControlSet001\\Services\\Tcpip\\Parameters', 'NV Hostname'),
  ];
}
