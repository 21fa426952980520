// One VM's batch script: what `virt-sysprep ARGV` would do to one OS root of that VM,
// as a POSIX shell script run inside the root (guestfish `sh` in the batch's shared
// appliance, host-agent/batch/BatchSession.ts). ARGV is exactly what buildArgv builds for
// the VM alone; its operations and customize options are translated one by one, in the
// tool's order (operations by name, `customize` last; customize: random seed, machine-id,
// the options in command-line order, passwords at the end). Anything without a batch
// form makes the VM run alone, with the reason: the per-VM path stays the reference.
//
// Steps of the script:
//   1. `set -eu`, umask 022 (the libguestfs daemon's), cd "${OVIRT_SYSPREP_ROOT:-/}"
//      (unset in the guest; unit tests point it at a tree); every guest path is relative;
//   2. the distribution and major version as libguestfs 1.48 inspection names them
//      (ops/guestLib.ts): an inspection path it does not follow => `exit 3` (alone);
//   3. per operation: `ovirt-sysprep-step: NAME`, then its shell (ops/operations.ts);
//   4. `ovirt-sysprep-step: customize`, then its steps (ops/customizeSteps.ts). A --run
//      script's output (its `warning:` lines included) is passed on after it ran.
// The steps come in `parts` (at most OPERATION_PARTS of operations, then customize): `sh
// SCRIPT N` runs part N only, `sh SCRIPT` all of them. The session runs the parts one
// `sh` call each, so a VM's progress and cancel move part by part (a `sh` call answers
// only when it ends); every part starts with steps 1-2.
// Passwords are hashed here on the host (deps.hashPassword, SHA-512 crypt); the script
// holds only hashes, returned as `secrets` so the caller cuts them from logs. Behaviour
// follows virt-sysprep 1.48 (guestfs-tools v1.48.2): another installed version => alone.
import type { PlannedFile } from '../sysprep/argv';
import { GUEST_LIB, sh } from './ops/guestLib';
import { OPERATION_BY_NAME, OPERATIONS } from './ops/operations';
import { deleteStep, hostnameStep, machineIdStep, passwordsStep, RANDOM_SEED, runStep, truncateStep } from './ops/customizeSteps';

export interface BatchScriptInput {
  /** The VM's argv as buildArgv builds it with trace:false, dryRun:false (`--format F -a PATH`
   *  pairs included: ignore them), and the files it planned (contents of --run scripts,
   *  password files `file:PATH`, ...). */
  argv: readonly string[];
  files: readonly PlannedFile[];
  /** `virt-sysprep --version` of the host (e.g. "virt-sysprep 1.48.2"): behaviours that
   *  differ by version (distro lists of net-hwaddr etc.) follow the INSTALLED tool. */
  toolVersion: string;
}

export type BatchScript =
  | { batchable: true; script: string; /** strings to cut from logs (password hashes...) */ secrets: string[]; /** step names in order, for progress: the operation names, then 'customize' */ steps: string[]; /** how many parts (`sh SCRIPT 1` .. `sh SCRIPT parts`) */ parts: number }
  | { batchable: false; reason: string };

/** The virt-sysprep operations with a batch form (listed in docs). */
export const BATCH_OPERATIONS: ReadonlySet<string> = new Set(OPERATIONS.map((o) => o.name));

/** The virt-customize options with a batch form (docs/agent.md). */
export const BATCH_CUSTOMIZE_OPTIONS: readonly string[] = ['--hostname', '--delete', '--truncate', '--run', '--root-password', '--password', '--password-crypto'];

/** The operations are run in at most this many parts (customize is one more). Each part
 *  costs one more guestfish `sh` call (0.3-0.5 s under TCG: the daemon bind-mounts /dev,
 *  /proc and /sys around each), on a VM whose whole script takes 1.5-2.5 s: two parts. */
export const OPERATION_PARTS = 1;

/** The tool version whose behaviour the batch forms follow. */
export const BATCH_TOOL_VERSION = '1.48';

