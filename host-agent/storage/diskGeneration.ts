// A disk's generation: what changes whenever its content may have changed, without
// reading it (a checksum of a 20 GiB image costs minutes). "size:mtime_ns:inode:dev" of
// the real path: every write through qemu or a tool moves mtime (nanoseconds on ext4/xfs),
// a commit that replaces the file (rename) changes the inode, a resize the size; a file
// restored with its old mtime (cp -p, rsync -t) still gets a new inode. Block devices get
// "" (their node's mtime says nothing about the data): the engine never trusts a cache
// on them. docs/inspection.md has the decision.
import { stat } from 'node:fs/promises';

export async function diskGeneration(realPath: string): Promise<string> {
  const s = await stat(realPath, { bigint: true });
  if (!s.isFile()) return '';
  return `${s.size}:${s.mtimeNs}:${s.ino}:${s.dev}`;
}
