// The event child's life: lines handed over as they come (also split across chunks), a
// child that dies is spawned again after the back-off, stop() kills the group and waits
// for it (jest would report the child as an open handle otherwise). A stand-in script takes
// virsh's place: it only prints what a real `virsh event` prints (virshEvents.test.ts).
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { VirshEventStream } from '../../../engine-plugin/libvirt/VirshEventStream';
import type { LifecycleEvent } from '../../../engine-plugin/libvirt/virshEvents';
import { createLogger } from '../../../shared/logger';

const log = createLogger({ service: 'test', silent: true });

describe('VirshEventStream', () => {
  let dir: string;
  const script = (name: string, body: string) => {
    const file = path.join(dir, name);
    writeFileSync(file, `#!/bin/sh\n${body}\n`);
    chmodSync(file, 0o755);
    return file;
  };
  const until = async (cond: () => boolean, ms = 10_000) => {
    const end = Date.now() + ms;
    while (!cond()) {
      if (Date.now() > end) throw new Error('timed out');
      await new Promise((r) => setTimeout(r, 20));
    }
  };

  beforeAll(() => (dir = mkdtempSync(path.join(os.tmpdir(), 'virsh-events-'))));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('hands over each event line, split or not, and keeps the child running until stop()', async () => {
    const bin = script('virsh-long', [
      `printf "event 'lifecycle' for domain 'a': Defined Added\\nevent 'lifecycle' for domain 'a': Sta"`,
      'sleep 0.2',
      `printf "rted Booted\\n"`,
      'exec sleep 600',
    ].join('\n'));
    const events: LifecycleEvent[] = [];
    const stream = new VirshEventStream('qemu:///system', { onEvent: (e) => events.push(e) }, log, bin);
    stream.start();
    await until(() => events.length === 2);
    expect(events).toEqual([{ domain: 'a', event: 'Defined', detail: 'Added' }, { domain: 'a', event: 'Started', detail: 'Booted' }]);
    const t = Date.now();
    await stream.stop();
    expect(Date.now() - t).toBeLessThan(5000);
    expect(stream.spawns).toBe(1);
  });

  it('spawns a child that died again after the back-off (1 s, then 2 s)', async () => {
    const bin = script('virsh-dies', `echo "event 'lifecycle' for domain 'b': Undefined Removed"; echo 'error: Disconnected from qemu:///system due to end of file' >&2; exit 1`);
    const events: LifecycleEvent[] = [];
    const stream = new VirshEventStream('qemu:///system', { onEvent: (e) => events.push(e) }, log, bin);
    const t = Date.now();
    stream.start();
    await until(() => stream.spawns === 2);
    expect(Date.now() - t).toBeGreaterThanOrEqual(900);
    await until(() => events.length === 2);
    await stream.stop();
    const spawns = stream.spawns;
    await new Promise((r) => setTimeout(r, 1500));
    expect(stream.spawns).toBe(spawns); // nothing restarts after stop()
  });

  it('survives a missing binary (logged, retried) and stops cleanly', async () => {
    const stream = new VirshEventStream('qemu:///system', { onEvent: () => undefined }, log, path.join(dir, 'no-such-virsh'));
    stream.start();
    await new Promise((r) => setTimeout(r, 100));
    await stream.stop();
    expect(stream.spawns).toBe(1);
  });
});
