// The sysprep dialog, generated from the catalogs the engine serves (GET /operations):
// the profile and one field per customisation of the catalog first (label, help, widget
// and least role come from shared/catalog/customizations.ts), then, folded away, one
// checkbox per operation of the installed virt-sysprep (its defaults, or as the profile
// sets them). The live checks are the engine's own code (the bundle of shared/ served at
// /ui/lib/shared.js), so a field shows while typing what the API would answer; on submit
// the engine judges again and a 400 naming a field is shown at that field.
import { paramsProblem, patternContext, PATTERN_VARIABLES, readYamlText, renderString, selectedOperations, yamlText } from '../lib/shared.js';
import { api, ApiError } from './api.js';
import { h, newId, replace } from './dom.js';
import { app } from './state.js';

const PREVIEW_COUNT = 5;
let timezones;

/**
 * target: {kind: 'vms', vms, inv} | {kind: 'pool', pool, vms, inv} | {kind: 'template', template, inv}
 * opts.returnFocus: element focused again when the dialog closes; opts.onClose: called then
 * (not after a job started); opts.onStarted: called with the job once it is accepted.
 */
export function openSysprepDialog(target, opts = {}) {
  const dialog = document.getElementById('sysprep-dialog');
  const contexts = contextsOf(target);
  const title = target.kind === 'template' ? `Seal template ${target.template.name}`
    : target.kind === 'pool' ? `Sysprep pool ${target.pool.name} (${target.vms.length} VMs)`
      : target.vms.length === 1 ? `Sysprep VM ${target.vms[0].name}` : `Sysprep ${target.vms.length} VMs`;

  const ops = operationsSection();
  const fields = app.catalog.customizations.map((c) => fieldFor(c, contexts)).filter(Boolean);
  const profile = profileSection(target, (p) => {
    ops.apply(p?.operations ?? {});
    for (const f of fields) f.set(p?.params?.[f.key]);
  });
  const mode = optionsSection();
  const summary = h('div', { class: 'error', role: 'alert', id: 'dialog-errors' });
  const runButton = h('button', { type: 'submit', class: 'primary', id: 'dialog-run', text: target.kind === 'template' ? 'Seal' : 'Run sysprep' });
  const cancelButton = h('button', { type: 'button', text: 'Cancel', onclick: () => dialog.close() });

  const form = h('form', { method: 'dialog', class: 'sysprep-form', novalidate: true, onsubmit: (e) => {
    e.preventDefault();
    void submit();
  } },
  h('header', { class: 'dialog-head' },
    h('h2', { id: 'dialog-title', text: title }),
    h('button', { type: 'button', class: 'close', 'aria-label': 'Close', text: '\u00d7', onclick: () => dialog.close() })),
  h('div', { class: 'dialog-body' },
    targetSummary(target),
    profile.el,
    h('fieldset', { class: 'customizations' },
      h('legend', { text: 'Parameters' }),
      h('p', { class: 'help', text: `Empty fields are left out. Text values may use ${PATTERN_VARIABLES.map((v) => `\${${v}}`).join(' ')}: each VM gets its own value.` }),
      fields.map((f) => f.el)),
    mode.el,
    ops.el),
  h('footer', { class: 'dialog-foot' }, summary, h('div', { class: 'buttons' }, cancelButton, runButton)));

  async function submit() {
    replace(summary);
    const errors = fields.map((f) => f.check()).filter(Boolean);
    if (errors.length) {
      replace(summary, h('p', { text: errors.length === 1 ? errors[0] : `${errors.length} fields need a fix: ${errors[0]}` }));
      fields.find((f) => f.error)?.focus();
      return;
    }
    const body = { ...profile.read(fields), operations: { only: ops.read() }, params: Object.fromEntries(fields.map((f) => [f.key, f.read()]).filter(([, v]) => v !== undefined)), ...mode.read() };
    // The form shows the profile's values whole: what it sends is the whole value of each
    // key, not an addition to the profile's lists (docs/api.md "Params over a profile").
    const keys = Object.keys(body.params);
    if (body.profile && keys.length) body.replace = keys;
    runButton.disabled = true;
    try {
      const { job } = await post(target, body);
      app.toast(`Job ${job.id.slice(0, 8)} started`, 'ok');
      closeQuietly = true;
      opts.onStarted?.(job);
      dialog.close();
      app.go(`#/jobs/${encodeURIComponent(job.id)}`);
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      const owner = err.field && fields.find((f) => err.field === `params.${f.key}` || err.field.startsWith(`params.${f.key}[`) || err.field.startsWith(`params.${f.key}.`));
      if (owner) {
        owner.showError(err.message);
        owner.focus();
      }
      replace(summary, h('p', { text: err.message }));
      if (!owner) runButton.focus();
    } finally {
      runButton.disabled = false;
    }
  }

  let closeQuietly = false;
  replace(dialog, form);
  dialog.addEventListener('close', () => {
    opts.returnFocus?.focus();
    if (!closeQuietly) opts.onClose?.();
  }, { once: true });
  profile.init();
  dialog.showModal();
  profile.focus();
}

