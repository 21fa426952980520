// A task run at start and then every interval (retention on the engine and the agent),
// never twice at once: a pass that outlasts the interval makes the next tick a no-op.
// A failed pass is reported and the next interval tries again; stop() waits for a pass
// under way, so the caller can close what the task uses right after.
export class Periodic {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;

  constructor(
    private readonly task: () => Promise<void>,
    private readonly onError: (err: unknown) => void,
  ) {}

  start(intervalMs: number): void {
    if (this.timer) return;
    this.tick();
    this.timer = setInterval(() => this.tick(), intervalMs);
    this.timer.unref(); // never what keeps a process alive
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  private tick(): void {
    if (this.running) return;
    this.running = this.task()
      .catch(this.onError)
      .finally(() => (this.running = undefined));
  }
}
