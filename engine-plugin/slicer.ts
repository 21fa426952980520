// Long loops on the event loop (expanding a 5,000-VM pool, storing its children,
// queueing them) run in slices of a few milliseconds and give way to I/O in between,
// so an API request that comes meanwhile waits one slice, not the whole loop. Slices
// are measured in time, not items: an item's cost varies with the machine and its load.

/** The longest stretch a loop runs before it gives way, ms. */
export const SLICE_MS = 8;

const giveWay = () => new Promise<void>((resolve) => setImmediate(resolve));

export class Slicer {
  private started = performance.now();

  constructor(private readonly budgetMs = SLICE_MS) {}

  /** Whether this slice has had its time. */
  spent(): boolean {
    return performance.now() - this.started >= this.budgetMs;
  }

  /** Gives way to I/O if this slice has had its time; the next slice starts after. */
  async pause(): Promise<void> {
    if (!this.spent()) return;
    await giveWay();
    this.started = performance.now();
  }

  /**
   * Runs `each` over `items` slice by slice, each slice inside `wrap` (for example one
   * database transaction), giving way between slices. Every slice takes one item at least.
   */
  async forEach<T>(items: readonly T[], each: (item: T) => void, wrap: (slice: () => void) => void = (slice) => slice()): Promise<void> {
    let i = 0;
    while (i < items.length) {
      wrap(() => {
        do each(items[i++]);
        while (i < items.length && !this.spent());
      });
      if (i < items.length) await this.pause();
    }
  }
}