/** The pattern context of each VM, as the engine builds it (the shared patternContext). */
function contextsOf(target) {
  if (target.kind === 'template') return [patternContext(target.template, 1, { template: target.template.name })];
  const { inv } = target;
  return target.vms.map((v, i) => patternContext(v, i + 1, {
    pool: target.kind === 'pool' ? target.pool.name : v.poolId ? inv.poolsById.get(v.poolId)?.name : undefined,
    template: v.templateId ? inv.templatesById.get(v.templateId)?.name : undefined,
  }));
}

function post(target, body) {
  if (target.kind === 'template') return api('POST', `/templates/${encodeURIComponent(target.template.id)}/sysprep`, body);
  if (target.kind === 'pool') return api('POST', `/pools/${encodeURIComponent(target.pool.id)}/sysprep`, body);
  if (target.vms.length === 1) return api('POST', `/vms/${encodeURIComponent(target.vms[0].id)}/sysprep`, body);
  return api('POST', '/sysprep', { ...body, vms: target.vms.map((v) => v.id) });
}

function targetSummary(target) {
  const names = target.kind === 'template' ? [target.template.name] : target.vms.map((v) => v.name);
  const shown = names.slice(0, 12);
  return h('div', { class: 'target' },
    h('span', { class: 'label', text: target.kind === 'template' ? 'Template: ' : 'VMs: ' }),
    h('span', { id: 'dialog-target', text: shown.join(', ') + (names.length > shown.length ? ` and ${names.length - shown.length} more` : '') }));
}

// ---- profile -----------------------------------------------------------------------

function profileSection(target, apply) {
  const id = newId('profile');
  // The engine's defaults: template-seal for a template; a VM or pool gets clone-reset
  // (what a clone wants) unless the user picks another.
  const initial = target.kind === 'template' ? 'template-seal' : 'clone-reset';
  const select = h('select', { id, 'aria-describedby': `${id}-help` },
    target.kind === 'template' ? null : h('option', { value: '', text: '(none: the tool\u2019s defaults)' }),
    app.profiles.map((p) => h('option', { value: p.name, text: p.builtIn ? `${p.name} (built-in)` : p.name })));
  const help = h('p', { class: 'help', id: `${id}-help` });
  const current = () => app.profiles.find((p) => p.name === select.value);
  const change = () => {
    replace(help, current()?.description ?? 'virt-sysprep\u2019s default operations, no customisation.');
    apply(current());
  };
  select.addEventListener('change', change);
  return {
    el: h('div', { class: 'field' }, h('label', { for: id, text: 'Start from profile' }), select, help),
    init() {
      select.value = app.profiles.some((p) => p.name === initial) ? initial : select.options[0]?.value ?? '';
      change();
    },
    focus: () => select.focus(),
    /**
     * The request names the profile (for the record) only when it adds nothing the form
     * does not show: every param of the profile is still in the form (the operations are
     * always sent as `only`). A template falls back to full-defaults, which has no params,
     * because the engine would otherwise apply template-seal's.
     */
    read(fields) {
      const p = current();
      if (!p) return {};
      const kept = Object.keys(p.params ?? {}).every((k) => fields.find((f) => f.key === k)?.read() !== undefined);
      if (kept) return { profile: p.name };
      return target.kind === 'template' ? { profile: 'full-defaults' } : {};
    },
  };
}

// ---- operations --------------------------------------------------------------------

