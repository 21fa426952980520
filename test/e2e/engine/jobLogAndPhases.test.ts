// Issue 11's job log, phases and steps over the whole stack with REAL virt-sysprep (TCG):
// a host agent, the engine over real HTTP, the built CLI. Two real runs at once:
//  * a VM syspreped with a root password, followed live three ways (the engine's SSE, the
//    CLI on a pipe, the CLI on a terminal): the phases queued -> preparing ->
//    starting-appliance -> operations -> committing are seen, the appliance's start ends
//    on the tool's trace (before the first operation), and its log comes through the
//    engine and the CLI with the password nowhere in it;
//  * a VM whose script fails: the job fails TOOL_FAILED, its last step ends failed (no
//    step stays running), and its log shows the tool's error but not the script.
import { chmodSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { clientFor } from '../../helpers/agentHarness';
import { copyGuestImage } from '../../helpers/guestImage';
import { assertCliBuilt, runCli } from '../cli/runCli';
import { ADMIN, Stack, startStack, VIEWER } from './stack';

jest.setTimeout(20 * 60_000);

const ROOT_PASSWORD = 'joblog-e2e-Root-pw-4c9';
const SCRIPT_MARK = 'joblog-e2e-script-line-7f3a';
const SCRIPT = `#!/bin/sh\n# ${SCRIPT_MARK}\nexit 3\n`;

/** Strips terminal control sequences (cli-progress redraws) from pty output. */
const plain = (s: string) => s.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '').replace(/\r\n/g, '\n').replace(/\r/g, '\n');

/** The SSE events of a job until the engine ends the stream (after the final state). */
async function sseEvents(url: string, id: string): Promise<{ type: string; data: any }[]> {
  const res = await fetch(`${url}/api/v1/jobs/${id}/events`, { headers: { authorization: `Bearer ${VIEWER}` } });
  const text = await res.text();
  return [...text.matchAll(/event: (\w+)\ndata: (.*)\n/g)].map((m) => ({ type: m[1], data: JSON.parse(m[2]) }));
}

/** The phases in the order they came, each once. */
const sequence = (phases: (string | undefined)[]) => phases.filter((p, i) => p !== phases[i - 1]);

async function getLog(s: Stack, id: string): Promise<{ status: number; type: string | null; text: string }> {
  const res = await fetch(`${s.url}/api/v1/jobs/${id}/log`, { headers: { authorization: `Bearer ${VIEWER}` } });
  return { status: res.status, type: res.headers.get('content-type'), text: await res.text() };
}

