// The hosts view: each host agent as GET /hosts reports it (health, versions, free space
// per storage root, jobs running and queued). Read-only for every role: hosts come from
// engine.conf (or oVirt), not from the page.
import { api } from './api.js';
import { badge, formatTime, h, replace } from './dom.js';
import { app } from './state.js';

export async function renderHosts(main) {
  const { items } = await api('GET', '/hosts');
  const rows = items.map((x) => h('tr', { 'data-host': x.id },
    h('th', { scope: 'row', 'data-label': 'Host' }, x.name, x.name !== x.id ? h('span', { class: 'tag', text: x.id }) : null),
    h('td', { 'data-label': 'Agent' }, badge(x.healthy ? 'healthy' : 'unreachable'), ' ', h('code', { text: x.agentAddress }),
      !x.healthy && x.lastError ? h('p', { class: 'error', text: x.lastError }) : null),
    h('td', { 'data-label': 'Versions', class: 'versions' }, x.versions
      ? [`agent ${x.versions.agent}`, `virt-sysprep ${x.versions.virtSysprep}`, `qemu-img ${x.versions.qemuImg}`].map((v) => h('div', { text: v }))
      : null),
    h('td', { 'data-label': 'Hypervisor', text: x.hypervisor ?? '' }),
    h('td', { 'data-label': 'Storage' }, (x.storage ?? x.storageRoots.map((path) => ({ path }))).map((r) =>
      h('div', {}, h('span', { class: 'paths', text: r.path }), r.totalBytes ? h('span', { class: 'free', text: ` ${formatBytes(r.freeBytes)} free of ${formatBytes(r.totalBytes)}` }) : null))),
    h('td', { 'data-label': 'Jobs', class: 'jobs-load', text: `${x.jobs.running} running, ${x.jobs.queued} queued (at most ${x.maxConcurrentJobs} at once)` }),
    h('td', { 'data-label': 'Checked', text: formatTime(x.checkedAt) })));
  replace(main, h('div', { class: 'view' },
    h('div', { class: 'view-head' }, h('h2', { text: 'Hosts' }), h('button', { type: 'button', text: 'Refresh', onclick: () => void app.route() })),
    h('table', { class: 'list hosts' },
      h('caption', { class: 'sr-only', text: 'Host agents' }),
      h('thead', {}, h('tr', {}, ['Host', 'Agent', 'Versions', 'Hypervisor', 'Storage', 'Jobs', 'Checked'].map((c) => h('th', { scope: 'col', text: c })))),
      h('tbody', {}, rows.length ? rows : h('tr', {}, h('td', { colspan: 7, class: 'empty', text: 'No host is configured ([host:ID] in engine.conf).' }))))));
}

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

function formatBytes(n) {
  let i = 0;
  let v = Number(n);
  while (v >= 1024 && i < UNITS.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v >= 10 || i === 0 ? Math.round(v) : v.toFixed(1)} ${UNITS[i]}`;
}
