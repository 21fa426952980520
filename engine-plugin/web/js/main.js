// The admin page: sign-in, then the inventory (VMs, pools, templates), the hosts, the
// sysprep dialog and the jobs views, chosen by the URL fragment:
//   #/inventory[?tab=vms|pools|templates]   #/hosts   #/jobs[?state=S&kind=K&vm=ID]   #/jobs/ID
//   #/sysprep?kind=vm&ids=A,B | kind=pool&id=P | kind=template&id=T [&token=...]
// The last one is what the oVirt UI plugin opens in its dialog: the token (the user's
// oVirt SSO token) is moved from the fragment to sessionStorage at once.
import { api, ApiError, session } from './api.js';
import { h, replace } from './dom.js';
import { renderHosts } from './hosts.js';
import { renderInventory, loadInventory } from './inventory.js';
import { renderJobs, renderJob, leaveJobs } from './jobs.js';
import { openSysprepDialog } from './sysprepDialog.js';
import { app } from './state.js';

const main = document.getElementById('main');

function parseHash() {
  const raw = location.hash.replace(/^#/, '') || '/inventory';
  const [path, query = ''] = raw.split('?');
  return { parts: path.split('/').filter(Boolean), query: new URLSearchParams(query) };
}

function signInView(message) {
  const input = h('input', { id: 'token', name: 'token', type: 'password', autocomplete: 'current-password', required: true, 'aria-describedby': 'token-help' });
  const error = h('p', { class: 'error', role: 'alert', id: 'sign-in-error', text: message ?? '' });
  const form = h('form', { class: 'card sign-in', onsubmit: async (e) => {
    e.preventDefault();
    session.token = input.value.trim();
    try {
      await start();
    } catch (err) {
      session.token = null;
      replace(error, err instanceof ApiError && err.status === 401 ? 'This token is not valid.' : err.message);
      input.focus();
    }
  } },
  h('h2', { text: 'Sign in' }),
  h('label', { for: 'token', text: 'API token' }),
  input,
  h('p', { id: 'token-help', class: 'help', text: 'A bearer token from the [tokens] section of engine.conf. It is kept for this browser tab only.' }),
  error,
  h('button', { type: 'submit', class: 'primary', text: 'Sign in' }));
  replace(main, form);
  document.getElementById('nav').hidden = true;
  document.getElementById('who').hidden = true;
  input.focus();
}

/** After a token is known: who am I, the catalogs, then the route. */
async function start() {
  app.me = await api('GET', '/whoami');
  const [catalog, profiles] = await Promise.all([api('GET', '/operations'), api('GET', '/profiles')]);
  app.catalog = catalog;
  app.profiles = profiles.items;
  replace(document.getElementById('who-name'), `${app.me.name} (${app.me.role})`);
  document.getElementById('who').hidden = false;
  document.getElementById('nav').hidden = app.embedded;
  await route();
}

let current = '';
async function route() {
  if (!app.me) return;
  const { parts, query } = parseHash();
  const view = parts[0] ?? 'inventory';
  if (current === 'jobs' && view !== 'jobs') leaveJobs();
  current = view;
  for (const a of document.querySelectorAll('#nav a')) {
    if (a.id === `nav-${view === 'sysprep' ? 'inventory' : view}`) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  try {
    if (view === 'jobs' && parts[1]) await renderJob(main, decodeURIComponent(parts[1]));
    else if (view === 'jobs') await renderJobs(main, query);
    else if (view === 'hosts') await renderHosts(main);
    else if (view === 'sysprep') await embeddedSysprep(query);
    else await renderInventory(main, query.get('tab') ?? 'vms');
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) return signOut('The session ended: sign in again.');
    replace(main, h('div', { class: 'card' }, h('h2', { text: 'Something went wrong' }), h('p', { class: 'error', role: 'alert', text: err.message })));
  }
}

/** The oVirt UI plugin's dialog: open the sysprep dialog on the given selection. */
async function embeddedSysprep(query) {
  const kind = query.get('kind');
  const inv = await loadInventory();
  let target;
  if (kind === 'vm') {
    const ids = (query.get('ids') ?? '').split(',').filter(Boolean);
    const vms = ids.map((id) => inv.vms.find((v) => v.id === id || v.name === id));
    if (!ids.length || vms.some((v) => !v)) throw new Error(`unknown VM in the selection: ${ids.filter((_, i) => !vms[i]).join(', ') || '(none selected)'}`);
    target = { kind: 'vms', vms, inv };
  } else if (kind === 'pool' || kind === 'template') {
    const id = query.get('id');
    const list = kind === 'pool' ? inv.pools : inv.templates;
    const item = list.find((x) => x.id === id || x.name === id);
    if (!item) throw new Error(`unknown ${kind} "${id}"`);
    target = kind === 'pool' ? { kind: 'pool', pool: item, vms: item.vmIds.map((v) => inv.vmsById.get(v)).filter(Boolean), inv } : { kind: 'template', template: item, vms: [], inv };
  } else {
    throw new Error('the dialog was opened without a selection');
  }
  replace(main, h('p', { class: 'help', text: 'The sysprep dialog is open.' }));
  openSysprepDialog(target, { onClose: () => parent.postMessage({ type: 'ovirt-sysprep:close' }, '*') });
}

function signOut(message) {
  session.token = null;
  app.me = null;
  leaveJobs();
  signInView(message);
}

function boot() {
  app.route = route;
  // A token handed over in the fragment (UI plugin) goes to sessionStorage, out of the URL.
  const { parts, query } = parseHash();
  if (parts[0] === 'sysprep') {
    app.embedded = true;
    document.body.classList.add('embedded');
    if (query.get('token')) {
      session.token = query.get('token');
      query.delete('token');
      history.replaceState(null, '', `#/sysprep?${query}`);
    }
  }
  document.getElementById('sign-out').addEventListener('click', () => signOut());
  window.addEventListener('hashchange', () => void route());
  if (!session.token) return signInView();
  start().catch((err) => signOut(err instanceof ApiError && err.status === 401 ? 'The saved token is not valid any more: sign in again.' : err.message));
}

boot();