function operationsSection() {
  const known = app.catalog.items;
  const boxes = new Map();
  const count = h('span', { class: 'count', 'aria-live': 'polite' });
  const recount = () => replace(count, `${[...boxes.values()].filter((b) => b.checked).length} of ${known.length} selected`);
  const set = (names) => {
    for (const [name, box] of boxes) box.checked = names.has(name);
    recount();
  };
  const list = h('ul', { class: 'ops' }, known.map((op) => {
    const id = newId('op');
    const box = h('input', { type: 'checkbox', id, name: 'operation', value: op.name, onchange: recount, 'aria-describedby': `${id}-d` });
    boxes.set(op.name, box);
    return h('li', {}, box,
      h('label', { for: id }, h('code', { text: op.name }), op.defaultEnabled ? h('span', { class: 'tag', text: 'virt-sysprep default' }) : null),
      h('span', { class: 'desc', id: `${id}-d`, text: op.name === 'customize' ? `${op.description} (added by the engine when a parameter above is set)` : op.description }));
  }));
  // Folded: the profile chose them; most runs never open this.
  return {
    el: h('details', { class: 'operations', id: 'dialog-operations' },
      h('summary', {}, 'Operations ', count),
      h('div', { class: 'toolbar' },
        h('button', { type: 'button', text: 'virt-sysprep defaults', onclick: () => set(selectedOperations({}, known)) }),
        h('button', { type: 'button', text: 'None', onclick: () => set(new Set()) })),
      list),
    /** A profile's selection as the engine resolves it (the shared selectedOperations). */
    apply: (sel) => set(selectedOperations(sel, known)),
    read: () => [...boxes].filter(([, b]) => b.checked).map(([n]) => n),
  };
}

// ---- run options -------------------------------------------------------------------

function optionsSection() {
  const safe = h('input', { type: 'radio', name: 'mode', id: 'mode-safe', value: 'safe', checked: true });
  const inPlace = h('input', { type: 'radio', name: 'mode', id: 'mode-in-place', value: 'in_place' });
  const dry = h('input', { type: 'checkbox', id: 'dry-run' });
  return {
    el: h('fieldset', { class: 'options' },
      h('legend', { text: 'Run' }),
      h('div', { class: 'choice' }, safe, h('label', { for: 'mode-safe', text: 'Safe: work on overlays, write the disks only on success' })),
      h('div', { class: 'choice' }, inPlace, h('label', { for: 'mode-in-place', text: 'In place: write the disks directly' })),
      h('div', { class: 'choice' }, dry, h('label', { for: 'dry-run', text: 'Dry run: report what would be done, change nothing' }))),
    read: () => ({ mode: inPlace.checked ? 'in_place' : 'safe', dryRun: dry.checked }),
  };
}

// ---- customisation fields ----------------------------------------------------------

/** The widget builders by the catalog's `widget` name (shared/catalog/Customization.ts). */
const WIDGETS = {
  hostname: (c, id, d, ctx) => hostnameWidget(id, d, ctx.contexts, c.placeholder, c.label),
  password: (c, id, d, ctx) => passwordWidget(id, d, ctx.disabled),
  users: (c, id, d) => usersWidget(id, d, !app.isAdmin()),
  timezone: (c, id, d) => timezoneWidget(id, d, c.placeholder),
  script: (c, id, d, ctx) => scriptWidget(id, d, ctx.disabled),
  text: (c, id, d, ctx) => textWidget(id, d, ctx.disabled, c.placeholder),
  list: (c, id, d, ctx) => listWidget(id, d, ctx.disabled, c.placeholder),
  checkbox: (c, id, d, ctx) => checkboxWidget(id, d, ctx.disabled),
  yaml: (c, id, d, ctx) => yamlWidget(c.key, id, d, ctx.disabled, c.placeholder),
};

/**
 * One form field per catalog entry: {key, el, read(), set(v), check(), showError(m), focus()}.
 * read() gives the param value or undefined (left out); check() the API's message or null.
 */
