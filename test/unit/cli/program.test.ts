// The commands over a fake engine (a fetch stub answering like the API): the request
// each command sends, its output in text and --json, the job views (plain lines on a
// pipe, bars on a terminal) and the exit codes. The real engine: test/e2e/cli/.
import { PassThrough } from 'node:stream';
import { run } from '../../../engine-plugin/cli/main';
import type { CliIo } from '../../../engine-plugin/cli/CliIo';

interface Call {
  method: string;
  path: string;
  body?: any;
  auth?: string;
}

const VM_JOB = { id: 'j1', kind: 'vm', state: 'pending', target: { type: 'vm', id: 'v1', name: 'web1' }, progress: { done: 0, total: 2, current: '' }, steps: [] };
const sse = (events: [string, object][]) => events.map(([e, d], i) => `id: ${i + 1}\nevent: ${e}\ndata: ${JSON.stringify(d)}\n\n`).join('');
const at = (s: number) => `2026-01-01T10:00:${String(s).padStart(2, '0')}.000Z`;

function fakeEngine(routes: Record<string, (call: Call) => { status?: number; json?: unknown; sse?: string; open?: boolean }>) {
  const calls: Call[] = [];
  const fetchImpl = (async (input: string, init: RequestInit) => {
    const u = new URL(input);
    const call: Call = { method: init.method ?? 'GET', path: u.pathname.replace('/api/v1', '') + u.search, body: init.body ? JSON.parse(String(init.body)) : undefined, auth: (init.headers as Record<string, string>).authorization };
    calls.push(call);
    const key = `${call.method} ${u.pathname.replace('/api/v1', '')}`;
    const route = routes[key];
    if (!route) return new Response(JSON.stringify({ error: { code: 'ROUTE_NOT_FOUND', message: `no route ${key}`, details: {} } }), { status: 404 });
    const r = route(call);
    if (r.open) {
      // A stream that stays open until the client aborts, like a job that goes on.
      const body = new ReadableStream({
        start(controller) {
          controller.enqueue(new TextEncoder().encode(r.sse ?? ''));
          init.signal?.addEventListener('abort', () => controller.error(init.signal!.reason));
        },
      });
      return new Response(body, { status: 200, headers: { 'content-type': 'text/event-stream' } });
    }
    if (r.sse !== undefined) return new Response(r.sse, { status: 200, headers: { 'content-type': 'text/event-stream' } });
    return new Response(JSON.stringify(r.json), { status: r.status ?? 200, headers: { 'content-type': 'application/json' } });
  }) as unknown as typeof fetch;
  return { calls, fetchImpl };
}

async function cli(args: string[], engine: ReturnType<typeof fakeEngine>, opts: { tty?: boolean; files?: Record<string, string>; onInterrupt?: CliIo['onInterrupt'] } = {}) {
  let out = '';
  let err = '';
  const tty = Object.assign(new PassThrough(), { isTTY: opts.tty ?? false, columns: 100 });
  let ttyText = '';
  tty.on('data', (b) => (ttyText += b.toString()));
  const io: CliIo = {
    out: (s) => void (out += s),
    err: (s) => void (err += s),
    env: { OVIRT_SYSPREP_URL: 'http://engine.test:8080', OVIRT_SYSPREP_TOKEN: 'tok-123', HOME: '/nonexistent' },
    stdout: tty as unknown as CliIo['stdout'],
    files: { read: (f) => { if (!opts.files?.[f]) throw Object.assign(new Error('ENOENT'), { code: 'ENOENT' }); return opts.files[f]; }, mode: () => 0o100600 },
    fetch: engine.fetchImpl,
    onInterrupt: opts.onInterrupt,
  };
  const code = await run(['node', 'ovirt-sysprep', ...args], io);
  return { code, out, err, tty: ttyText };
}

