// The one session of a batch, shared by its members (executeBatch.ts). Each member has a
// seat: it joins with its overlays once it is ready, or leaves (it runs alone, failed,
// was cancelled). Protocol:
//  1. the session opens when every seat has joined or left: ONE appliance on the joined
//     members' overlays, in member order (seat index), never re-opened for a late one;
//  2. its plan answers each joined member: its roots' mounts, or why it runs alone;
//     a session that cannot open or plan rejects every joined member (they retry alone);
//  3. scripts run one at a time (one guestfish process answers one command at a time);
//  4. it closes once every joined member has left (scripts done, alone, cancelled):
//     `closed` resolves then, and only then may a member commit its overlays (the
//     appliance holds them open and locked) or an alone member start its own run.
import type { Logger } from '../../shared/logger';
import type { BatchMemberDisks, BatchSessionHandle, BatchSessions, MemberPlan, RootMounts, ScriptRun } from './ports';

export interface SeatEvents {
  /** The appliance starts booting (the member's phase). */
  launching(): void;
  /** The appliance is up (the guestfish pid when the session reports it). */
  opened(pid: number | undefined): void;
}

export interface Seat {
  join(member: BatchMemberDisks, events: SeatEvents): Promise<MemberPlan | { alone: string }>;
  /** Idempotent; before join it gives the seat up, after join it says the member is done with the session. */
  leave(): void;
  runScript(root: RootMounts, scriptPath: string, onLine: (line: string) => void, run?: ScriptRun): Promise<{ ok: true } | { ok: false; error: string }>;
}

interface Seated {
  index: number;
  member: BatchMemberDisks;
  events: SeatEvents;
  resolve(answer: MemberPlan | { alone: string }): void;
  reject(err: unknown): void;
}

export interface SharedSessionOptions {
  env(): Promise<NodeJS.ProcessEnv>;
  logPath: string;
  /** The session's own time limit (the longest of its members'; each member has its own too). */
  timeoutMs: number;
  logger: Logger;
}

export class SharedSession {
  readonly closed: Promise<void>;
  private resolveClosed!: () => void;
  private readonly state: ('waiting' | 'seated' | 'gone')[];
  private readonly seated = new Map<number, Seated>();
  private waiting: number;
  private active = 0;
  private launched = false;
  /** Open and planned (or failed): from then on it closes as soon as nobody is seated. */
  private settled = false;
  private closing = false;
  private session?: BatchSessionHandle;
  private turn: Promise<unknown> = Promise.resolve();
  private readonly abort = new AbortController();

  constructor(
    private readonly sessions: BatchSessions,
    seats: number,
    private readonly opts: SharedSessionOptions,
  ) {
    this.closed = new Promise((r) => (this.resolveClosed = r));
    this.state = new Array(seats).fill('waiting');
    this.waiting = seats;
  }

  seat(index: number): Seat {
    return {
      join: (member, events) =>
        new Promise((resolve, reject) => {
          if (this.state[index] !== 'waiting') return reject(new Error(`seat ${index} cannot join twice`));
          this.state[index] = 'seated';
          this.seated.set(index, { index, member, events, resolve, reject });
          this.waiting--;
          this.active++;
          this.maybeLaunch();
        }),
      leave: () => {
        const was = this.state[index];
        if (was === 'gone') return;
        this.state[index] = 'gone';
        if (was === 'waiting') {
          this.waiting--;
          this.maybeLaunch();
        } else {
          this.active--;
          this.maybeClose();
        }
      },
      runScript: (root, scriptPath, onLine, how) => {
        const session = this.session;
        if (!session) return Promise.resolve({ ok: false as const, error: 'the batch session is not open' });
        const run = this.turn.then(() => session.runScript(root, scriptPath, onLine, how));
        this.turn = run.catch(() => undefined);
        return run;
      },
    };
  }

  private maybeLaunch(): void {
    if (this.waiting > 0 || this.launched) return;
    this.launched = true;
    if (this.active === 0) {
      this.settled = true;
      this.maybeClose();
      return;
    }
    void this.launch();
  }

  private async launch(): Promise<void> {
    const seats = [...this.seated.values()].sort((a, b) => a.index - b.index);
    seats.forEach((s) => s.events.launching());
    try {
      this.session = await this.sessions.open({ members: seats.map((s) => s.member), env: await this.opts.env(), timeoutMs: this.opts.timeoutMs, logPath: this.opts.logPath, signal: this.abort.signal });
      seats.forEach((s) => s.events.opened(this.session!.pid));
      const plans = await this.session.plan();
      for (const s of seats) {
        const entry = plans.find((p) => p.key === s.member.key);
        s.resolve(entry?.plan ?? { alone: entry?.alone ?? 'the batch session did not plan this VM' });
      }
    } catch (err) {
      this.opts.logger.warn('batch session failed: its members run alone', { error: String(err) });
      seats.forEach((s) => s.reject(err));
    }
    this.settled = true;
    this.maybeClose();
  }

  private maybeClose(): void {
    if (this.active > 0 || this.closing) return;
    // Everybody left while the appliance was still booting: stop it.
    if (!this.settled) return this.abort.abort(new Error('every member of the batch left'));
    this.closing = true;
    const session = this.session;
    this.session = undefined;
    if (!session) return this.resolveClosed();
    this.turn
      .then(() => session.close())
      .catch((err) => this.opts.logger.error('batch session close failed', { error: String(err) }))
      .finally(() => this.resolveClosed());
  }
}
