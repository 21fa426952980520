// Pure argv builder for one virt-sysprep run (table-tested in test/unit/host-agent).
// Rules learned the hard way (design.md section 3): `--format` before each `-a`, an
// explicit `--operations` list, secrets and scripts only through 0600 files (the
// caller writes `files`), `--network` only when install/update need it, `-v -x` so the
// per-job log has the full trace, and no user value where a flag could be read.
import * as path from 'node:path';
import { CUSTOMIZATIONS, FilePlanner } from '../../shared/catalog/customizations';
import { ResolvedSpec } from '../../shared/spec';

export interface ArgvInput {
  disks: { path: string; format: string }[];
  spec: ResolvedSpec;
  dryRun: boolean;
  /** Private directory (0700) the planned files will be written into. */
  filesDir: string;
  /** `-v -x`: the full libguestfs trace in the job log (default true). */
  trace?: boolean;
}

export interface PlannedFile {
  path: string;
  content: string;
}

export interface ArgvPlan {
  argv: string[];
  files: PlannedFile[];
  network: boolean;
}

const FLAGS_WITHOUT_VALUE = new Set(['-v', '-x', '--network', '--no-network', '--dry-run', '--update']);

/** A planner of files named PREFIX0, PREFIX1, ... in `dir`, and the files it planned. */
export function filePlanner(dir: string, prefix: string): { planner: FilePlanner; files: PlannedFile[] } {
  const files: PlannedFile[] = [];
  const planner: FilePlanner = {
    file(content) {
      const p = path.join(dir, `${prefix}${files.length}`);
      files.push({ path: p, content });
      return p;
    },
  };
  return { planner, files };
}

export function buildArgv(input: ArgvInput): ArgvPlan {
  if (input.disks.length === 0) throw new Error('buildArgv: no disk');
  const { planner, files } = filePlanner(input.filesDir, 'f');
  const argv = input.trace === false ? [] : ['-v', '-x'];
  for (const d of input.disks) argv.push('--format', d.format, '-a', d.path);
  argv.push('--operations', input.spec.operations.join(','));
  let network = false;
  for (const c of CUSTOMIZATIONS) {
    if (!(c.key in input.spec.params)) continue;
    const args = c.toArgs(input.spec.params[c.key], planner);
    if (args.length && c.needsNetwork) network = true;
    argv.push(...args);
  }
  argv.push(network ? '--network' : '--no-network');
  if (input.dryRun) argv.push('--dry-run');
  assertNoValueReadAsFlag(argv);
  return { argv, files, network };
}

/** Every token after a value-taking flag is a value and must not look like a flag. */
export function assertNoValueReadAsFlag(argv: string[]): void {
  for (let i = 0; i < argv.length; i++) {
    const tok = argv[i];
    if (!tok.startsWith('-')) throw new Error(`argv: stray value ${JSON.stringify(tok)} at ${i}`);
    if (FLAGS_WITHOUT_VALUE.has(tok)) continue;
    const value = argv[++i];
    if (value === undefined || value.startsWith('-')) {
      throw new Error(`argv: the value of ${tok} would be read as an option: ${JSON.stringify(value)}`);
    }
  }
}
