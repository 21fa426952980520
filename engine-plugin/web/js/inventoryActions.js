// The admin's inventory actions (embedded inventory, docs/api.md): clone a VM from a
// template (POST /vms {name, template}), import one from disk images (POST /vms {name,
// disks, host}) and delete a VM, template or pool (DELETE /vms|templates|pools/{id}). Each
// opens a small modal form in #action-dialog; the engine is the judge: its 4xx message is
// shown at the field it names and the form stays open.
import { api, ApiError } from './api.js';
import { h, newId, replace } from './dom.js';
import { app } from './state.js';

/**
 * A modal form. fields: [{name, label, input (element), help}]; onSubmit(values by name)
 * resolves when done (the dialog closes) or throws an ApiError (shown, the dialog stays).
 * `field`: maps the API's `details.field` (`disks[0].path`) to one of the field names.
 */
function formDialog({ title, intro, fields, submit, danger = false, onSubmit, field = (f) => f, returnFocus }) {
  const dialog = document.getElementById('action-dialog');
  const errors = new Map(fields.map((f) => [f.name, h('p', { class: 'field-error', id: `${f.input.id}-error`, role: 'alert' })]));
  const general = h('p', { class: 'error', id: 'action-error', role: 'alert' });
  const button = h('button', { type: 'submit', class: danger ? 'danger' : 'primary', text: submit });
  const close = () => {
    dialog.close();
    replace(dialog);
    returnFocus?.focus();
  };
  const form = h('form', { class: 'action-form', method: 'dialog', onsubmit: async (e) => {
    e.preventDefault();
    for (const el of errors.values()) replace(el);
    replace(general);
    for (const f of fields) f.input.removeAttribute('aria-invalid');
    button.disabled = true;
    try {
      await onSubmit(Object.fromEntries(fields.map((f) => [f.name, f.input.value])));
      close();
    } catch (err) {
      const at = err instanceof ApiError && err.field ? fields.find((f) => f.name === field(err.field)) : undefined;
      if (at) {
        replace(errors.get(at.name), err.message);
        at.input.setAttribute('aria-invalid', 'true');
        at.input.focus();
      } else {
        replace(general, err instanceof ApiError ? `${err.message} (${err.code})` : String(err));
      }
    } finally {
      button.disabled = false;
    }
  } },
  h('div', { class: 'dialog-head' }, h('h2', { id: 'action-title', text: title }), h('button', { type: 'button', class: 'close', 'aria-label': 'Close', text: '×', onclick: close })),
  h('div', { class: 'dialog-body' },
    intro ? h('p', {}, intro) : null,
    fields.map((f) => {
      const helpId = f.help ? newId('help') : null;
      if (helpId) f.input.setAttribute('aria-describedby', `${helpId} ${f.input.id}-error`);
      return h('div', { class: 'field' }, h('label', { for: f.input.id, text: f.label }), f.input, f.help ? h('p', { class: 'help', id: helpId, text: f.help }) : null, errors.get(f.name));
    })),
  h('div', { class: 'dialog-foot' }, general, h('div', { class: 'buttons' }, h('button', { type: 'button', text: 'Cancel', onclick: close }), button)));
  replace(dialog, form);
  dialog.addEventListener('cancel', (e) => {
    e.preventDefault();
    close();
  }, { once: true });
  dialog.showModal();
  (fields[0]?.input ?? button).focus();
}

// ---- the buttons the inventory shows an admin (null for other roles) -----------------

export function importButton() {
  if (!app.isAdmin()) return null;
  const button = h('button', { type: 'button', id: 'import-vm', text: 'Import VM\u2026', onclick: () => void openImportDialog(button) });
  return button;
}

export function cloneButton(template) {
  if (!app.isAdmin()) return null;
  const button = h('button', { type: 'button', text: 'Clone\u2026', 'aria-label': `Clone a VM from ${template.name}`, onclick: () => openCloneDialog(template, button) });
  return button;
}

/** kind: vm, pool or template. */
export function deleteButton(kind, item) {
  if (!app.isAdmin()) return null;
  const button = h('button', { type: 'button', class: 'danger', text: 'Delete\u2026', 'aria-label': `Delete ${kind === 'vm' ? 'VM' : kind} ${item.name}`, onclick: () => confirmDelete(kind, item, button) });
  return button;
}

