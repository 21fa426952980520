// Confines disk paths to the configured storage roots: absolute paths only, no `..`
// segments, realpath (so no symlink can lead out), regular files unless block devices
// are allowed. Returns the real path and the root that holds it.
import { realpathSync } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import * as path from 'node:path';
import { InputError, NotFoundError, PermissionError } from '../../shared/errors';

export interface ConfinedPath {
  real: string;
  root: string;
}

export class PathGuard {
  private readonly roots: string[];

  constructor(roots: string[], private readonly allowBlockDevices: boolean) {
    // Roots that do not exist on this host are ignored rather than fatal: a host may not
    // mount every storage domain.
    this.roots = roots.flatMap((r) => {
      try {
        return [realpathSync(r)];
      } catch {
        return [];
      }
    });
  }

  get storageRoots(): readonly string[] {
    return this.roots;
  }

  async confine(raw: string, field: string): Promise<ConfinedPath> {
    if (typeof raw !== 'string' || raw.length === 0) throw new InputError(field, 'is required');
    if (raw.includes('\0')) throw new InputError(field, 'contains a NUL byte');
    if (!path.isAbsolute(raw)) throw new InputError(field, `must be an absolute path, got ${JSON.stringify(raw)}`);
    if (raw.split('/').includes('..')) {
      throw new PermissionError('PATH_TRAVERSAL', `${field}: ".." is not allowed in disk paths (${raw})`, { field });
    }
    let real: string;
    try {
      real = await realpath(raw);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        throw new NotFoundError('DISK_NOT_FOUND', `${field}: no such disk: ${raw}`, { field, path: raw });
      }
      throw err;
    }
    const root = this.roots.find((r) => real === r || real.startsWith(r.endsWith('/') ? r : r + '/'));
    if (!root) {
      throw new PermissionError(
        'PATH_OUTSIDE_ROOTS',
        `${field}: ${raw}${real !== raw ? ` (resolves to ${real})` : ''} is outside the storage roots ${this.roots.join(', ')}`,
        { field, path: raw },
      );
    }
    const st = await stat(real);
    if (!st.isFile() && !(st.isBlockDevice() && this.allowBlockDevices)) {
      throw new InputError(field, `${raw} is not a regular file${this.allowBlockDevices ? ' or block device' : ''}`, 'NOT_A_DISK');
    }
    return { real, root };
  }
}