function fieldFor(c, contexts) {
  // The entry's least role (users: its passwords are an admin's, the widget knows).
  const disabled = c.role === 'admin' && !app.isAdmin();
  const id = `param-${c.key}`;
  const error = h('p', { class: 'field-error', id: `${id}-error` });
  const help = h('p', { class: 'help', id: `${id}-help` }, c.help ?? c.description, h('code', { class: 'flag', text: c.flag }),
    c.needsNetwork ? h('span', { class: 'tag', text: 'needs network' }) : null,
    disabled ? h('span', { class: 'tag', text: 'admin only' }) : null);
  const describedBy = `${id}-help ${id}-error`;
  const widget = WIDGETS[c.widget]?.(c, id, describedBy, { contexts, disabled });
  if (!widget) return null;

  const field = {
    key: c.key,
    error: null,
    el: h('div', { class: `field param param-${c.key}` },
      widget.labelled === false ? h('span', { class: 'label', id: `${id}-label`, text: c.label }) : h('label', { for: id, text: c.label }),
      widget.el, help, error),
    read: widget.read,
    set: (v) => {
      widget.set(v);
      field.check();
    },
    showError(message) {
      field.error = message;
      replace(error, message ?? '');
      widget.el.querySelectorAll('input, textarea, select').forEach((i) => i.setAttribute('aria-invalid', message ? 'true' : 'false'));
      if (widget.el.matches('input, textarea, select')) widget.el.setAttribute('aria-invalid', message ? 'true' : 'false');
    },
    check() {
      const value = widget.read();
      // The widget's own reading first (YAML syntax), then the engine's own check: the
      // sample VM, then each VM of the request.
      const message = widget.problem?.() ?? (value === undefined ? null : paramsProblem({ [c.key]: value }, contexts)?.message ?? null);
      field.showError(message);
      widget.preview?.(value);
      return message;
    },
    focus: () => (widget.focusable?.() ?? widget.el).focus(),
  };
  widget.el.addEventListener('input', () => field.check());
  widget.el.addEventListener('change', () => field.check());
  return field;
}

const lines = (text) => text.split('\n').map((s) => s.trim()).filter(Boolean);

function hostnameWidget(id, describedBy, contexts, placeholder, label) {
  const input = h('input', { id, type: 'text', autocomplete: 'off', spellcheck: 'false', placeholder, 'aria-describedby': `${describedBy} ${id}-preview` });
  const preview = h('ul', { class: 'preview', id: `${id}-preview`, 'aria-label': `${label} of the first VMs`, 'aria-live': 'polite' });
  const el = h('div', { class: 'hostname' }, input, preview);
  return {
    el,
    read: () => (input.value.trim() === '' ? undefined : input.value.trim()),
    set: (v) => { input.value = typeof v === 'string' ? v : ''; },
    focusable: () => input,
    preview(value) {
      if (value === undefined) return replace(preview);
      const items = contexts.slice(0, PREVIEW_COUNT).map((ctx) => {
        let name;
        try {
          name = renderString(value, ctx, 'params.hostname', true);
        } catch {
          name = '\u2014';
        }
        return h('li', {}, h('span', { class: 'vm', text: ctx.vm }), ' \u2192 ', h('code', { text: name }));
      });
      if (contexts.length > PREVIEW_COUNT) items.push(h('li', { class: 'more', text: `\u2026 and ${contexts.length - PREVIEW_COUNT} more` }));
      replace(preview, items);
    },
  };
}

/** {value}, {random: true}, {disabled: true} or left out; the value field is masked. */
function passwordWidget(id, describedBy, disabled) {
  const kind = h('select', { id, disabled, 'aria-describedby': describedBy },
    h('option', { value: '', text: 'Leave as it is' }),
    h('option', { value: 'value', text: 'Set to\u2026' }),
    h('option', { value: 'random', text: 'Random (not shown anywhere)' }),
    h('option', { value: 'disabled', text: 'Disable password login' }));
  const value = h('input', { type: 'password', id: `${id}-value`, autocomplete: 'new-password', 'aria-label': 'New password', hidden: true });
  kind.addEventListener('change', () => {
    value.hidden = kind.value !== 'value';
    if (!value.hidden) value.focus();
  });
  return {
    el: h('div', { class: 'password' }, kind, value),
    read() {
      if (kind.value === 'value') return value.value === '' ? undefined : { value: value.value };
      if (kind.value === 'random') return { random: true };
      if (kind.value === 'disabled') return { disabled: true };
      return undefined;
    },
    set() {
      kind.value = '';
      value.value = '';
      value.hidden = true;
    },
    focusable: () => kind,
  };
}

