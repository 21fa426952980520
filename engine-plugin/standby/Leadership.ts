// Which engine dispatches (docs/postgresql.md "Standby engine", decision 64). Engines that
// share one PostgreSQL database all serve the API; exactly one, the leader, dispatches
// jobs, follows the agents, resets new VMs and prunes old jobs. The leader is the holder of
// a PostgreSQL advisory lock, a session lock: the database drops it the moment the
// leader's connection ends (a crash, a SIGKILL, a lost machine once TCP notices), and a
// standby, which tries every second, takes it and runs what an engine runs at start
// (resume: reconcile every active job with its agent, queue the rest).
//
// The leader writes where it can be reached (table engine_leader: `advertise_url`): a
// standby forwards to it what changes state (standby/leaderProxy.ts). A leader that finds
// it no longer holds the lock stops the process, as does any engine whose connection to
// the database is lost (store/postgres.ts): its service manager starts it again.
//
// On SQLite there is one engine: it leads from the start.
import type { Db } from '../db';
import type { Logger } from '../logger';
import type { StopForRestart } from '../stopForRestart';

/** The advisory lock key of leadership (any number no other lock of the database uses). */
export const LEADER_LOCK = 0x6f767302;
/** How often a standby tries to lead, and a leader checks it still does. */
export const TRY_EVERY_MS = 1000;

export interface LeaderInfo {
  url: string;
  engine: string;
  since: string;
}

export class Leadership {
  private leading: boolean;
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly db: Db,
    private readonly log: Logger,
    /** This engine's name in engine_leader (host:pid). */
    private readonly engine: string,
    private readonly stopForRestart: StopForRestart,
  ) {
    this.leading = db.dialect.name === 'sqlite';
  }

  get isLeader(): boolean {
    return this.leading;
  }

  get role(): 'leader' | 'standby' {
    return this.leading ? 'leader' : 'standby';
  }

  /** Tries once now; true when this engine leads (always on SQLite). */
  tryNow(): boolean {
    if (this.leading) return true;
    this.leading = this.db.prepare('SELECT pg_try_advisory_lock(?) AS ok').get(LEADER_LOCK).ok === true;
    return this.leading;
  }

  /**
   * Records where the leader answers, and starts the timer: a standby tries to lead every
   * second and calls `onLead` once it does; a leader (PostgreSQL) checks it still holds
   * the lock.
   */
  start(advertiseUrl: string, onLead: () => Promise<void>): void {
    if (this.leading) this.record(advertiseUrl);
    if (this.db.dialect.name === 'sqlite') return;
    const tick = () => {
      try {
        if (this.leading) return this.check();
        if (!this.tryNow()) return;
        this.record(advertiseUrl);
        this.log.warn('this engine now leads: it dispatches the jobs the last leader left', { engine: this.engine });
        onLead().catch((err) => this.log.error('taking over failed', { error: (err as Error).message }));
      } catch (err) {
        this.log.error('leadership check failed', { error: (err as Error).message });
      }
    };
    this.timer = setInterval(tick, TRY_EVERY_MS).unref();
  }

  /** The leader as it recorded itself (a standby forwards to it). */
  leader(): LeaderInfo | undefined {
    return this.db.prepare('SELECT url, engine, since FROM engine_leader WHERE id = 1').get() as LeaderInfo | undefined;
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private record(url: string): void {
    this.db.prepare(`INSERT INTO engine_leader (id, url, engine, since) VALUES (1, ?, ?, ?)
                     ON CONFLICT (id) DO UPDATE SET url = excluded.url, engine = excluded.engine, since = excluded.since`)
      .run(url, this.engine, new Date().toISOString());
  }

  /** A leader whose session lost the lock stops: two dispatchers must never run at once. */
  private check(): void {
    const held = this.db.prepare(`SELECT count(*) AS n FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()
                                  AND granted AND ((classid::bigint << 32) | objid::bigint) = ?`).get(LEADER_LOCK).n;
    if (held > 0) return;
    this.stopForRestart('this engine no longer holds the leader lock (its database session was lost): stopping', { engine: this.engine });
  }
}
