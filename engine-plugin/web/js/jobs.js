// The jobs views: the list (polled while shown) and one job with live progress from its
// Server-Sent Events (GET /jobs/{id}/events): a bar per VM and per operation, the error
// and log location of a failed VM, and Cancel for those who may.
import { api, ApiError, jobEvents } from './api.js';
import { badge, formatTime, h, progressBar, replace } from './dom.js';
import { app } from './state.js';

const FINAL = new Set(['succeeded', 'failed', 'cancelled', 'partial']);
const LIST_POLL_MS = 4000;

let stream = null;
let poll = null;

/** Stops what a jobs view keeps running (stream, polling) when the user leaves it. */
export function leaveJobs() {
  stream?.close();
  stream = null;
  clearInterval(poll);
  poll = null;
}

// ---- list --------------------------------------------------------------------------

export async function renderJobs(main) {
  leaveJobs();
  const tbody = h('tbody');
  const fill = async () => {
    const page = await api('GET', '/jobs?limit=100');
    replace(tbody, page.items.length ? page.items.map(jobRow) : h('tr', {}, h('td', { colspan: 6, class: 'empty', text: 'No job yet.' })));
    if (!page.items.some((j) => !FINAL.has(j.state))) {
      clearInterval(poll);
      poll = null;
    }
  };
  replace(main, h('div', { class: 'view' },
    h('div', { class: 'view-head' }, h('h2', { text: 'Jobs' }), h('button', { type: 'button', text: 'Refresh', onclick: () => void fill() })),
    h('table', { class: 'list jobs' },
      h('caption', { class: 'sr-only', text: 'Jobs, newest first' }),
      h('thead', {}, h('tr', {}, ['Target', 'Kind', 'State', 'Progress', 'Requested by', 'Created'].map((c) => h('th', { scope: 'col', text: c })))),
      tbody)));
  await fill();
  poll ??= setInterval(() => void fill().catch(() => {}), LIST_POLL_MS);
}

function jobRow(j) {
  return h('tr', {},
    h('th', { scope: 'row', 'data-label': 'Target' }, h('a', { href: `#/jobs/${encodeURIComponent(j.id)}`, text: j.target.name || j.id })),
    h('td', { 'data-label': 'Kind', text: j.kind }),
    h('td', { 'data-label': 'State' }, badge(j.state)),
    h('td', { 'data-label': 'Progress' }, j.state === 'succeeded' ? progressBar(1, 1, `Progress of ${j.target.name}`) : progressBar(j.progress.done, j.progress.total, `Progress of ${j.target.name}`)),
    h('td', { 'data-label': 'Requested by', text: j.requestedBy }),
    h('td', { 'data-label': 'Created', text: formatTime(j.createdAt) }));
}

// ---- one job -----------------------------------------------------------------------

/**
 * The view keeps one record per VM: {id, name, state, host, progress, error, ops: Map(op -> 'running'|'done')}.
 * A single-VM job is its own only VM; a bulk job has one per child.
 */
export async function renderJob(main, id) {
  leaveJobs();
  let job = await api('GET', `/jobs/${encodeURIComponent(id)}`);
  const bulk = Array.isArray(job.children);
  const vms = new Map();
  const head = h('div', { class: 'job-head' });
  const overall = h('div', { class: 'overall' });
  const list = h('ol', { class: 'vm-progress', 'aria-label': 'Progress per VM' });
  const live = h('p', { class: 'sr-only', 'aria-live': 'polite' });
  replace(main, h('div', { class: 'view job' }, head, overall, list, live));

  const fromSteps = (steps) => new Map((steps ?? []).map((s) => [s.operation, s.state]));
  const load = (j) => {
    job = j;
    vms.clear();
    if (bulk) for (const c of j.children ?? []) vms.set(c.id, { id: c.id, name: c.target.name, state: c.state, host: c.host, progress: c.progress, error: c.error, ops: new Map() });
    else vms.set(j.id, { id: j.id, name: j.target.name, state: j.state, host: j.host, progress: j.progress, error: j.error, ops: fromSteps(j.steps) });
  };
  load(job);

  const draw = () => {
    drawHead(head, job, bulk, () => void cancel());
    const rows = [...vms.values()];
    const pct = rows.length ? rows.reduce((a, r) => a + fraction(r), 0) / rows.length : 0;
    replace(overall, h('span', { class: 'label', text: 'Overall' }), progressBar(Math.round(pct * 1000), 1000, 'Overall progress'),
      bulk && job.childrenTotal > rows.length ? h('p', { class: 'help', text: `Showing the first ${rows.length} of ${job.childrenTotal} VMs.` }) : null);
    replace(list, rows.map((r) => vmRow(r, job.operations)));
  };

  const cancel = async () => {
    try {
      job = (await api('POST', `/jobs/${encodeURIComponent(job.id)}/cancel`)).job;
      app.toast('Cancel requested', 'info');
      draw();
    } catch (err) {
      app.toast(err instanceof ApiError ? err.message : String(err), 'bad');
    }
  };

  /** Children already under way when the view opens: their steps come from their own record. */
  const fillSteps = async () => {
    await Promise.all([...vms.values()].filter((r) => bulk && r.progress.done > 0 && !FINAL.has(r.state)).map(async (r) => {
      const leaf = await api('GET', `/jobs/${encodeURIComponent(r.id)}`);
      for (const [op, s] of fromSteps(leaf.steps)) if (!r.ops.has(op)) r.ops.set(op, s);
    }));
  };

  draw();
  if (FINAL.has(job.state)) return;
  const es = jobEvents(job.id);
  stream = es;
  es.addEventListener('snapshot', (e) => {
    const snap = JSON.parse(e.data);
    const before = new Map([...vms].map(([k, v]) => [k, v.ops]));
    load(snap);
    for (const [k, ops] of before) if (vms.has(k) && vms.get(k).ops.size === 0) vms.get(k).ops = ops;
    void fillSteps().then(draw, () => draw());
    draw();
    if (FINAL.has(snap.state)) es.close();
  });
  const onEvent = (e) => {
    const ev = JSON.parse(e.data);
    if (ev.jobId === job.id) {
      job = { ...job, state: ev.state, progress: ev.progress ?? job.progress, error: ev.error ?? job.error, host: ev.host ?? job.host };
    }
    const r = vms.get(ev.jobId);
    if (r) {
      r.state = ev.state;
      if (ev.progress) r.progress = ev.progress;
      if (ev.error) r.error = ev.error;
      if (ev.host) r.host = ev.host;
      if (ev.operation) {
        for (const [op, s] of r.ops) if (s === 'running') r.ops.set(op, 'done');
        r.ops.set(ev.operation, 'running');
        replace(live, `${r.name}: ${ev.operation}`);
      }
      if (ev.state === 'succeeded') for (const op of job.operations) r.ops.set(op, 'done');
      if (FINAL.has(ev.state) && ev.jobId !== job.id) replace(live, `${r.name}: ${ev.state}`);
    }
    if (ev.jobId === job.id && FINAL.has(ev.state)) {
      es.close();
      replace(live, `Job ${ev.state}`);
      // The final record has every child's end state and error.
      void api('GET', `/jobs/${encodeURIComponent(job.id)}`).then((j) => {
        const ops = new Map([...vms].map(([k, v]) => [k, v.ops]));
        load(j);
        for (const [k, v] of vms) if (v.ops.size === 0 && ops.has(k)) v.ops = ops.get(k);
        for (const v of vms.values()) if (v.state === 'succeeded') for (const op of j.operations) v.ops.set(op, 'done');
        draw();
      }, () => draw());
    }
    draw();
  };
  es.addEventListener('operation', onEvent);
  es.addEventListener('state', onEvent);
  es.addEventListener('error', () => {
    // EventSource retries by itself; a job that ended needs no stream.
    if (FINAL.has(job.state)) es.close();
  });
}