function usersWidget(id, describedBy, noPasswords) {
  const rows = [];
  const list = h('div', { class: 'users' });
  const add = h('button', { type: 'button', id, text: 'Add a user', 'aria-describedby': describedBy, onclick: () => {
    addRow();
    rows.at(-1).name.focus();
  } });
  const addRow = () => {
    const n = newId('user');
    const name = h('input', { id: `${n}-name`, type: 'text', autocomplete: 'off', spellcheck: 'false' });
    const pw = passwordWidget(`${n}-pw`, describedBy, noPasswords);
    const keys = h('textarea', { id: `${n}-keys`, rows: 2, spellcheck: 'false', placeholder: 'ssh-ed25519 AAAA... admin@example' });
    const row = { name, pw, keys };
    const el = h('fieldset', { class: 'user' },
      h('legend', { class: 'sr-only', text: 'User' }),
      h('div', { class: 'field' }, h('label', { for: `${n}-name`, text: 'User name' }), name),
      h('div', { class: 'field' }, h('label', { for: `${n}-pw`, text: noPasswords ? 'Password (admin only)' : 'Password' }), pw.el),
      h('div', { class: 'field' }, h('label', { for: `${n}-keys`, text: 'SSH public keys, one per line' }), keys),
      h('button', { type: 'button', class: 'link', text: 'Remove this user', onclick: () => {
        rows.splice(rows.indexOf(row), 1);
        el.remove();
        list.dispatchEvent(new Event('input', { bubbles: true }));
        add.focus();
      } }));
    rows.push(row);
    list.append(el);
  };
  return {
    el: h('div', { class: 'users-widget' }, list, add),
    labelled: false,
    read() {
      const users = rows.filter((r) => r.name.value.trim() || r.keys.value.trim() || r.pw.read()).map((r) => {
        const u = { name: r.name.value.trim() };
        const pw = r.pw.read();
        if (pw) u.password = pw;
        const keys = lines(r.keys.value);
        if (keys.length) u.sshKeys = keys;
        return u;
      });
      return users.length ? users : undefined;
    },
    set() {
      rows.splice(0);
      list.replaceChildren();
    },
    focusable: () => rows[0]?.name ?? add,
  };
}

function timezoneWidget(id, describedBy, placeholder) {
  timezones ??= Intl.supportedValuesOf('timeZone');
  const listId = `${id}-list`;
  const input = h('input', { id, type: 'text', list: listId, autocomplete: 'off', spellcheck: 'false', placeholder, 'aria-describedby': describedBy });
  return {
    el: h('div', {}, input, h('datalist', { id: listId }, timezones.map((z) => h('option', { value: z })))),
    read: () => (input.value.trim() === '' ? undefined : input.value.trim()),
    set: (v) => { input.value = typeof v === 'string' ? v : ''; },
    focusable: () => input,
  };
}

function scriptWidget(id, describedBy, disabled) {
  const area = h('textarea', { id, rows: 4, spellcheck: 'false', disabled, placeholder: '#!/bin/sh\n', 'aria-describedby': describedBy });
  return {
    el: area,
    read: () => (area.value.trim() === '' ? undefined : [area.value]),
    set: (v) => { area.value = Array.isArray(v) ? v.join('\n') : ''; },
  };
}

// Widgets that fit any entry of their value type: a new customisation picks one.

function checkboxWidget(id, describedBy, disabled) {
  const box = h('input', { id, type: 'checkbox', disabled, 'aria-describedby': describedBy });
  return { el: box, read: () => (box.checked ? true : undefined), set: (v) => { box.checked = v === true; } };
}

/** A list of strings, one per line. */
function listWidget(id, describedBy, disabled, placeholder = 'one per line') {
  const area = h('textarea', { id, rows: 2, spellcheck: 'false', disabled, placeholder, 'aria-describedby': describedBy });
  return {
    el: area,
    read: () => (lines(area.value).length ? lines(area.value) : undefined),
    // A single word where a list may stand (a profile's `identity: all`) is a one-line list.
    set: (v) => { area.value = Array.isArray(v) ? v.join('\n') : typeof v === 'string' ? v : ''; },
  };
}

/** A structured value (a list of objects) as YAML or JSON text; the catalog checks the value. */
function yamlWidget(key, id, describedBy, disabled, placeholder) {
  const area = h('textarea', { id, rows: 5, class: 'yaml', spellcheck: 'false', disabled, placeholder, 'aria-describedby': describedBy });
  const reading = () => (area.value.trim() === '' ? undefined : readYamlText(area.value));
  return {
    el: area,
    read: () => reading()?.value,
    problem: () => {
      const r = reading();
      return r && 'problem' in r ? `params.${key}: ${r.problem}` : null;
    },
    set: (v) => { area.value = yamlText(v); },
  };
}

function textWidget(id, describedBy, disabled, placeholder) {
  const input = h('input', { id, type: 'text', disabled, placeholder, 'aria-describedby': describedBy });
  return { el: input, read: () => (input.value.trim() === '' ? undefined : input.value.trim()), set: (v) => { input.value = typeof v === 'string' ? v : ''; } };
}