const finalVm = (state: string, extra: object = {}) => ({ ...VM_JOB, state, progress: { done: 2, total: 2, current: 'ssh-hostkeys' }, steps: [{ operation: 'machine-id', state: 'done', at: at(2) }, { operation: 'ssh-hostkeys', state: 'done', at: at(3) }], endedAt: at(4), ...extra });
const vmEvents = (state: string, error?: object): [string, object][] => [
  ['snapshot', VM_JOB],
  ['state', { jobId: 'j1', type: 'state', state: 'running', host: 'kvm1', progress: { done: 0, total: 2, current: '' }, at: at(1) }],
  ['operation', { jobId: 'j1', type: 'operation', state: 'running', operation: 'machine-id', progress: { done: 0, total: 2, current: 'machine-id' }, at: at(2) }],
  ['operation', { jobId: 'j1', type: 'operation', state: 'running', operation: 'ssh-hostkeys', progress: { done: 1, total: 2, current: 'ssh-hostkeys' }, at: at(3) }],
  ['state', { jobId: 'j1', type: 'state', state, progress: { done: 2, total: 2, current: '' }, error, at: at(4) }],
];

describe('ovirt-sysprep vm sysprep', () => {
  it('posts the body built from the options with the bearer token, then streams plain lines and exits 0', async () => {
    const engine = fakeEngine({
      'POST /vms/web%201/sysprep': () => ({ status: 202, json: { job: VM_JOB } }),
      'GET /jobs/j1/events': () => ({ sse: sse(vmEvents('succeeded')) }),
      'GET /jobs/j1': () => ({ json: finalVm('succeeded') }),
    });
    const r = await cli(['vm', 'sysprep', 'web 1', '--profile', 'clone-reset', '--enable', 'ssh-userdir', '--hostname', 'web1.example', '--root-password-file', '/pw', '--script', '/a.sh'], engine, { files: { '/pw': 'pw\n', '/a.sh': 'echo a\n' } });
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(engine.calls[0]).toEqual({
      method: 'POST',
      path: '/vms/web%201/sysprep',
      auth: 'Bearer tok-123',
      body: { profile: 'clone-reset', operations: { enable: ['ssh-userdir'] }, params: { hostname: 'web1.example', rootPassword: { value: 'pw' }, scripts: ['echo a\n'] }, dryRun: false },
    });
    const lines = r.out.trim().split('\n').map((l) => l.replace(/^\d\d:\d\d:\d\d /, ''));
    expect(lines).toEqual([
      'job j1 (vm web1) submitted',
      'web1 pending',
      'web1 running on kvm1',
      'web1 [1/2] machine-id',
      'web1 [2/2] ssh-hostkeys',
      'web1 succeeded (2 operations)',
      'job j1 (vm web1): succeeded',
    ]);
  });

  it('prints each warning while it watches, and exits 4 for an incomplete job (job show lists the warnings)', async () => {
    const warning = { message: 'hostname could not be set for this type of guest', field: 'params.hostname' };
    const events = vmEvents('incomplete');
    events.splice(4, 0, ['warning', { jobId: 'j1', type: 'warning', state: 'running', warning, at: at(3) }]);
    const final = finalVm('incomplete', { warnings: [warning, { message: 'just so you know' }] });
    const engine = fakeEngine({
      'POST /vms/web1/sysprep': () => ({ status: 202, json: { job: VM_JOB } }),
      'GET /jobs/j1/events': () => ({ sse: sse(events) }),
      'GET /jobs/j1': () => ({ json: final }),
    });
    const r = await cli(['vm', 'sysprep', 'web1', '--hostname', 'x'], engine);
    expect(r.code).toBe(4);
    // The last warning came in no event: the final job's record brings it.
    expect(r.out.trim().split('\n').map((l) => l.replace(/^\d\d:\d\d:\d\d /, '')).slice(-4)).toEqual([
      'web1 warning: hostname could not be set for this type of guest (params.hostname not applied)',
      'web1 incomplete: params.hostname not applied',
      'web1 warning: just so you know',
      'job j1 (vm web1): incomplete',
    ]);
    const show = await cli(['job', 'show', 'j1'], engine);
    expect(show.out).toContain('  warning: hostname could not be set for this type of guest (params.hostname not applied)\n  warning: just so you know\n');
  });

  it('prints only the final job with --json and exits 1 when it failed', async () => {
    const error = { code: 'DISK_NOT_FOUND', message: 'disk /s/x.qcow2 does not exist', details: { logPath: '/var/log/j1.log' } };
    const engine = fakeEngine({
      'POST /vms/web1/sysprep': () => ({ status: 202, json: { job: VM_JOB } }),
      'GET /jobs/j1/events': () => ({ sse: sse(vmEvents('failed', error)) }),
      'GET /jobs/j1': () => ({ json: finalVm('failed', { error }) }),
    });
    const r = await cli(['vm', 'sysprep', 'web1', '--json'], engine);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.out)).toMatchObject({ id: 'j1', state: 'failed', error: { code: 'DISK_NOT_FOUND' } });
  });

  it('returns at once with --no-wait', async () => {
    const engine = fakeEngine({ 'POST /vms/web1/sysprep': () => ({ status: 202, json: { job: VM_JOB } }) });
    const r = await cli(['vm', 'sysprep', 'web1', '--no-wait', '--dry-run'], engine);
    expect(r.code).toBe(0);
    expect(engine.calls).toHaveLength(1);
    expect(engine.calls[0].body).toEqual({ dryRun: true });
    expect(r.out).toMatch(/job j1 submitted .*ovirt-sysprep job watch j1/);
  });

  it('sends several VMs as one bulk request', async () => {
    const engine = fakeEngine({ 'POST /sysprep': () => ({ status: 202, json: { job: { ...VM_JOB, kind: 'bulk' } } }) });
    const r = await cli(['vm', 'sysprep', 'a', 'b', '--only', 'machine-id', '--no-wait'], engine);
    expect(r.code).toBe(0);
    expect(engine.calls[0]).toMatchObject({ path: '/sysprep', body: { vms: ['a', 'b'], operations: { only: ['machine-id'] }, dryRun: false } });
  });

  it('exits 2 with the API message and the option to fix on a 400', async () => {
    const engine = fakeEngine({
      'POST /vms/web1/sysprep': () => ({ status: 400, json: { error: { code: 'INVALID_ARGUMENT', message: 'params.hostname: is not a valid hostname', details: { field: 'params.hostname' } } } }),
    });
    const r = await cli(['vm', 'sysprep', 'web1', '--hostname', 'bad_name'], engine);
    expect(r.code).toBe(2);
    expect(r.err).toBe('ovirt-sysprep: params.hostname: is not a valid hostname [INVALID_ARGUMENT] (option --hostname)\n');
  });

  it('exits 1 on a conflict and points at the job holding the VM', async () => {
    const engine = fakeEngine({ 'POST /vms/web1/sysprep': () => ({ status: 409, json: { error: { code: 'VM_BUSY', message: 'VM "web1" is locked', details: { jobId: 'j0' } } } }) });
    const r = await cli(['vm', 'sysprep', 'web1'], engine);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/VM "web1" is locked \[VM_BUSY\]\n.*ovirt-sysprep job show j0/);
  });

  it.each([
    ['an unknown option', ['vm', 'sysprep', 'web1', '--colour']],
    ['a missing VM name', ['vm', 'sysprep']],
    ['a bad --mode', ['vm', 'sysprep', 'web1', '--mode', 'fast']],
    ['an unreadable --script', ['vm', 'sysprep', 'web1', '--script', '/missing.sh']],
  ])('exits 2 on %s without calling the engine', async (_n, args) => {
    const engine = fakeEngine({});
    const r = await cli(args, engine);
    expect(r.code).toBe(2);
    expect(engine.calls).toHaveLength(0);
    expect(r.err).not.toBe('');
  });
});

