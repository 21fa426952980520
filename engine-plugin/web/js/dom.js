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

/** A progress bar with its percentage as text; role=progressbar for assistive tech and tests. */
export function progressBar(done, total, label) {
  const pct = total > 0 ? Math.round((100 * done) / total) : 0;
  const fill = h('div', { class: 'bar-fill' });
  fill.style.width = `${pct}%`; // through CSSOM: allowed under a strict Content-Security-Policy
  return h('div', { class: 'bar', role: 'progressbar', 'aria-valuemin': 0, 'aria-valuemax': 100, 'aria-valuenow': pct, 'aria-label': label },
    fill, h('span', { class: 'bar-text', text: `${pct} %` }));
}

export function formatTime(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  return d.toLocaleString(undefined, { dateStyle: 'short', timeStyle: 'medium' });
}

const STATE_CLASS = {
  succeeded: 'ok', down: 'ok', running: 'busy', pending: 'busy', cancelling: 'busy', powering_up: 'busy', powering_down: 'busy', image_locked: 'busy',
  failed: 'bad', partial: 'warn', cancelled: 'warn', up: 'info', unknown: 'warn',
};

/** A state or status badge. */
export const badge = (state) => h('span', { class: `badge ${STATE_CLASS[state] ?? ''}`, text: state.replace(/_/g, ' ') });
