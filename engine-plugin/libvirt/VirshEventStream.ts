// One long-lived `virsh event --loop` child per libvirt daemon (virshEvents.ts builds its
// argv and parses its lines). Protocol:
//  1. spawn through shared/tools/exec.ts spawnGroup (argv array, no shell, own process
//     group); each complete stdout line that parses is handed to the listener;
//  2. the child dies (libvirtd restarted, connection lost, virsh missing): logged, and
//     spawned again after a back-off that doubles from 1 s up to 30 s; a child that
//     delivered an event or lived a minute resets the back-off;
//  3. after each spawn the `onSpawn` listener runs (LibvirtEventWatcher looks for the
//     domains defined while no child ran: libvirt keeps no event history);
//  4. stop(): no more restarts, the group gets SIGTERM (SIGKILL after 2 s) and stop()
//     resolves once the child is gone, so nothing outlives the engine (or a test).
import { spawnGroup } from '../../shared/tools/exec';
import type { Logger } from '../logger';
import { eventArgv, LifecycleEvent, parseLifecycleEvent } from './virshEvents';

const MIN_BACKOFF_MS = 1000;
const MAX_BACKOFF_MS = 30_000;
const HEALTHY_MS = 60_000;

export class VirshEventStream {
  private stopped = true;
  private abort?: AbortController;
  private exited?: Promise<unknown>;
  private timer?: NodeJS.Timeout;
  private backoffMs = MIN_BACKOFF_MS;
  /** Children spawned so far (tests, status). */
  spawns = 0;

  constructor(
    readonly uri: string,
    private readonly listener: { onEvent(e: LifecycleEvent): void; onSpawn?(): void },
    private readonly log: Logger,
    private readonly bin = 'virsh',
  ) {}

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.spawn();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.abort?.abort();
    await this.exited;
  }

  private spawn(): void {
    if (this.stopped) return;
    this.spawns++;
    const abort = new AbortController();
    this.abort = abort;
    const startedAt = Date.now();
    const child = spawnGroup(this.bin, eventArgv(this.uri), { signal: abort.signal, killGraceMs: 2000 });
    let rest = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      const lines = (rest + chunk.toString('utf8')).split('\n');
      rest = lines.pop() ?? '';
      for (const line of lines) {
        const e = parseLifecycleEvent(line);
        if (!e) continue;
        this.backoffMs = MIN_BACKOFF_MS;
        try {
          this.listener.onEvent(e);
        } catch (err) {
          this.log.warn('libvirt event listener failed', { uri: this.uri, error: (err as Error).message });
        }
      }
    });
    child.stderr.on('data', (chunk: Buffer) => {
      if (stderr.length < 4096) stderr += chunk.toString('utf8');
    });
    this.listener.onSpawn?.();
    this.exited = child.exited.then((exit) => {
      if (this.stopped) return;
      if (Date.now() - startedAt >= HEALTHY_MS) this.backoffMs = MIN_BACKOFF_MS;
      const delay = this.backoffMs;
      this.backoffMs = Math.min(this.backoffMs * 2, MAX_BACKOFF_MS);
      this.log.warn('libvirt event stream ended: restarting', {
        uri: this.uri,
        code: exit.code,
        error: (exit.spawnError?.message ?? stderr.trim().split('\n').slice(-2).join(' | ')) || undefined,
        retryInMs: delay,
      });
      this.timer = setTimeout(() => this.spawn(), delay);
    });
  }
}
