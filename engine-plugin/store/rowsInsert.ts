// INSERTs of many rows per statement: on PostgreSQL one round trip for up to ROWS rows
// instead of one per row (the job store's bulk children, the database copy). Statements are
// prepared once per number of rows (a full chunk, and the last shorter one).
import type { SqlDb, Statement } from './SqlDb';

/** Rows per statement: 50 rows of the widest table (jobs) stay far below either database's
 *  limit on parameters (SQLite 32,766, PostgreSQL 65,535). */
export const ROWS = 50;

/** `items` in chunks of `size`, in order. */
export function chunks<T>(items: readonly T[], size = ROWS): T[][] {
  return Array.from({ length: Math.ceil(items.length / size) }, (_, i) => items.slice(i * size, (i + 1) * size));
}

export class RowsInsert {
  private readonly statements = new Map<number, Statement>();

  constructor(
    private readonly db: SqlDb,
    private readonly table: string,
    private readonly columns: readonly string[],
  ) {}

  /** Inserts `rows` (each its values in column order), ROWS per statement; inside the caller's transaction. */
  run(rows: readonly (readonly unknown[])[]): void {
    for (const c of chunks(rows)) this.chunk(c);
  }

  /** One statement of up to ROWS rows. */
  chunk(rows: readonly (readonly unknown[])[]): void {
    let st = this.statements.get(rows.length);
    if (!st) {
      const row = `(${this.columns.map(() => '?').join(', ')})`;
      st = this.db.prepare(`INSERT INTO ${this.table} (${this.columns.join(', ')}) VALUES ${Array(rows.length).fill(row).join(', ')}`);
      this.statements.set(rows.length, st);
    }
    st.run(...rows.flat());
  }
}
