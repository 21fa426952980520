// `ovirt-sysprep-agent compare`: the equivalence check for users. Reads the two VMs'
// trees in parallel (two appliances), prints the differences; exit 0 equal, 1 different,
// 2 bad usage or a disk that cannot be read.
import { QemuImg } from '../../shared/tools/qemuImg';
import { compareTrees, Difference, readTree, TreeEntry } from './equivalence';

export interface CompareOptions {
  a: string[];
  b: string[];
  format?: string;
  json?: boolean;
  guestfish: string;
  qemuImg: string;
  timeoutMs: number;
}

export const COMPARE_EXIT = { equal: 0, different: 1, usage: 2 } as const;

export async function compareCommand(o: CompareOptions, out: (s: string) => void): Promise<number> {
  if (o.a.length === 0 || o.b.length === 0) throw new UsageError('give the disks of both VMs: --a DISK [--a DISK] --b DISK [--b DISK]');
  if (!(o.timeoutMs > 0)) throw new UsageError('--timeout: a number of seconds greater than 0');
  const qemuImg = new QemuImg(o.qemuImg);
  // Read-only probe (-U): the image's own format unless --format says it. Every disk is
  // probed, in order, before any appliance starts, so an unreadable disk is named the
  // same way every time and costs nothing.
  const probe = async (flag: string, paths: string[]) => {
    const out: { path: string; format: string }[] = [];
    for (const p of paths) {
      try {
        out.push({ path: p, format: o.format ?? (await qemuImg.info(p, { shared: true })).format });
      } catch (err) {
        throw new Error(`${flag} ${p}: cannot be read: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    return out;
  };
  const da = await probe('--a', o.a);
  const db = await probe('--b', o.b);
  const read = async (disks: { path: string; format: string }[]): Promise<TreeEntry[]> =>
    readTree({ bin: o.guestfish, disks, env: process.env, timeoutMs: o.timeoutMs });
  const started = Date.now();
  const [ta, tb] = await Promise.all([read(da), read(db)]);
  const diffs = compareTrees(ta, tb);
  if (o.json) {
    out(JSON.stringify({ equal: diffs.length === 0, entries: { a: ta.length, b: tb.length }, differences: diffs, seconds: (Date.now() - started) / 1000 }) + '\n');
  } else {
    out(diffs.map((d: Difference) => `${d.path}: ${d.what}\n`).join(''));
    out(diffs.length === 0
      ? `equal: ${ta.length} entries (random-by-design values compared by form, timestamps not compared)\n`
      : `${diffs.length} difference(s) between a (${ta.length} entries) and b (${tb.length} entries)\n`);
  }
  return diffs.length === 0 ? COMPARE_EXIT.equal : COMPARE_EXIT.different;
}

export class UsageError extends Error {}