describe('ovirt-sysprep job watch', () => {
  const POOL = { id: 'p1', kind: 'pool', state: 'running', target: { type: 'pool', id: 'pl', name: 'lab' }, progress: { done: 0, total: 2, current: '' }, children: [
    { id: 'c1', state: 'pending', target: { type: 'vm', id: 'v1', name: 'lab-1' }, progress: { done: 0, total: 2, current: '' } },
    { id: 'c2', state: 'pending', target: { type: 'vm', id: 'v2', name: 'lab-2' }, progress: { done: 0, total: 2, current: '' } },
  ] };
  const error = { code: 'DISK_NOT_FOUND', message: 'no disk', details: {} };
  const poolEvents: [string, object][] = [
    ['snapshot', POOL],
    ['state', { jobId: 'c1', type: 'state', state: 'running', host: 'kvm1', at: at(1) }],
    ['operation', { jobId: 'c1', type: 'operation', state: 'running', operation: 'machine-id', progress: { done: 0, total: 2, current: 'machine-id' }, at: at(2) }],
    ['state', { jobId: 'c2', type: 'state', state: 'failed', error, at: at(2) }],
    ['operation', { jobId: 'c1', type: 'operation', state: 'running', operation: 'ssh-hostkeys', progress: { done: 1, total: 2, current: 'ssh-hostkeys' }, at: at(3) }],
    ['state', { jobId: 'c1', type: 'state', state: 'succeeded', progress: { done: 2, total: 2, current: '' }, at: at(4) }],
    ['state', { jobId: 'p1', type: 'state', state: 'partial', progress: { done: 2, total: 2, current: '' }, at: at(4) }],
  ];
  const poolFinal = { ...POOL, state: 'partial', children: [
    { ...POOL.children[0], state: 'succeeded', progress: { done: 2, total: 2, current: '' } },
    { ...POOL.children[1], state: 'failed', error },
  ] };
  const engine = () => fakeEngine({ 'GET /jobs/p1/events': () => ({ sse: sse(poolEvents) }), 'GET /jobs/p1': () => ({ json: poolFinal }) });

  it('prints one line per VM event on a pipe and exits 3 for a partial pool', async () => {
    const r = await cli(['job', 'watch', 'p1'], engine());
    expect(r.code).toBe(3);
    expect(r.out.split('\n').map((l) => l.replace(/^\d\d:\d\d:\d\d /, ''))).toEqual([
      'lab-1 pending', 'lab-2 pending',
      'lab-1 running on kvm1',
      'lab-1 [1/2] machine-id',
      'lab-2 failed: DISK_NOT_FOUND: no disk',
      'lab-1 [2/2] ssh-hostkeys',
      'lab-1 succeeded (2 operations)',
      'job p1 (pool lab): partial: 1 succeeded, 1 failed',
      '',
    ]);
  });

  it('watches by a short id (unique prefix): the same lines, the events matched by the full id of the snapshot', async () => {
    const r = await cli(['job', 'watch', 'p1'], engine());
    const short = fakeEngine({ 'GET /jobs/p1ab/events': () => ({ sse: sse(poolEvents) }), 'GET /jobs/p1ab': () => ({ json: poolFinal }) });
    const s = await cli(['job', 'watch', 'p1ab'], short);
    expect(s.code).toBe(3);
    const strip = (out: string) => out.split('\n').map((l) => l.replace(/^\d\d:\d\d:\d\d /, ''));
    expect(strip(s.out)).toEqual(strip(r.out));
  });

  it('draws one bar per VM on a terminal', async () => {
    const r = await cli(['job', 'watch', 'p1'], engine(), { tty: true });
    expect(r.code).toBe(3);
    expect(r.out).toBe('');
    expect(r.tty).toMatch(/lab-1 +█+ 100% 2\/2 succeeded/);
    expect(r.tty).toMatch(/lab-2 +░+ +0% 0\/2 failed: DISK_NOT_FOUND/);
    expect(r.tty).toMatch(/lab-2: failed: DISK_NOT_FOUND: no disk\njob p1 \(pool lab\): partial: 1 succeeded, 1 failed\n$/);
  });

  it('reconnects when the stream breaks before the end, without repeating lines', async () => {
    let n = 0;
    const e = fakeEngine({
      'GET /jobs/j1/events': () => (++n === 1 ? { sse: sse(vmEvents('succeeded').slice(0, 3)) } : { sse: sse([['snapshot', finalVm('succeeded')]]) }),
      'GET /jobs/j1': () => ({ json: n === 1 ? { ...VM_JOB, state: 'running' } : finalVm('succeeded') }),
    });
    const r = await cli(['job', 'watch', 'j1'], e);
    expect(r.code).toBe(0);
    const lines = r.out.trim().split('\n').map((l) => l.replace(/^\d\d:\d\d:\d\d /, ''));
    expect(lines).toEqual(['web1 pending', 'web1 running on kvm1', 'web1 [1/2] machine-id', 'web1 [2/2] ssh-hostkeys', 'web1 succeeded (2 operations)', 'job j1 (vm web1): succeeded']);
  });

  it('stops watching on Ctrl-C with exit 130, restores the terminal, and says the job goes on', async () => {
    const e = fakeEngine({ 'GET /jobs/j1/events': () => ({ open: true, sse: sse(vmEvents('succeeded').slice(0, 3)) }) });
    let unsubscribed = false;
    const r = await cli(['job', 'watch', 'j1'], e, {
      tty: true,
      onInterrupt: (handler) => {
        setTimeout(handler, 200);
        return () => void (unsubscribed = true);
      },
    });
    expect(r.code).toBe(130);
    expect(r.err).toBe('\nstopped watching; job j1 goes on (ovirt-sysprep job cancel j1 cancels it)\n');
    expect(r.tty).toMatch(/web1 .* machine-id/);
    expect(r.tty.endsWith('\x1b[?25h') || r.tty.includes('\x1b[?25h')).toBe(true); // cursor shown again
    expect(unsubscribed).toBe(true);
  });

  it('cancels a job, and follows it to the end with --wait (exit 1: cancelled)', async () => {
    const cancelled = finalVm('cancelled');
    const e = fakeEngine({
      'POST /jobs/j1/cancel': () => ({ status: 202, json: { job: { ...VM_JOB, state: 'cancelling' } } }),
      'GET /jobs/j1/events': () => ({ sse: sse([['snapshot', cancelled]]) }),
      'GET /jobs/j1': () => ({ json: cancelled }),
    });
    const r = await cli(['job', 'cancel', 'j1'], e);
    expect(r).toMatchObject({ code: 0, out: 'job j1: cancelling\n' });
    expect(e.calls[0]).toMatchObject({ method: 'POST', path: '/jobs/j1/cancel' });
    const waited = await cli(['job', 'cancel', 'j1', '--wait'], e);
    expect(waited.code).toBe(1);
    expect(waited.out).toMatch(/job j1 \(vm web1\): cancelled\n$/);
  });

  it('exits 2 for an unknown job', async () => {
    const r = await cli(['job', 'watch', 'nope'], fakeEngine({ 'GET /jobs/nope/events': () => ({ status: 404, json: { error: { code: 'JOB_NOT_FOUND', message: 'no job "nope"', details: {} } } }) }));
    expect(r.code).toBe(2);
    expect(r.err).toBe('ovirt-sysprep: no job "nope" [JOB_NOT_FOUND]\n');
  });
});

