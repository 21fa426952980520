// Gathering of batch members (issue 16): the StartSysprep requests that carry one batch
// id are collected until `size` of them have arrived (a refused request counts: its
// batch must not wait for it) or GATHER_MS after the first arrived, whichever comes
// first; then the batch is handed over (onReady) to be scheduled as ONE queue entry.
//
// A request that names a known batch with another size is refused (batch.size), and so
// is one beyond the batch's size. A member arriving after its batch was handed over
// (the 5 s passed) is not lost: it runs alone ('late').
import { InputError } from '../../shared/errors';
import type { BatchRef } from './validateStart';

export const GATHER_MS = 5_000;
/** Batch ids remembered after their hand-over (to recognise late members and reused ids). */
const REMEMBERED = 10_000;

interface Group<M> {
  size: number;
  arrived: number;
  members: M[];
  timer?: NodeJS.Timeout;
  handedOver: boolean;
}

export class BatchGroups<M> {
  private readonly groups = new Map<string, Group<M>>();

  constructor(
    private readonly onReady: (batchId: string, members: M[]) => void,
    private readonly gatherMs = GATHER_MS,
  ) {}

  /** Before the request is validated: refuses a reference that contradicts its batch. */
  check(ref: BatchRef): void {
    const g = this.groups.get(ref.id);
    if (!g) return;
    if (g.size !== ref.size) throw new InputError('batch.size', `batch ${JSON.stringify(ref.id)} has size ${g.size} on this agent, not ${ref.size}`);
    if (g.arrived >= g.size) throw new InputError('batch.size', `batch ${JSON.stringify(ref.id)} already has its ${g.size} members`);
  }

  /**
   * A request of the batch was validated: `member` when accepted, undefined when refused
   * (it counts all the same). 'late' when the batch was already handed over: the caller
   * runs that member alone.
   */
  arrive(ref: BatchRef, member?: M): 'joined' | 'late' {
    this.check(ref);
    let g = this.groups.get(ref.id);
    if (!g) {
      g = { size: ref.size, arrived: 0, members: [], handedOver: false };
      this.remember(ref.id, g);
      g.timer = setTimeout(() => this.handOver(ref.id), this.gatherMs);
      g.timer.unref?.();
    }
    g.arrived++;
    if (g.handedOver) return 'late';
    if (member !== undefined) g.members.push(member);
    if (g.arrived >= g.size) this.handOver(ref.id);
    return 'joined';
  }

  /** Agent shutdown: no batch is handed over any more (its members stay PENDING, as queued jobs do). */
  stop(): void {
    for (const g of this.groups.values()) {
      clearTimeout(g.timer);
      g.handedOver = true;
    }
  }

  private handOver(id: string): void {
    const g = this.groups.get(id);
    if (!g || g.handedOver) return;
    clearTimeout(g.timer);
    g.handedOver = true;
    const members = g.members;
    g.members = [];
    if (members.length) this.onReady(id, members);
  }

  private remember(id: string, g: Group<M>): void {
    this.groups.set(id, g);
    if (this.groups.size <= REMEMBERED) return;
    for (const [old, og] of this.groups) {
      if (!og.handedOver) continue;
      this.groups.delete(old);
      break;
    }
  }
}
