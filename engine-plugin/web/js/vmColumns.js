// The VM list's host and last-sysprep cells, from what GET /vms adds to each VM where
// known (`host`, `lastSysprep: {jobId, state, endedAt}`, docs/api.md).
import { badge, formatTime, h } from './dom.js';

/** Where the VM runs or last ran, and its last sysprep: the job's state linked to it, when it ended, and all its jobs. */
export function vmExtraCells(v) {
  const last = v.lastSysprep;
  return [
    h('td', { 'data-label': 'Host', class: 'host-cell', text: v.host ?? '' }),
    h('td', { 'data-label': 'Last sysprep', class: 'last-sysprep' }, last
      ? [h('a', { href: `#/jobs/${encodeURIComponent(last.jobId)}`, 'aria-label': `Last sysprep of ${v.name}: ${last.state}` }, badge(last.state)),
        last.endedAt ? h('span', { class: 'when', text: ` ${formatTime(last.endedAt)}` }) : null,
        ' ', h('a', { href: `#/jobs?vm=${encodeURIComponent(v.id)}`, class: 'history', 'aria-label': `All jobs of ${v.name}`, text: 'all' })]
      : h('span', { class: 'help', text: 'never' })),
  ];
}
