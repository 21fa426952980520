// Pure builder of the Windows customisations' one guestfish session (table-tested in
// test/unit/host-agent/guestfishPlan.test.ts), the Windows counterpart of
// sysprep/argv.ts. One appliance for everything (decision note "Windows
// customisations"): `-i` mounts the Windows system volume, files are uploaded from the
// job's 0600 files, and each hive with edits is downloaded into the job's private
// directory, merged there by hivexregedit (a local command of the same script, `!`: the
// appliance stays up) and uploaded back. guestfish stops at the first failing command;
// nothing is committed then (safe mode). Secrets (the answer file's password, the
// SetupComplete script) live only in the planned files: argv and the script hold paths.
import * as path from 'node:path';
import { CUSTOMIZATIONS, FilePlanner, Params } from '../../shared/catalog/customizations';
import { Hive, HIVES, hivePrefix, RegistryEdit, renderReg } from '../../shared/catalog/windows/registry';
import type { WindowsStep } from '../../shared/catalog/windows/steps';
import { filePlanner, PlannedFile } from '../sysprep/argv';

export interface GuestfishInput {
  disks: { path: string; format: string }[];
  /** The VM's rendered params (secrets included). */
  params: Params;
  /** Private directory (0700) the planned files are written into. */
  filesDir: string;
  /** `-x`: every command echoed into the job log. */
  trace?: boolean;
  /** The hivexregedit executable. */
  hivexregedit?: string;
}

export interface GuestfishPlan {
  argv: string[];
  /** The script among them (first), then the entries' files. */
  files: PlannedFile[];
  /** The guest paths written and the hives edited, for the log. */
  writes: string[];
}

/** The Windows steps the params ask for, in catalog order (undefined: none). */
export function windowsSteps(params: Params, files: FilePlanner): WindowsStep[] {
  return CUSTOMIZATIONS.filter((c) => c.windows && c.key in params).flatMap((c) => c.windows!(params[c.key], files, params));
}

/** True when the params hold a Windows customisation. */
export const hasWindowsParams = (params: Params): boolean => CUSTOMIZATIONS.some((c) => c.windows && c.key in params);

// Our own paths only (the job directory, fixed guest paths): checked, never escaped.
const SAFE_PATH = /^\/[A-Za-z0-9_./-]+$/;
function safe(p: string): string {
  if (!SAFE_PATH.test(p) || p.includes('..')) throw new Error(`guestfish plan: unexpected path ${JSON.stringify(p)}`);
  return p;
}

export function buildGuestfishPlan(input: GuestfishInput): GuestfishPlan {
  if (input.disks.length === 0) throw new Error('buildGuestfishPlan: no disk');
  // `w` files: beside virt-sysprep's `f` files in the same job directory.
  const { planner, files } = filePlanner(input.filesDir, 'w');
  const script: PlannedFile = { path: path.join(input.filesDir, 'windows.guestfish'), content: '' };
  const steps = windowsSteps(input.params, planner);
  if (!steps.length) throw new Error('buildGuestfishPlan: no Windows customisation');

  const lines: string[] = [];
  const writes: string[] = [];
  const byHive = new Map<Hive, RegistryEdit[]>();
  for (const step of steps) {
    if ('upload' in step) {
      const guest = safe(step.upload.guest);
      lines.push(`mkdir-p ${path.posix.dirname(guest)}`, `upload ${safe(step.upload.local)} ${guest}`);
      writes.push(guest);
    } else {
      for (const e of step.registry) byHive.set(e.hive, [...(byHive.get(e.hive) ?? []), e]);
    }
  }
  const hivex = input.hivexregedit ?? 'hivexregedit';
  if (!/^[A-Za-z0-9_./-]+$/.test(hivex)) throw new Error(`guestfish plan: unexpected hivexregedit path ${JSON.stringify(hivex)}`);
  for (const [hive, edits] of byHive) {
    const local = safe(path.join(input.filesDir, `hive-${hive}`));
    const reg = safe(planner.file(renderReg(hive, edits)));
    lines.push(
      `download ${HIVES[hive]} ${local}`,
      // The prefix holds a backslash: single quotes keep it for the shell.
      `! ${hivex} --merge --prefix '${hivePrefix(hive)}' ${local} ${reg}`,
      `upload ${local} ${HIVES[hive]}`,
    );
    writes.push(`${hive} (${edits.length} value${edits.length === 1 ? '' : 's'})`);
  }
  // Flushes the writes before the appliance goes (guestfish's exit also does, this one reports errors).
  lines.push('umount-all', 'sync');
  script.content = `${lines.join('\n')}\n`;

  const argv = input.trace === false ? [] : ['-x'];
  for (const d of input.disks) argv.push(`--format=${d.format}`, '-a', d.path);
  argv.push('-i', '-f', script.path);
  return { argv, files: [script, ...files], writes };
}
