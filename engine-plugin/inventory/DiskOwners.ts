// Which VM or template each disk belongs to, in the embedded database: table disk_owners
// (db.ts), one row per resolved disk path, the path unique. Without it an import could
// name a template's disk (a sysprep of that "VM" would then rewrite the backing file of
// the template's clones under them) or another VM's disk (two VMs, one disk). The rows
// are written in the same transaction as the VM or template row that owns them; the
// check and the write run with no await in between, so no second request slips through.
import { ConflictError } from '../../shared/errors';
import { Db, sql } from '../db';

export interface DiskOwner {
  type: 'vm' | 'template';
  id: string;
  name: string;
}

/** Who owns `path` (a resolved path), if anyone. */
export function diskOwner(db: Db, path: string): DiskOwner | undefined {
  return sql(db, `SELECT CASE WHEN o.vm_id IS NULL THEN 'template' ELSE 'vm' END AS type,
                         coalesce(o.vm_id, o.template_id) AS id, coalesce(v.name, t.name) AS name
                    FROM disk_owners o LEFT JOIN vms v ON v.id = o.vm_id LEFT JOIN templates t ON t.id = o.template_id
                   WHERE o.path = ?`).get(path) as DiskOwner | undefined;
}

/**
 * Refuses (409 DISK_OWNED, naming the field and the owner) the first disk that belongs
 * to someone; `fields[i]` names `paths[i]` in the request. `except` may own them.
 */
export function assertDisksFree(db: Db, paths: string[], fields: string[], except?: { type: DiskOwner['type']; id: string }): void {
  paths.forEach((p, i) => {
    const owner = diskOwner(db, p);
    if (!owner || (except && owner.type === except.type && owner.id === except.id)) return;
    throw new ConflictError('DISK_OWNED', `${fields[i]}: disk ${p} already belongs to ${owner.type} "${owner.name}"`, { field: fields[i], disk: p, owner });
  });
}

/** Records `owner` as the owner of `paths`; call inside the transaction that inserts the owner's row. */
export function claimDisks(db: Db, paths: string[], owner: { type: DiskOwner['type']; id: string }): void {
  const insert = sql(db, 'INSERT INTO disk_owners (path, vm_id, template_id) VALUES (?, ?, ?)');
  for (const p of paths) insert.run(p, owner.type === 'vm' ? owner.id : null, owner.type === 'template' ? owner.id : null);
}
