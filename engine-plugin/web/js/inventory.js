// The inventory view: VMs (multi-select) with their host and last sysprep, pools and
// templates with their status, the buttons that open the sysprep dialog and, for admins,
// clone, import and delete. A viewer sees the lists only.
import { listAll } from './api.js';
import { badge, h, newId, replace } from './dom.js';
import { cloneButton, deleteButton, deleteCell, importButton } from './inventoryActions.js';
import { vmExtraCells } from './vmColumns.js';
import { app } from './state.js';
import { openSysprepDialog } from './sysprepDialog.js';

const TABS = [
  { id: 'vms', label: 'VMs' },
  { id: 'pools', label: 'Pools' },
  { id: 'templates', label: 'Templates' },
];

/** VM ids selected in the VM list; kept while the user moves between views. */
const selected = new Set();
let filter = '';

/** After a job started on them, the VMs are no longer selected. */
function clearSelection() {
  selected.clear();
}

export async function loadInventory() {
  const [vms, pools, templates] = await Promise.all([listAll('/vms'), listAll('/pools'), listAll('/templates')]);
  return {
    vms,
    pools,
    templates,
    vmsById: new Map(vms.map((v) => [v.id, v])),
    poolsById: new Map(pools.map((p) => [p.id, p])),
    templatesById: new Map(templates.map((t) => [t.id, t])),
  };
}

export async function renderInventory(main, tab) {
  if (!TABS.some((t) => t.id === tab)) tab = 'vms';
  const inv = await loadInventory();
  for (const id of selected) if (!inv.vmsById.has(id)) selected.delete(id);

  const panel = h('div', { class: 'panel', id: 'inventory-panel', role: 'region', 'aria-label': TABS.find((t) => t.id === tab).label });
  const tabs = h('div', { class: 'tabs', role: 'group', 'aria-label': 'Inventory lists' },
    TABS.map((t) => h('a', { href: `#/inventory?tab=${t.id}`, class: 'tab', 'aria-current': t.id === tab ? 'page' : null, text: `${t.label} (${inv[t.id].length})` })));
  const refresh = h('button', { type: 'button', text: 'Refresh', onclick: () => void app.route() });
  replace(main, h('div', { class: 'view' },
    h('div', { class: 'view-head' }, h('h2', { text: 'Inventory' }), h('div', { class: 'buttons' }, tab === 'vms' ? importButton() : null, refresh)),
    tabs, panel));
  if (tab === 'vms') renderVms(panel, inv);
  else if (tab === 'pools') renderPools(panel, inv);
  else renderTemplates(panel, inv);
}

function renderVms(panel, inv) {
  const canRun = app.canRun();
  const hint = h('p', { class: 'help', id: 'selection-hint', 'aria-live': 'polite' });
  const runButton = h('button', { type: 'button', class: 'primary', id: 'sysprep-vms', 'aria-describedby': 'selection-hint', onclick: () => {
    const vms = [...selected].map((id) => inv.vmsById.get(id));
    openSysprepDialog({ kind: 'vms', vms, inv }, { returnFocus: runButton, onStarted: clearSelection });
  } });
  const tbody = h('tbody');
  const allBox = h('input', { type: 'checkbox', id: 'select-all', 'aria-label': 'Select every VM shown that is down' });

  const shown = () => inv.vms.filter((v) => v.name.toLowerCase().includes(filter.toLowerCase()));
  const update = () => {
    const vms = [...selected].map((id) => inv.vmsById.get(id));
    const notDown = vms.filter((v) => v.status !== 'down');
    replace(runButton, `Sysprep\u2026${vms.length ? ` (${vms.length})` : ''}`);
    runButton.disabled = vms.length === 0 || notDown.length > 0;
    replace(hint, vms.length === 0 ? 'Select the VMs to sysprep (they must be down).'
      : notDown.length ? `Only VMs that are down can be syspreped: ${notDown.map((v) => `${v.name} is ${v.status.replace(/_/g, ' ')}`).join(', ')}.`
        : `${vms.length} VM${vms.length > 1 ? 's' : ''} selected.`);
    const downShown = shown().filter((v) => v.status === 'down');
    allBox.checked = downShown.length > 0 && downShown.every((v) => selected.has(v.id));
    allBox.indeterminate = !allBox.checked && downShown.some((v) => selected.has(v.id));
  };
  allBox.addEventListener('change', () => {
    for (const v of shown().filter((x) => x.status === 'down')) {
      if (allBox.checked) selected.add(v.id);
      else selected.delete(v.id);
    }
    fill();
  });

  const fill = () => {
    const rows = shown().map((v) => {
      const pool = v.poolId ? inv.poolsById.get(v.poolId)?.name : '';
      const template = v.templateId ? inv.templatesById.get(v.templateId)?.name : '';
      const boxId = newId('vm');
      return h('tr', { 'data-vm': v.name, class: selected.has(v.id) ? 'selected' : null },
        canRun ? h('td', { class: 'pick' }, h('input', { type: 'checkbox', id: boxId, checked: selected.has(v.id), 'aria-label': `Select ${v.name}`, onchange: (e) => {
          if (e.target.checked) selected.add(v.id);
          else selected.delete(v.id);
          e.target.closest('tr').classList.toggle('selected', e.target.checked);
          update();
        } })) : null,
        h('th', { scope: 'row', 'data-label': 'Name' }, canRun ? h('label', { for: boxId, text: v.name }) : v.name),
        h('td', { 'data-label': 'Status' }, badge(v.status)),
        h('td', { 'data-label': 'Pool', text: pool ?? '' }),
        h('td', { 'data-label': 'Template', text: template ?? '' }),
        vmExtraCells(v),
        h('td', { 'data-label': 'Disks', class: 'paths', text: v.disks.map((d) => d.path).join(', ') }),
        deleteCell('vm', v));
    });
    replace(tbody, rows.length ? rows : h('tr', {}, h('td', { colspan: 9, class: 'empty', text: inv.vms.length ? 'No VM matches the filter.' : 'No VM in the inventory.' })));
    update();
  };

  const search = h('input', { type: 'search', id: 'vm-filter', value: filter, placeholder: 'Filter by name', oninput: (e) => {
    filter = e.target.value;
    fill();
  } });
  replace(panel,
    h('div', { class: 'toolbar' },
      h('label', { for: 'vm-filter', class: 'sr-only', text: 'Filter VMs by name' }), search,
      canRun ? runButton : null),
    canRun ? hint : null,
    h('table', { class: 'list' },
      h('caption', { class: 'sr-only', text: 'Virtual machines' }),
      h('thead', {}, h('tr', {},
        canRun ? h('th', { class: 'pick' }, allBox) : null,
        ['Name', 'Status', 'Pool', 'Template', 'Host', 'Last sysprep', 'Disks'].map((c) => h('th', { scope: 'col', text: c })),
        app.isAdmin() ? h('th', { scope: 'col', text: 'Actions' }) : null)),
      tbody));
  fill();
}