describe('job log, phases and steps with real virt-sysprep', () => {
  let s: Stack;
  let env: NodeJS.ProcessEnv;
  let pwFile: string;

  beforeAll(async () => {
    await assertCliBuilt();
    s = await startStack({ maxJobs: 2 });
    const tplDisk = path.join(s.storage, 'class.qcow2');
    await copyGuestImage(tplDisk);
    expect((await s.api('POST', '/templates', { name: 'class', disks: [{ path: tplDisk }] })).status).toBe(201);
    for (const name of ['good', 'bad']) expect((await s.api('POST', '/vms', { name, template: 'class' })).status).toBe(201);
    pwFile = path.join(s.dir, 'root.pw');
    writeFileSync(pwFile, `${ROOT_PASSWORD}\n`);
    chmodSync(pwFile, 0o600);
    env = { PATH: process.env.PATH, HOME: s.dir, OVIRT_SYSPREP_URL: s.url, OVIRT_SYSPREP_TOKEN: ADMIN };
  });
  afterAll(() => s?.close());

  let good: any;
  let bad: any;

  it('shows the phases live (SSE, CLI lines, CLI bars) and ends a failing job with its step failed', async () => {
    const submit = async (vm: string, body: object) => {
      const r = await s.api('POST', `/vms/${vm}/sysprep`, body);
      expect(r.status).toBe(202);
      return r.body.job;
    };
    const goodJob = await submit('good', { operations: { only: ['machine-id'] }, params: { hostname: 'good-one', rootPassword: { value: ROOT_PASSWORD } } });
    const badJob = await submit('bad', { operations: { only: ['machine-id'] }, params: { scripts: [SCRIPT] } });
    expect(goodJob.progress).toMatchObject({ phase: 'queued', phaseSince: goodJob.createdAt });

    const [events, lines, tty] = await Promise.all([
      sseEvents(s.url, goodJob.id),
      runCli(['job', 'watch', goodJob.id], env),
      runCli(['job', 'watch', goodJob.id], env, { pty: true }),
    ]);
    good = await s.waitJob(goodJob.id);
    bad = await s.waitJob(badJob.id);
    expect(good).toMatchObject({ state: 'succeeded', steps: [{ operation: 'machine-id', state: 'done' }, { operation: 'customize', state: 'done' }] });
    expect(good.progress.phase).toBeUndefined();

    // SSE: the snapshot and every event carry the phase; the stream ends on the final state.
    const phases = sequence(events.map((e) => e.data.progress?.phase));
    expect(phases).toEqual(['queued', 'preparing', 'starting-appliance', 'operations', 'committing', undefined]);
    const firstOperation = events.findIndex((e) => e.type === 'operation');
    const applianceUp = events.findIndex((e) => e.data.progress?.phase === 'operations');
    // The trace said the appliance was up before virt-sysprep performed anything.
    expect(applianceUp).toBeGreaterThan(0);
    expect(applianceUp).toBeLessThan(firstOperation);
    expect(events[applianceUp].type).toBe('state');
    expect(events.at(-1)).toMatchObject({ type: 'state', data: { state: 'succeeded' } });

    // The agent's own events, replayed: the same phases, each move its own "phase" event.
    const agent = clientFor(s.agent.address, s.pki);
    try {
      const agentEvents = [];
      for await (const e of agent.watchJob(goodJob.id)) agentEvents.push(e);
      expect(sequence(agentEvents.map((e) => e.progress?.phase))).toEqual(['queued', 'preparing', 'starting-appliance', 'operations', 'committing', '']);
      expect(agentEvents.filter((e) => e.type === 'phase').map((e) => e.progress?.phase)).toEqual(['starting-appliance', 'operations', 'committing']);
    } finally {
      agent.close();
    }

    // CLI on a pipe: a line per phase with how long the one before took. The CLI starts
    // while the job runs: on a loaded machine its first snapshot may come after
    // "preparing", and then it tells the phase it finds without a duration.
    expect(lines.code).toBe(0);
    const out = lines.out.trim().split('\n').map((l) => l.replace(/^\d\d:\d\d:\d\d /, ''));
    const at = (re: RegExp) => out.findIndex((l) => re.test(l));
    const order = [/^good starting appliance( \(preparing disks took \d+ s\))?$/, /^good running operations \(starting appliance took \d+ s\)$/, /^good \[1\/2\] machine-id$/, /^good committing \(running operations took \d+ s\)$/, /^good succeeded/];
    const found = order.map(at);
    expect({ out, found }).toEqual({ out, found: [...found].sort((a, b) => a - b) });
    expect({ out, found }).toEqual({ out, found: expect.not.arrayContaining([-1]) });
    const preparing = at(/^good preparing disks$/);
    if (preparing >= 0) expect(preparing).toBeLessThan(found[0]);

    // CLI on a terminal: the bar says which phase and for how long while nothing is done.
    expect(tty.code).toBe(0);
    const screen = plain(tty.out);
    expect(screen).toMatch(/good +░{30} +0% 0\/2 starting appliance \d+ s/);
    // ... counted every second while the appliance boots (tens of seconds under TCG).
    const counted = new Set([...screen.matchAll(/starting appliance (\d+) s/g)].map((m) => m[1]));
    expect(counted.size).toBeGreaterThanOrEqual(3);

    // The failing job: its script's step failed, none is left running, and why is in its error.
    expect(bad).toMatchObject({ state: 'failed', error: { code: 'TOOL_FAILED' } });
    expect(bad.steps).toEqual([expect.objectContaining({ operation: 'machine-id', state: 'done' }), expect.objectContaining({ operation: 'customize', state: 'failed' })]);
    expect(bad.progress.phase).toBeUndefined();
    const shown = await runCli(['job', 'show', bad.id], env);
    expect(shown.out).toMatch(/steps: machine-id, customize \(failed\)/);
  });

  it('streams each log through the engine and the CLI, the password and the script nowhere in it', async () => {
    const log = await getLog(s, good.id);
    expect(log.status).toBe(200);
    expect(log.type).toBe('text/plain; charset=utf-8');
    expect(log.text).toMatch(/^# virt-sysprep -v -x /);
    expect(log.text).toContain('libguestfs: appliance is up');
    expect(log.text).toContain('Performing "machine-id" ...');
    expect(log.text).toMatch(/\n# exit 0\n$/);
    expect(log.text).not.toContain(ROOT_PASSWORD);
    // The new hash is as good as the password to an offline guesser: cut too.
    expect(log.text).not.toMatch(/aug_set "[^"]*shadow[^"]*" "\$/);

    const cli = await runCli(['job', 'log', good.id], env);
    expect(cli).toMatchObject({ code: 0, err: '' });
    expect(cli.out).toBe(log.text);

    const failed = await getLog(s, bad.id);
    expect(failed.status).toBe(200);
    expect(failed.text).toMatch(/virt-sysprep: error: .*command exited with an error/);
    expect(failed.text).not.toContain(SCRIPT_MARK);

    // The agent's own GetJobLog: the same bytes; a job it does not have is NOT_FOUND.
    const agent = clientFor(s.agent.address, s.pki);
    try {
      const chunks: Buffer[] = [];
      for await (const c of agent.getJobLog(good.id)) chunks.push(c);
      expect(Buffer.concat(chunks).toString()).toBe(log.text);
      await expect((async () => {
        for await (const _ of agent.getJobLog('no-such-job')) void _;
      })()).rejects.toMatchObject({ kind: 'not-found', code: 'JOB_NOT_FOUND' });
    } finally {
      agent.close();
    }

    const unknown = await runCli(['job', 'log', 'no-such-job'], env);
    expect(unknown.code).toBe(2);
    expect(unknown.err).toMatch(/\[JOB_NOT_FOUND\]/);
  });
});
