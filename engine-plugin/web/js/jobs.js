// The jobs views: the list (filtered by state, kind and VM; polled while a job runs) and
// one job with live progress from its Server-Sent Events (GET /jobs/{id}/events): a bar
// per VM and per operation, the phase while no operation runs yet ("Starting appliance ·
// 23 s"), the elapsed time, the parameters applied (secrets redacted, as the job record
// stores them), the error of a failed VM, the warnings of its run (an `incomplete` VM:
// committed, but what a warning names was not applied), its log (GET /jobs/{id}/log) and
// Cancel for those who may.
import { FINAL_JOB_STATES, isCommitted, JOB_STATES } from '../lib/shared.js';
import { api, ApiError, apiText, jobEvents, listAll } from './api.js';
import { badge, elapsed, formatTime, h, progressBar, replace, tick } from './dom.js';
import { app } from './state.js';

const FINAL = new Set(FINAL_JOB_STATES);
const STATES = JOB_STATES;
const KINDS = ['vm', 'bulk', 'pool', 'room', 'template', 'auto-reset', 'inspect', 'sparsify'];
const LIST_POLL_MS = 4000;
const LIST_LIMIT = 100;

/** What a phase of contract 1 (docs/api.md) is called on the page; `operations` shows the operation itself. */
const PHASES = { queued: 'Queued', preparing: 'Preparing disks', 'starting-appliance': 'Starting appliance', committing: 'Committing' };

let stream = null;
let poll = null;
let ticker = null;

/** Stops what a jobs view keeps running (stream, polling, clock) when the user leaves it. */
export function leaveJobs() {
  stream?.close();
  stream = null;
  clearInterval(poll);
  poll = null;
  clearInterval(ticker);
  ticker = null;
}

/** Keeps the live elapsed times under `root` current while the view is shown. */
function startClock(root) {
  ticker ??= setInterval(() => tick(root), 1000);
}

// ---- list --------------------------------------------------------------------------

/** `query`: the filters of the URL fragment (#/jobs?state=failed&kind=vm&vm=ID). */
export async function renderJobs(main, query = new URLSearchParams()) {
  leaveJobs();
  const filters = { state: query.get('state') ?? '', kind: query.get('kind') ?? '', vm: query.get('vm') ?? '' };
  const vms = await listAll('/vms');
  const tbody = h('tbody');
  const count = h('p', { class: 'help', id: 'jobs-count', 'aria-live': 'polite' });
  const filtered = Object.values(filters).some(Boolean);
  const fill = async () => {
    const q = new URLSearchParams({ limit: String(LIST_LIMIT) });
    for (const [k, v] of Object.entries(filters)) if (v) q.set(k, v);
    const page = await api('GET', `/jobs?${q}`);
    replace(tbody, page.items.length ? page.items.map(jobRow) : h('tr', {}, h('td', { colspan: 8, class: 'empty', text: filtered ? 'No job matches the filter.' : 'No job yet.' })));
    replace(count, page.total > page.items.length ? `Showing the newest ${page.items.length} of ${page.total} jobs.` : `${page.total} job${page.total === 1 ? '' : 's'}.`);
    if (!page.items.some((j) => !FINAL.has(j.state))) {
      clearInterval(poll);
      poll = null;
    }
  };
  // A filter lives in the URL: the view can be linked to (the inventory links a VM's jobs).
  const setFilter = (key) => (e) => {
    const q = new URLSearchParams(Object.entries({ ...filters, [key]: e.target.value }).filter(([, v]) => v));
    app.go(`#/jobs${q.size ? `?${q}` : ''}`);
  };
  const select = (key, label, options) => [
    h('label', { for: `jobs-${key}`, text: label }),
    h('select', { id: `jobs-${key}`, onchange: setFilter(key) },
      h('option', { value: '', text: 'any' }),
      options.map(([value, text]) => h('option', { value, text, selected: value === filters[key] }))),
  ];
  const vmOptions = vms.map((v) => [v.id, v.name]);
  if (filters.vm && !vms.some((v) => v.id === filters.vm)) vmOptions.push([filters.vm, `${filters.vm} (not in the inventory)`]);
  replace(main, h('div', { class: 'view' },
    h('div', { class: 'view-head' }, h('h2', { text: 'Jobs' }), h('button', { type: 'button', text: 'Refresh', onclick: () => void fill() })),
    h('div', { class: 'toolbar filters', role: 'group', 'aria-label': 'Filter jobs' },
      select('state', 'State', STATES.map((s) => [s, s])),
      select('kind', 'Kind', KINDS.map((k) => [k, k])),
      select('vm', 'VM', vmOptions),
      filtered ? h('a', { href: '#/jobs', text: 'Clear filters' }) : null),
    count,
    h('table', { class: 'list jobs' },
      h('caption', { class: 'sr-only', text: 'Jobs, newest first' }),
      h('thead', {}, h('tr', {}, ['Target', 'Kind', 'State', 'Progress', 'Error', 'Duration', 'Requested by', 'Created'].map((c) => h('th', { scope: 'col', text: c })))),
      tbody)));
  await fill();
  startClock(main);
  poll ??= setInterval(() => void fill().catch(() => {}), LIST_POLL_MS);
}

