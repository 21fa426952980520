// GuestfishSession's argv and protocol with a STAND-IN guestfish (a sh script that answers
// `echo` lines and prints its own arguments): --ro unless opened read-write, the transcript
// of commands and answers, and an aborted signal ending the session. The real tool is
// exercised by test/e2e/host-agent/batchSession.test.ts and the inspection e2e tests.
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { GuestfishError, GuestfishSession } from '../../../host-agent/inspection/GuestfishSession';

const FAKE = `#!/bin/sh
args="$*"
while IFS= read -r line; do
  case "$line" in
    "echo "*) echo "\${line#echo }" ;;
    -args) echo "$args" ;;
    -hang) sleep 30 ;;
    exit) exit 0 ;;
  esac
done
`;

describe('GuestfishSession (stand-in guestfish)', () => {
  let dir: string;
  let bin: string;
  const disks = [{ path: '/images/a.qcow2', format: 'qcow2' }, { path: '/images/b.raw', format: 'raw' }];
  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'fake-guestfish-'));
    bin = path.join(dir, 'guestfish');
    writeFileSync(bin, FAKE);
    chmodSync(bin, 0o755);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each([
    [{}, '--ro --format=qcow2 -a /images/a.qcow2 --format=raw -a /images/b.raw'],
    [{ readWrite: true }, '--format=qcow2 -a /images/a.qcow2 --format=raw -a /images/b.raw'],
  ])('argv with %j, transcript of every command and answer', async (opts, args) => {
    const transcript: string[] = [];
    const g = await GuestfishSession.open(bin, disks, process.env, 10_000, { ...opts, transcript: (t) => transcript.push(t) });
    expect(await g.call('args')).toEqual({ answer: args });
    await g.close();
    expect(transcript).toEqual([`$ ${bin} ${args}`, '> run', '> args', args, '> exit']);
  });

  it('an aborted signal kills the group: the pending call throws, the session is no longer alive', async () => {
    const abort = new AbortController();
    const g = await GuestfishSession.open(bin, disks, process.env, 10_000, { signal: abort.signal });
    const pending = g.call('hang');
    abort.abort();
    await expect(pending).rejects.toBeInstanceOf(GuestfishError);
    expect(g.alive).toBe(false);
    await expect(g.call('args')).rejects.toBeInstanceOf(GuestfishError);
    await g.close();
  });
});