describe('list commands', () => {
  it('follows the cursors of a paged list and prints a table or a JSON array', async () => {
    const engine = fakeEngine({
      'GET /vms': (c) => ({ json: c.path.includes('cursor=2') ? { items: [{ id: 'v3', name: 'c', status: 'up', disks: [] }], total: 3 } : { items: [{ id: 'v1', name: 'a', status: 'down', disks: [{}] }, { id: 'v2', name: 'b', status: 'down', disks: [] }], next: '2', total: 3 } }),
    });
    const text = await cli(['vms', '--search', 'x'], engine);
    expect(text.code).toBe(0);
    expect(text.out).toBe('NAME  ID  STATUS  HOST  DISKS\na     v1  down    -     1\nb     v2  down    -     0\nc     v3  up      -     0\n');
    expect(engine.calls[0].path).toBe('/vms?search=x&limit=500');
    const json = await cli(['--json', 'vms'], engine);
    expect(JSON.parse(json.out).map((v: { name: string }) => v.name)).toEqual(['a', 'b', 'c']);
  });

  it("takes virt-sysprep's --list-operations for the operations command, and still refuses an unknown command", async () => {
    const engine = fakeEngine({ 'GET /operations': () => ({ json: { items: [{ name: 'machine-id', defaultEnabled: true, description: 'Remove the local machine ID' }], customizations: [] } }) });
    const r = await cli(['--list-operations'], engine);
    expect(r.code).toBe(0);
    expect(r.out).toBe('NAME        DEFAULT  DESCRIPTION\nmachine-id  yes      Remove the local machine ID\n');
    const json = await cli(['--json', '--list-operations'], engine);
    expect(JSON.parse(json.out)).toEqual([{ name: 'machine-id', defaultEnabled: true, description: 'Remove the local machine ID' }]);
    const bad = await cli(['vmz'], engine);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/unknown command 'vmz'/);
  });

  it('shows --help with examples on every command, exit 0', async () => {
    for (const args of [[], ['vm'], ['vm', 'sysprep'], ['pool', 'sysprep'], ['template', 'seal'], ['job', 'watch'], ['jobs'], ['vms'], ['hosts']]) {
      const r = await cli([...args, '--help'], fakeEngine({}));
      expect(r.code).toBe(0);
      expect(r.out).toMatch(/Examples:\n(.*\n)*? {2}ovirt-sysprep \S/);
    }
  });
});