function jobRow(j) {
  const name = j.target.name || j.id;
  return h('tr', { 'data-job': j.id },
    h('th', { scope: 'row', 'data-label': 'Target' }, h('a', { href: `#/jobs/${encodeURIComponent(j.id)}`, text: name })),
    h('td', { 'data-label': 'Kind', text: j.kind }),
    h('td', { 'data-label': 'State' }, badge(j.state)),
    h('td', { 'data-label': 'Progress' }, isCommitted(j.state) ? progressBar(1, 1, `Progress of ${name}`) : progressBar(j.progress.done, j.progress.total, `Progress of ${name}`, j.state)),
    h('td', { 'data-label': 'Error', class: 'error-cell' }, j.error ? [h('strong', { text: j.error.code }), ' ', j.error.message] : null),
    h('td', { 'data-label': 'Duration', class: 'duration' }, elapsed(j.startedAt, j.endedAt ?? (FINAL.has(j.state) ? j.startedAt : undefined))),
    h('td', { 'data-label': 'Requested by', text: j.requestedBy }),
    h('td', { 'data-label': 'Created', text: formatTime(j.createdAt) }));
}

// ---- one job -----------------------------------------------------------------------

/**
 * The view keeps one record per VM: {id, name, state, host, progress, error, ops: Map(op -> step state)}.
 * A single-VM job is its own only VM; a bulk job has one per child.
 */
export async function renderJob(main, id) {
  leaveJobs();
  let job = await api('GET', `/jobs/${encodeURIComponent(id)}`);
  const bulk = Array.isArray(job.children);
  const vms = new Map();
  const head = h('div', { class: 'job-head' });
  const params = h('section', { class: 'params', 'aria-labelledby': 'params-title' });
  const overall = h('div', { class: 'overall' });
  const list = h('ol', { class: 'vm-progress', 'aria-label': 'Progress per VM' });
  const log = h('section', { class: 'log-panel', id: 'log-panel', 'aria-labelledby': 'log-title', hidden: true });
  const live = h('p', { class: 'sr-only', 'aria-live': 'polite' });
  replace(main, h('div', { class: 'view job' }, head, overall, list, log, params, live));

  const fromSteps = (steps) => new Map((steps ?? []).map((s) => [s.operation, s.state]));
  const load = (j) => {
    job = j;
    vms.clear();
    if (bulk) for (const c of j.children ?? []) vms.set(c.id, { id: c.id, name: c.target.name, state: c.state, host: c.host, progress: c.progress, error: c.error, batch: c.batch, ops: new Map(), warnings: [], warningCount: c.warningCount ?? 0 });
    else vms.set(j.id, { id: j.id, name: j.target.name, state: j.state, host: j.host, progress: j.progress, error: j.error, batch: j.result?.batch, ops: fromSteps(j.steps), warnings: j.warnings ?? [] });
  };
  load(job);

  const draw = () => {
    drawHead(head, job, bulk, () => void cancel());
    const rows = [...vms.values()];
    const pct = rows.length ? rows.reduce((a, r) => a + fraction(r), 0) / rows.length : 0;
    replace(overall, h('span', { class: 'label', text: 'Overall' }), progressBar(Math.round(pct * 1000), 1000, 'Overall progress', FINAL.has(job.state) && !isCommitted(job.state) ? job.state : undefined),
      bulk && job.childrenTotal > rows.length ? h('p', { class: 'help', text: `Showing the first ${rows.length} of ${job.childrenTotal} VMs.` }) : null);
    replace(list, rows.map((r) => vmRow(r, job.operations, () => void showLog(log, r))));
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
    await Promise.all([...vms.values()].filter((r) => bulk && (r.progress.done > 0 || r.state === 'failed' || r.warningCount > r.warnings.length)).map(async (r) => {
      const leaf = await api('GET', `/jobs/${encodeURIComponent(r.id)}`);
      for (const [op, s] of fromSteps(leaf.steps)) if (!r.ops.has(op) || FINAL.has(r.state)) r.ops.set(op, s);
      if ((leaf.warnings ?? []).length > r.warnings.length) r.warnings = leaf.warnings;
    }));
  };

  /** The final record has every child's end state, steps and error. */
  const reloadFinal = async () => {
    const ops = new Map([...vms].map(([k, v]) => [k, v]));
    load(await api('GET', `/jobs/${encodeURIComponent(job.id)}`));
    for (const [k, v] of vms) {
      if (v.ops.size === 0 && ops.has(k)) v.ops = ops.get(k).ops;
      if (v.warnings.length === 0 && ops.has(k)) v.warnings = ops.get(k).warnings;
    }
    await fillSteps();
  };

  drawParams(params, job);
  if (FINAL.has(job.state)) await fillSteps();
  draw();
  startClock(main);
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
      job = {
        ...job, state: ev.state, progress: ev.progress ?? job.progress, error: ev.error ?? job.error, host: ev.host ?? job.host,
        // The record's times, as the engine sets them from the same events.
        startedAt: job.startedAt ?? (ev.state === 'pending' ? undefined : ev.at),
        endedAt: FINAL.has(ev.state) ? ev.at : job.endedAt,
      };
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
      if (ev.warning) {
        r.warnings = [...r.warnings, ev.warning];
        replace(live, `${r.name}: warning: ${ev.warning.message}`);
      }
      if (isCommitted(ev.state)) for (const op of job.operations) r.ops.set(op, 'done');
      // An event carries no steps: until the record is read again, the step that was
      // running ends as the engine ends it (failed or skipped, docs/api.md).
      if (ev.state === 'failed' || ev.state === 'cancelled') for (const [op, s] of r.ops) if (s === 'running') r.ops.set(op, ev.state === 'failed' ? 'failed' : 'skipped');
      if (FINAL.has(ev.state) && ev.jobId !== job.id) replace(live, `${r.name}: ${ev.state}`);
    }
    if (ev.jobId === job.id && FINAL.has(ev.state)) {
      es.close();
      replace(live, `Job ${ev.state}`);
      void reloadFinal().then(draw, () => draw());
    }
    draw();
  };
  // A phase change (contract 1) comes as a `state` event with the new progress.
  es.addEventListener('operation', onEvent);
  es.addEventListener('state', onEvent);
  es.addEventListener('warning', onEvent);
  es.addEventListener('error', () => {
    // EventSource retries by itself; a job that ended needs no stream.
    if (FINAL.has(job.state)) es.close();
  });
}

