// Parsers of guestfish's answers (pure, table-tested in test/unit/host-agent/guestfishOutput.test.ts).
import type { GuestUser__Output as GuestUser } from '../../shared/wire/ovirt_sysprep/v1/GuestUser';

/** inspect-get-mountpoints: "MOUNTPOINT: DEVICE" lines, shortest mountpoint first (mount order). */
export function parseMountpoints(out: string): { path: string; device: string }[] {
  return out.split('\n').flatMap((l) => {
    const m = /^(\/\S*): (\S+)$/.exec(l.trim());
    return m ? [{ path: m[1], device: m[2] }] : [];
  }).sort((a, b) => a.path.length - b.path.length || a.path.localeCompare(b.path));
}

/** statvfs: "key: value" lines -> total and free (available to users) bytes. */
export function parseStatvfs(out: string): { totalBytes: number; freeBytes: number } | undefined {
  const v = new Map(out.split('\n').map((l) => l.split(':').map((x) => x.trim()) as [string, string]));
  const frsize = Number(v.get('frsize') || v.get('bsize'));
  const blocks = Number(v.get('blocks'));
  const bavail = Number(v.get('bavail'));
  if (![frsize, blocks, bavail].every(Number.isFinite)) return undefined;
  return { totalBytes: frsize * blocks, freeBytes: frsize * bavail };
}

/** /etc/passwd -> its accounts (malformed lines skipped). */
export function parsePasswd(text: string): GuestUser[] {
  return text.split('\n').flatMap((l) => {
    const f = l.split(':');
    if (f.length < 7 || !f[0] || l.startsWith('#')) return [];
    const uid = Number(f[2]);
    return Number.isInteger(uid) && uid >= 0 ? [{ name: f[0], uid, home: f[5], shell: f[6].trim() }] : [];
  });
}

/** One name per line (ls, list-filesystems' devices, ...), empty lines dropped. */
export const lines = (out: string | undefined): string[] => (out ?? '').split('\n').map((l) => l.trim()).filter(Boolean);

/** Kernel versions from /boot's file names (vmlinuz-VERSION), else from /lib/modules' directory names. */
export function kernelVersions(boot: string[], modules: string[]): string[] {
  const fromBoot = boot.flatMap((n) => (/^vmlinu[xz]-(.+)$/.exec(n)?.[1] ?? [])).filter((v) => !v.includes('rescue'));
  return [...new Set(fromBoot.length ? fromBoot : modules)].sort();
}

/** list-filesystems: "DEVICE: TYPE" lines. */
export function parseFilesystems(out: string): { device: string; type: string }[] {
  return lines(out).flatMap((l) => {
    const m = /^(\S+): (\S+)$/.exec(l);
    return m ? [{ device: m[1], type: m[2] }] : [];
  });
}

/** guestfish's "true"/"false". */
export const isTrue = (out: string | undefined) => out === 'true';