function fraction(r) {
  if (r.state === 'succeeded') return 1;
  return r.progress?.total ? Math.min(1, r.progress.done / r.progress.total) : 0;
}

function drawHead(head, job, bulk, cancel) {
  const canCancel = app.canRun() && !FINAL.has(job.state) && job.state !== 'cancelling';
  replace(head,
    h('div', { class: 'view-head' },
      h('h2', {}, `${job.kind === 'template' ? 'Seal' : 'Sysprep'} of ${job.target.name} `, badge(job.state)),
      canCancel ? h('button', { type: 'button', class: 'danger', id: 'cancel-job', text: 'Cancel job', onclick: cancel }) : null),
    h('dl', { class: 'facts' },
      fact('Job', job.id),
      fact('Kind', job.kind),
      fact('Requested by', job.requestedBy),
      job.profile ? fact('Profile', job.profile) : null,
      !bulk && job.host ? fact('Host', job.host) : null,
      fact('Created', formatTime(job.createdAt)),
      job.startedAt ? fact('Started', formatTime(job.startedAt)) : null,
      job.endedAt ? fact('Ended', formatTime(job.endedAt)) : null,
      job.request?.dryRun ? fact('Dry run', 'yes') : null,
      fact('Mode', job.request?.mode === 'in_place' ? 'in place' : 'safe (overlays)')),
    bulk && job.error ? h('p', { class: 'error', text: `${job.error.message} (${job.error.code})` } ) : null);
}

const fact = (k, v) => h('div', {}, h('dt', { text: k }), h('dd', { text: v }));

function vmRow(r, operations) {
  const running = [...r.ops].find(([, s]) => s === 'running')?.[0];
  return h('li', { class: `vm-row state-${r.state}`, 'data-vm': r.name },
    h('div', { class: 'vm-line' },
      h('span', { class: 'vm-name', text: r.name }), badge(r.state),
      r.host ? h('span', { class: 'host', text: `on ${r.host}` }) : null,
      progressBar(r.state === 'succeeded' ? 1 : r.progress?.done ?? 0, r.state === 'succeeded' ? 1 : r.progress?.total ?? 0, `Progress of ${r.name}`),
      h('span', { class: 'current', text: running && !FINAL.has(r.state) ? running : '' })),
    h('ol', { class: 'op-steps', 'aria-label': `Operations of ${r.name}` }, operations.map((op) => {
      const s = r.state === 'succeeded' ? 'done' : r.ops.get(op) ?? 'waiting';
      return h('li', { class: `op ${s}`, 'data-op': op, title: `${op}: ${s}` }, h('span', { class: 'sr-only', text: `${s}: ` }), op);
    })),
    r.error ? h('div', { class: 'vm-error', role: r.state === 'failed' ? 'alert' : null },
      h('p', {}, h('strong', { text: r.error.code }), ' ', r.error.message),
      r.error.details?.logPath ? h('p', { class: 'log' }, 'Log: ', h('code', { text: r.error.details.logPath }), r.host ? ` on ${r.host}` : '') : null) : null);
}