function fraction(r) {
  if (isCommitted(r.state)) return 1;
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
      job.startedAt ? h('div', { class: 'fact-elapsed' }, h('dt', { text: FINAL.has(job.state) ? 'Took' : 'Elapsed' }), h('dd', {}, elapsed(job.startedAt, job.endedAt ?? (FINAL.has(job.state) ? job.startedAt : undefined))))
        : !FINAL.has(job.state) ? h('div', { class: 'fact-elapsed' }, h('dt', { text: 'Waiting' }), h('dd', {}, elapsed(job.createdAt))) : null,
      job.request?.dryRun ? fact('Dry run', 'yes') : null,
      fact('Mode', job.request?.mode === 'in_place' ? 'in place' : 'safe (overlays)')),
    bulk && job.error ? h('div', { class: 'job-error', role: 'alert' }, h('strong', { text: job.error.code }), ' ', job.error.message) : null);
}

const fact = (k, v) => h('div', {}, h('dt', { text: k }), h('dd', { text: v }));

/** The parameters the job was run with, as its record stores them: a secret shows as redacted, never its value. */
function drawParams(section, job) {
  const entries = Object.entries(job.request?.params ?? {});
  replace(section,
    h('h3', { id: 'params-title', text: 'Parameters applied' }),
    entries.length
      ? h('dl', { class: 'param-list' }, entries.map(([k, v]) => h('div', { 'data-param': k }, h('dt', {}, h('code', { text: k })), h('dd', {}, paramValue(v)))))
      : h('p', { class: 'help', text: 'None: the operations alone.' }),
    h('p', { class: 'help' }, 'Operations: ', job.operations.map((op, i) => [i ? ', ' : '', h('code', { text: op })])));
}

function paramValue(v) {
  if (v && typeof v === 'object' && !Array.isArray(v) && v.redacted === true) return h('span', { class: 'redacted', text: 'secret (not stored)' });
  if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v.map((x, i) => [i ? ', ' : '', h('code', { text: x })]);
  return h('code', { text: typeof v === 'string' ? v : JSON.stringify(v) });
}

/** What the VM is doing now: the operation, or the phase before and after them with its time. */
function currentText(r) {
  if (FINAL.has(r.state)) return null;
  const p = r.progress ?? {};
  const running = [...r.ops].find(([, s]) => s === 'running')?.[0];
  if (PHASES[p.phase]) return elapsed(p.phaseSince, undefined, `${PHASES[p.phase]} · `);
  return running ?? p.current ?? null;
}