type CustomizeOp =
  | { kind: 'hostname' | 'delete' | 'truncate'; value: string }
  | { kind: 'run'; name: string; content: string };

type Selector = { locked: boolean; password: { plain: string } | 'random' | 'disabled' };

class NotBatchable extends Error {}
const refuse = (reason: string): never => {
  throw new NotBatchable(reason);
};

const VALUE_FLAGS = new Set(['--format', '-a', '--operations', ...BATCH_CUSTOMIZE_OPTIONS]);
const IGNORED_FLAGS = new Set(['-v', '-x', '--no-network', '--network']);

/** virt-customize's password selector (customize/password.ml parse_selector). */
function parseSelector(sel: string, files: readonly PlannedFile[]): Selector {
  const parse = (parts: string[]): Selector => {
    const [head, ...rest] = parts;
    if ((head === 'lock' || head === 'locked') && !rest.length) return { locked: true, password: 'disabled' };
    if (head === 'lock' || head === 'locked') return { ...parse(rest), locked: true };
    if (head === 'file' && rest.length === 1) {
      const f = files.find((x) => x.path === rest[0]);
      if (!f) return refuse(`the password file ${rest[0]} is not one of the planned files`);
      // read_first_line_from_file: the text before the first newline.
      return { locked: false, password: { plain: f.content.split('\n')[0] } };
    }
    if (head === 'password' && rest.length) return { locked: false, password: { plain: rest.join(':') } };
    if (head === 'random' && !rest.length) return { locked: false, password: 'random' };
    if ((head === 'disable' || head === 'disabled') && !rest.length) return { locked: false, password: 'disabled' };
    return refuse('a password selector the batch form does not know');
  };
  return parse(sel.split(':'));
}

/** 16 characters of virt-customize's random-password alphabet; never printed (the tool prints its own). */
function randomPassword(): string {
  const chars = 'ABCDEFGHIJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz0123456789';
  const bytes = globalThis.crypto.getRandomValues(new Uint8Array(64));
  let out = '';
  for (const b of bytes) {
    if (b < 256 - (256 % chars.length)) out += chars[b % chars.length];
    if (out.length === 16) return out;
  }
  return randomPassword();
}

interface Parsed {
  operations: string[];
  customize: CustomizeOp[];
  passwords: Map<string, Selector>;
  crypto?: string;
}

function parseArgv(argv: readonly string[], files: readonly PlannedFile[]): Parsed {
  const parsed: Parsed = { operations: [], customize: [], passwords: new Map() };
  let operations: string[] | undefined;
  const setPassword = (user: string, sel: string) => {
    // The tool refuses two selectors for one user.
    if (parsed.passwords.has(user)) refuse(`two passwords for the user ${user}`);
    parsed.passwords.set(user, parseSelector(sel, files));
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    if (IGNORED_FLAGS.has(flag)) continue;
    if (!VALUE_FLAGS.has(flag)) return refuse(`option "${flag}" has no batch form`);
    const value = argv[++i];
    if (value === undefined) return refuse(`option "${flag}" has no value`);
    switch (flag) {
      case '--format':
      case '-a':
        break;
      case '--operations':
        operations = value.split(',').filter(Boolean);
        break;
      case '--hostname':
        parsed.customize.push({ kind: 'hostname', value });
        break;
      case '--delete':
        parsed.customize.push({ kind: 'delete', value });
        break;
      case '--truncate':
        parsed.customize.push({ kind: 'truncate', value });
        break;
      case '--run': {
        const f = files.find((x) => x.path === value);
        if (!f) return refuse(`the --run script ${value} is not one of the planned files`);
        parsed.customize.push({ kind: 'run', name: value, content: f.content });
        break;
      }
      case '--root-password':
        setPassword('root', value);
        break;
      case '--password': {
        const colon = value.indexOf(':');
        if (colon <= 0) return refuse('a --password without USER:');
        setPassword(value.slice(0, colon), value.slice(colon + 1));
        break;
      }
      case '--password-crypto':
        parsed.crypto = value;
        break;
    }
  }
  if (!operations) return refuse("no --operations list: virt-sysprep's default operations include ones with no batch form");
  for (const op of operations) {
    if (op !== 'customize' && !BATCH_OPERATIONS.has(op)) refuse(`operation "${op}" has no batch form`);
  }
  parsed.operations = operations;
  const hashed = [...parsed.passwords.values()].some((s) => s.password !== 'disabled');
  if (hashed && parsed.crypto !== 'sha512') {
    refuse(parsed.crypto === undefined
      ? 'a password without --password-crypto: the tool picks the hash by distribution (MD5 on Rocky Linux in 1.48)'
      : `--password-crypto ${parsed.crypto} has no batch form (only sha512)`);
  }
  return parsed;
}

