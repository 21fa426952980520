// One guestfish process driven command by command over its stdin: ONE appliance launch
// for a whole inspection, where each next command depends on what the previous ones
// answered (the root inspect-os names, the mountpoints it reports). Steps:
//  1. spawn `stdbuf -oL guestfish --ro [--format=F -a DISK]...` in its own process group
//     (stdbuf: guestfish's stdout is a pipe, fully buffered otherwise, and the answers
//     must arrive as each command ends);
//  2. each command is sent prefixed with "-" (guestfish then goes on after an error
//     instead of exiting: an optional probe that fails answers undefined) and followed
//     by `echo <sentinel>`; its answer is the stdout before the sentinel, and a failure
//     shows on stderr, read between the two;
//  3. close() sends `exit`; the group is killed on timeout or when the session ends
//     abnormally, so no appliance outlives the call.
// Read-only (--ro) unless the caller opens it read-write (the batch session, which writes
// to overlays): then the caller decides what is mounted where.
import { spawnGroup, SpawnedGroup } from '../../shared/tools/exec';

export class GuestfishError extends Error {}

export interface GuestfishOptions {
  /** Without --ro: the disks are written (only ever overlays). Default false. */
  readWrite?: boolean;
  /** Aborting kills the group (the appliance with it); the session then answers errors. */
  signal?: AbortSignal;
  /** Every command sent and every answer, as text lines (a session log). */
  transcript?: (text: string) => void;
}

export class GuestfishSession {
  private out = '';
  private err = '';
  private seq = 0;
  private waiter?: () => void;
  private ended = false;

  private constructor(private readonly proc: SpawnedGroup, private readonly pid: number, private readonly transcript?: (text: string) => void) {
    proc.stdout.on('data', (c: Buffer) => { this.out += c.toString('utf8'); this.waiter?.(); });
    proc.stderr.on('data', (c: Buffer) => { this.err += c.toString('utf8'); });
    void proc.exited.then(() => { this.ended = true; this.waiter?.(); });
  }

  /** Starts guestfish on the disks (read-only unless told) and launches the appliance (`run`). */
  static async open(bin: string, disks: { path: string; format: string }[], env: NodeJS.ProcessEnv, timeoutMs: number, opts: GuestfishOptions = {}): Promise<GuestfishSession> {
    const args = ['-oL', bin, ...(opts.readWrite ? [] : ['--ro']), ...disks.flatMap((d) => [`--format=${d.format}`, '-a', d.path])];
    const proc = spawnGroup('stdbuf', args, { env, timeoutMs, openStdin: true, killGraceMs: 2000, signal: opts.signal });
    if (proc.pid === undefined) {
      const exit = await proc.exited;
      throw new GuestfishError(`cannot start ${bin}: ${exit.spawnError?.message}`);
    }
    opts.transcript?.(`$ ${bin} ${args.slice(2).join(' ')}`);
    const s = new GuestfishSession(proc, proc.pid, opts.transcript);
    const launched = await s.call('run');
    if (launched.error) {
      await s.close(); // guestfish goes on after a failed command: without this it would wait for its timeout
      throw new GuestfishError(`the libguestfs appliance did not start: ${launched.error}`);
    }
    return s;
  }

  /** One command; `answer` is its stdout (trimmed), `error` what it printed on stderr when it failed. */
  async call(...argv: string[]): Promise<{ answer: string; error?: string }> {
    const mark = `@@ovirt-sysprep-${++this.seq}@@`;
    this.err = '';
    const command = argv.map(quote).join(' ');
    this.transcript?.(`> ${command}`);
    if (!this.ended) this.proc.stdin!.write(`-${command}\necho ${mark}\n`);
    for (;;) {
      const at = this.out.indexOf(`${mark}\n`);
      if (at >= 0) {
        const answer = this.out.slice(0, at).trim();
        this.out = this.out.slice(at + mark.length + 1);
        const error = this.err.trim();
        if (answer) this.transcript?.(answer);
        if (error) this.transcript?.(`! ${error}`);
        return error ? { answer, error } : { answer };
      }
      if (this.ended) {
        const why = `guestfish ended during "${argv[0]}": ${this.err.trim().split('\n').slice(-3).join(' | ')}`;
        this.transcript?.(`! ${why}`);
        throw new GuestfishError(why);
      }
      await new Promise<void>((resolve) => (this.waiter = resolve));
    }
  }

  /** The answer, or undefined when the command failed (an optional probe). */
  async get(...argv: string[]): Promise<string | undefined> {
    const r = await this.call(...argv);
    return r.error ? undefined : r.answer;
  }

  /** False once guestfish exited (killed, timed out, crashed): every call then throws. */
  get alive(): boolean {
    return !this.ended;
  }

  /** Ends guestfish (the appliance shuts down); kills the group if it does not exit. */
  async close(): Promise<void> {
    this.transcript?.('> exit');
    if (!this.ended) this.proc.stdin!.end('exit\n');
    const t = setTimeout(() => { try { process.kill(-this.pid, 'SIGKILL'); } catch { /* gone */ } }, 30_000);
    await this.proc.exited;
    clearTimeout(t);
  }
}

/** guestfish's double-quoted word: backslash and quote escaped. */
function quote(s: string): string {
  return /^[A-Za-z0-9_\-/.:=,]+$/.test(s) ? s : `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}