function vmRow(r, operations, openLog) {
  // Only a job that reached an agent has a log; a bulk row is the child's own job.
  const hasLog = Boolean(r.host);
  return h('li', { class: `vm-row state-${r.state}`, 'data-vm': r.name, 'data-job': r.id },
    h('div', { class: 'vm-line' },
      h('span', { class: 'vm-name', text: r.name }), badge(r.state),
      r.host ? h('span', { class: 'host', text: `on ${r.host}` }) : null,
      batchNote(r.batch),
      progressBar(isCommitted(r.state) ? 1 : r.progress?.done ?? 0, isCommitted(r.state) ? 1 : r.progress?.total ?? 0, `Progress of ${r.name}`, FINAL.has(r.state) && !isCommitted(r.state) ? r.state : undefined),
      h('span', { class: 'current' }, currentText(r)),
      hasLog ? h('button', { type: 'button', class: 'link log-link', 'aria-label': `Log of ${r.name}`, 'aria-controls': 'log-panel', text: 'Log', onclick: openLog }) : null),
    h('ol', { class: 'op-steps', 'aria-label': `Operations of ${r.name}` }, operations.map((op) => {
      const s = isCommitted(r.state) ? 'done' : r.ops.get(op) ?? 'waiting';
      return h('li', { class: `op ${s}`, 'data-op': op, title: `${op}: ${s}` }, h('span', { class: 'sr-only', text: `${s}: ` }), op);
    })),
    r.error ? h('div', { class: 'vm-error', role: r.state === 'failed' ? 'alert' : null },
      h('p', {}, h('span', { class: 'label', text: r.state === 'failed' ? 'Failed: ' : '' }), h('strong', { text: r.error.code }), ' ', r.error.message),
      r.error.details?.logPath ? h('p', { class: 'log' }, 'Log file: ', h('code', { text: r.error.details.logPath }), r.host ? ` on ${r.host}` : '') : null) : null,
    warningList(r));
}

/** Batch mode (issue 16): one appliance shared with the batch's other VMs, or alone and why. */
function batchNote(b) {
  if (!b) return null;
  return b.batched
    ? h('span', { class: 'batch', title: `batch ${b.id}`, text: 'batched' })
    : h('span', { class: 'batch alone', title: `batch ${b.id}`, text: `ran alone: ${b.aloneReason ?? 'not batchable'}` });
}

/** The run's warnings; on an incomplete VM the ones naming what was not applied come first in words. */
function warningList(r) {
  const count = Math.max(r.warnings.length, r.warningCount ?? 0);
  if (!count) return null;
  return h('div', { class: 'vm-warnings', role: r.state === 'incomplete' ? 'status' : null, 'aria-label': `Warnings of ${r.name}` },
    r.state === 'incomplete' ? h('p', { class: 'label', text: 'Incomplete: the disk was committed, but not everything asked for was applied.' }) : null,
    r.warnings.length
      ? h('ul', {}, r.warnings.map((w) => h('li', { 'data-field': w.field ?? '' }, h('span', { class: 'label', text: 'Warning: ' }), w.message, w.field ? [' (', h('code', { text: w.field }), ' not applied)'] : null)))
      : h('p', { text: `${count} warning${count === 1 ? '' : 's'}` }));
}

/**
 * The job's log (GET /jobs/{id}/log, plain text, redacted like the file on the host) in
 * the log panel. No log yet (the job never reached an agent: 409 NO_LOG) and an unknown
 * job (404) are said in the panel, not thrown.
 */
async function showLog(panel, r) {
  const title = h('h3', { id: 'log-title', text: `Log of ${r.name}` });
  const reload = h('button', { type: 'button', text: 'Reload', onclick: () => void showLog(panel, r) });
  const close = h('button', { type: 'button', text: 'Close', onclick: () => {
    panel.hidden = true;
    replace(panel);
  } });
  const body = h('pre', { class: 'log-text', tabindex: 0, 'aria-busy': 'true', text: 'Loading…' });
  replace(panel, h('div', { class: 'log-head' }, title, h('span', { class: 'buttons' }, reload, close)), body);
  panel.hidden = false;
  try {
    const text = await apiText(`/jobs/${encodeURIComponent(r.id)}/log`);
    replace(body, text || '(the log is empty)');
    body.scrollTop = body.scrollHeight; // a failure is told at the end
  } catch (err) {
    const why = err instanceof ApiError && (err.status === 404 || err.status === 409)
      ? (err.code === 'NO_LOG' ? `No log: ${err.message}` : `The log cannot be found: ${err.message}`)
      : err instanceof ApiError && err.status === 401 ? 'The session ended: sign in again.' : `The log could not be read: ${err.message}`;
    body.classList.add('error');
    replace(body, why);
  }
  body.removeAttribute('aria-busy');
  panel.scrollIntoView({ block: 'nearest' });
}