function toolFollowed(toolVersion: string): boolean {
  const m = /(\d+)\.(\d+)/.exec(toolVersion);
  return !!m && `${m[1]}.${m[2]}` === BATCH_TOOL_VERSION;
}

export async function batchScript(input: BatchScriptInput, deps: { hashPassword(plain: string): Promise<string> }): Promise<BatchScript> {
  if (!toolFollowed(input.toolVersion)) {
    return { batchable: false, reason: `${input.toolVersion.trim() || 'an unknown virt-sysprep'}: the batch forms follow virt-sysprep ${BATCH_TOOL_VERSION} only` };
  }
  let parsed: Parsed;
  try {
    parsed = parseArgv(input.argv, input.files);
  } catch (e) {
    if (e instanceof NotBatchable) return { batchable: false, reason: e.message };
    throw e;
  }

  // The tool's order: operations sorted by name, customize (order 99) after them all.
  const ops = [...new Set(parsed.operations.filter((o) => o !== 'customize'))].sort();
  const customize = parsed.operations.includes('customize');
  const partOf: string[][] = [];
  const size = Math.ceil(ops.length / OPERATION_PARTS);
  for (let i = 0; i < ops.length; i += size) {
    partOf.push(ops.slice(i, i + size).flatMap((name) => [sh`step '${name}'`, OPERATION_BY_NAME.get(name)!.shell.trim()]));
  }
  const custom: string[] = [];
  const secrets: string[] = [];
  if (customize) {
    custom.push(`step customize`, RANDOM_SEED.trim(), machineIdStep().trim());
    for (const c of parsed.customize) {
      if (c.kind === 'run') custom.push(runStep(c.name, c.content).trim());
      else if (c.kind === 'hostname') custom.push(hostnameStep(c.value).trim());
      else if (c.kind === 'delete') custom.push(deleteStep(c.value));
      else custom.push(truncateStep(c.value));
    }
    if (parsed.passwords.size) {
      const fields: Array<[string, string]> = [];
      for (const [user, sel] of parsed.passwords) {
        const lock = sel.locked ? '!!' : '';
        let field: string;
        if (sel.password === 'disabled') field = sel.locked ? '!!*' : '*';
        else {
          const hash = await deps.hashPassword(sel.password === 'random' ? randomPassword() : sel.password.plain);
          secrets.push(hash);
          field = lock + hash;
        }
        fields.push([user, field]);
      }
      custom.push(passwordsStep(fields).trim());
    }
  }

  if (customize) partOf.push(custom);
  const script = [
    '#!/bin/sh',
    '# ovirt-sysprep batch script (host-agent/batch/batchScript.ts): virt-sysprep 1.48 for one OS root.',
    '# `sh SCRIPT N`: part N only; `sh SCRIPT`: every part.',
    'set -eu',
    'umask 022',
    'cd "${OVIRT_SYSPREP_ROOT:-/}"',
    GUEST_LIB.trim(),
    'part="${1:-all}"',
    ...partOf.flatMap((body, i) => [`if [ "$part" = all ] || [ "$part" = ${i + 1} ]; then`, ...body, 'fi']),
    'exit 0',
    '',
  ].join('\n');
  return { batchable: true, script, secrets, steps: [...ops, ...(customize ? ['customize'] : [])], parts: Math.max(1, partOf.length) };
}
