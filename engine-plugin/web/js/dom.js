// Tiny DOM helpers: the page is built with plain elements, never from HTML strings, so
// names coming from the inventory or the API can never inject markup.

/**
 * Creates an element. attrs: `class`, `text`, `on<event>` handlers, boolean properties
 * (checked, disabled, hidden...), everything else as an attribute. Children may be
 * strings, nodes, or null/false (skipped), or arrays of those.
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k === 'text') el.textContent = v;
    else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'checked' || k === 'value' || k === 'selected' || k === 'indeterminate') el[k] = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : String(c));
  }
}

/** Replaces the children of el. */
export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

let uid = 0;
/** A fresh element id (labels and aria-describedby need ids). */
export const newId = (prefix = 'f') => `${prefix}-${++uid}`;

/**
 * A progress bar with its percentage as text; role=progressbar for assistive tech and tests.
 * `state`: the job's state, so a failed or cancelled bar is not drawn as one still going.
 */
export function progressBar(done, total, label, state) {
  const pct = total > 0 ? Math.round((100 * done) / total) : 0;
  const fill = h('div', { class: 'bar-fill' });
  fill.style.width = `${pct}%`; // through CSSOM: allowed under a strict Content-Security-Policy
  return h('div', { class: `bar${state ? ` bar-${state}` : ''}`, role: 'progressbar', 'aria-valuemin': 0, 'aria-valuemax': 100, 'aria-valuenow': pct, 'aria-label': label },
    fill, h('span', { class: 'bar-text', text: `${pct} %${state === 'failed' ? ' · failed' : state === 'cancelled' ? ' · cancelled' : ''}` }));
}

/** A duration as people read it: "23 s", "4 min 05 s", "1 h 02 min". */
export function formatDuration(ms) {
  const s = Math.max(0, Math.floor(ms / 1000));
  const two = (n) => String(n).padStart(2, '0');
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${two(s % 60)} s`;
  return `${Math.floor(s / 3600)} h ${two(Math.floor((s % 3600) / 60))} min`;
}

/**
 * The time from `fromIso` to `toIso`, or to now while `toIso` is absent: then the span
 * carries data-since and tick() keeps it current.
 */
export function elapsed(fromIso, toIso, prefix = '') {
  if (!fromIso) return h('span', { class: 'elapsed' });
  if (toIso) return h('span', { class: 'elapsed', text: prefix + formatDuration(Date.parse(toIso) - Date.parse(fromIso)) });
  return h('span', { class: 'elapsed', 'data-since': fromIso, 'data-prefix': prefix, text: prefix + formatDuration(Date.now() - Date.parse(fromIso)) });
}

/** Brings every live elapsed time under `root` up to now (a timer calls it each second). */
export function tick(root) {
  for (const el of root.querySelectorAll('[data-since]')) {
    el.textContent = el.dataset.prefix + formatDuration(Date.now() - Date.parse(el.dataset.since));
  }
}

export function formatTime(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  return d.toLocaleString(undefined, { dateStyle: 'short', timeStyle: 'medium' });
}

const STATE_CLASS = {
  succeeded: 'ok', down: 'ok', running: 'busy', pending: 'busy', cancelling: 'busy', powering_up: 'busy', powering_down: 'busy', image_locked: 'busy',
  failed: 'bad', partial: 'warn', incomplete: 'warn', cancelled: 'warn', up: 'info', unknown: 'warn', healthy: 'ok', unreachable: 'bad',
};

/** A state or status badge. */
export const badge = (state) => h('span', { class: `badge ${STATE_CLASS[state] ?? ''}`, text: state.replace(/_/g, ' ') });
