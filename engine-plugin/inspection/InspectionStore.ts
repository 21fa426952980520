// The inspection cache in engine.db (migration "inspections"): the last inspection of
// each VM and template, keyed by `vm:ID` / `template:ID`; a new one replaces it. Whether
// it still holds is decided by its disks' generations (Inspection.ts stillValid).
import { inject, injectable } from 'tsyringe';
import { Db, sql } from '../db';
import type { Inspection } from './Inspection';

@injectable()
export class InspectionStore {
  constructor(@inject(Db) private readonly db: Db) {}

  get(key: string): Inspection | undefined {
    const row = sql(this.db, 'SELECT result FROM inspections WHERE target_key = ?').get(key) as { result: string } | undefined;
    return row ? JSON.parse(row.result) : undefined;
  }

  put(key: string, inspection: Inspection): void {
    sql(this.db, `INSERT INTO inspections (target_key, job_id, inspected_at, result) VALUES (?, ?, ?, ?)
                 ON CONFLICT (target_key) DO UPDATE SET job_id = excluded.job_id, inspected_at = excluded.inspected_at, result = excluded.result`)
      .run(key, inspection.jobId, inspection.inspectedAt, JSON.stringify(inspection));
  }
}
