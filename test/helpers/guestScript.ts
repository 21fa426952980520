// Runs a generated guest script (virt-customize `--run` text) the way unit tests check it:
// with the host's real sh and busybox sh (the fixture guests' /bin/sh), against a
// temporary guest tree given as OVIRT_SYSPREP_ROOT, with a minimal PATH.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export const GUEST_SHELLS = ['/bin/sh', ...(existsSync('/bin/busybox') ? ['/bin/busybox sh'] : [])];

/** The script is written beside ROOT (never inside the tree it changes) and removed after. */
export function runGuestScript(shell: string, root: string, text: string, scriptArgs: string[] = []): { status: number | null; stdout: string; stderr: string } {
  const file = path.join(root, '..', `${path.basename(root)}.sh`);
  writeFileSync(file, text);
  const [cmd, ...args] = shell.split(' ');
  const r = spawnSync(cmd, [...args, file, ...scriptArgs], { env: { PATH: '/usr/bin:/bin', OVIRT_SYSPREP_ROOT: root }, encoding: 'utf8' });
  rmSync(file);
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/**
 * A temporary guest tree (path relative to the root -> content; a path ending in "/" is a
 * directory), removed by removeGuestTrees (call it in afterAll).
 */
export function makeGuestTree(prefix: string, tree: Readonly<Record<string, string>>): string {
  const root = mkdtempSync(path.join(os.tmpdir(), prefix));
  trees.push(root);
  for (const [p, content] of Object.entries(tree)) {
    const file = path.join(root, p);
    if (p.endsWith('/')) mkdirSync(file, { recursive: true });
    else {
      mkdirSync(path.dirname(file), { recursive: true });
      writeFileSync(file, content);
    }
  }
  return root;
}

const trees: string[] = [];
export function removeGuestTrees(): void {
  for (const r of trees.splice(0)) rmSync(r, { recursive: true, force: true });
}