function renderPools(panel, inv) {
  const rows = inv.pools.map((p) => {
    const vms = p.vmIds.map((id) => inv.vmsById.get(id)).filter(Boolean);
    const down = vms.filter((v) => v.status === 'down').length;
    const template = p.templateId ? inv.templatesById.get(p.templateId)?.name : '';
    const button = h('button', { type: 'button', text: 'Sysprep\u2026', 'aria-label': `Sysprep pool ${p.name}`, onclick: () => openSysprepDialog({ kind: 'pool', pool: p, vms, inv }, { returnFocus: button }) });
    return h('tr', { 'data-pool': p.name },
      h('th', { scope: 'row', 'data-label': 'Name', text: p.name }),
      h('td', { 'data-label': 'VMs', text: String(vms.length) }),
      h('td', { 'data-label': 'Status', text: `${down} down, ${vms.length - down} not down` }),
      h('td', { 'data-label': 'Template', text: template ?? '' }),
      app.canRun() ? h('td', { class: 'actions' }, button, deleteButton('pool', p)) : null);
  });
  replace(panel, h('table', { class: 'list' },
    h('caption', { class: 'sr-only', text: 'VM pools' }),
    h('thead', {}, h('tr', {}, ['Name', 'VMs', 'Status', 'Template'].map((c) => h('th', { scope: 'col', text: c })), app.canRun() ? h('th', { scope: 'col', text: 'Actions' }) : null)),
    h('tbody', {}, rows.length ? rows : h('tr', {}, h('td', { colspan: 5, class: 'empty', text: 'No pool in the inventory.' })))));
}

function renderTemplates(panel, inv) {
  const clones = new Map();
  for (const v of inv.vms) if (v.templateId) clones.set(v.templateId, (clones.get(v.templateId) ?? 0) + 1);
  const rows = inv.templates.map((t) => {
    const button = h('button', { type: 'button', text: 'Seal\u2026', 'aria-label': `Seal template ${t.name}`, onclick: () => openSysprepDialog({ kind: 'template', template: t, vms: [], inv }, { returnFocus: button }) });
    const n = clones.get(t.id) ?? 0;
    return h('tr', { 'data-template': t.name },
      h('th', { scope: 'row', 'data-label': 'Name', text: t.name }),
      h('td', { 'data-label': 'Used by', text: n ? `${n} VM${n > 1 ? 's' : ''} (sealing is refused while clones use it)` : 'no VM' }),
      h('td', { 'data-label': 'Disks', class: 'paths', text: t.disks.map((d) => d.path).join(', ') }),
      app.canRun() ? h('td', { class: 'actions' }, button, cloneButton(t), deleteButton('template', t)) : null);
  });
  replace(panel, h('table', { class: 'list' },
    h('caption', { class: 'sr-only', text: 'Templates' }),
    h('thead', {}, h('tr', {}, ['Name', 'Used by', 'Disks'].map((c) => h('th', { scope: 'col', text: c })), app.canRun() ? h('th', { scope: 'col', text: 'Actions' }) : null)),
    h('tbody', {}, rows.length ? rows : h('tr', {}, h('td', { colspan: 4, class: 'empty', text: 'No template in the inventory.' })))));
}