/** The VM list's last column: a table cell for an admin, none for the others (no header either). */
export function deleteCell(kind, item) {
  return app.isAdmin() ? h('td', { class: 'actions' }, deleteButton(kind, item)) : null;
}

// ---- the forms ------------------------------------------------------------------------

/** Tells what a new VM's automatic reset did (POST /vms answers {vm, job?, resetError?}). */
function afterAdd(r, verb) {
  if (r.resetError) app.toast(`VM ${r.vm.name} ${verb}; its automatic reset did not start: ${r.resetError.message}`, 'bad');
  else app.toast(`VM ${r.vm.name} ${verb}${r.job ? '; its automatic reset is running' : ''}`, 'ok');
  void app.route();
}

function openCloneDialog(template, returnFocus) {
  const name = h('input', { type: 'text', id: 'clone-name', required: true, autocomplete: 'off' });
  formDialog({
    title: `Clone a VM from ${template.name}`,
    intro: 'The new VM gets a copy-on-write overlay of each template disk.',
    fields: [{ name: 'name', label: 'Name of the new VM', input: name }],
    submit: 'Clone',
    returnFocus,
    onSubmit: async (v) => afterAdd(await api('POST', '/vms', { name: v.name.trim(), template: template.id }), 'cloned'),
  });
}

async function openImportDialog(returnFocus) {
  const hosts = (await api('GET', '/hosts').catch(() => ({ items: [] }))).items;
  const name = h('input', { type: 'text', id: 'import-name', required: true, autocomplete: 'off' });
  const disks = h('textarea', { id: 'import-disks', rows: 3, required: true, spellcheck: 'false' });
  const format = h('select', { id: 'import-format' }, h('option', { value: '', text: 'as detected' }), h('option', { value: 'qcow2', text: 'qcow2' }), h('option', { value: 'raw', text: 'raw' }));
  const host = h('select', { id: 'import-host' }, h('option', { value: '', text: 'any host that sees the disks' }), hosts.map((x) => h('option', { value: x.id, text: x.name })));
  formDialog({
    title: 'Import a VM',
    intro: 'Registers existing disk images as a VM; the engine never deletes files it did not create.',
    fields: [
      { name: 'name', label: 'Name', input: name },
      { name: 'disks', label: 'Disk images', input: disks, help: 'One path per line, as the host agent sees it, under a storage root.' },
      { name: 'format', label: 'Format', input: format },
      { name: 'host', label: 'Host', input: host },
    ],
    submit: 'Import',
    returnFocus,
    field: (f) => (f.startsWith('disks') ? 'disks' : f),
    onSubmit: async (v) => {
      const paths = v.disks.split('\n').map((p) => p.trim()).filter(Boolean);
      const body = { name: v.name.trim(), disks: paths.map((path) => (v.format ? { path, format: v.format } : { path })) };
      if (v.host) body.host = v.host;
      afterAdd(await api('POST', '/vms', body), 'imported');
    },
  });
}

const DELETES = {
  vm: { path: '/vms', noun: 'VM', what: (x) => (x.templateId ? 'Its copy-on-write overlays are removed; the template stays.' : 'Its disk files stay: the engine did not create them.') },
  template: { path: '/templates', noun: 'template', what: () => 'The engine forgets it; its disk files stay. Refused while a VM or a pool uses it.' },
  pool: { path: '/pools', noun: 'pool', what: (x) => `Its ${x.vmIds.length} VM${x.vmIds.length === 1 ? '' : 's'} are deleted with it (their overlays removed). Refused while one of them is busy.` },
};

/** Asks, then DELETE /vms|templates|pools/{id}; a refusal (409 IN_USE) stays in the dialog. */
function confirmDelete(kind, item, returnFocus) {
  const d = DELETES[kind];
  formDialog({
    title: `Delete ${d.noun} ${item.name}`,
    intro: d.what(item),
    fields: [],
    submit: 'Delete',
    danger: true,
    returnFocus,
    onSubmit: async () => {
      await api('DELETE', `${d.path}/${encodeURIComponent(item.id)}`);
      app.toast(`${d.noun[0].toUpperCase()}${d.noun.slice(1)} ${item.name} deleted`, 'ok');
      void app.route();
    },
  });
}
