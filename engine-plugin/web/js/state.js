// What every view shares: who signed in, the catalogs, and small page-wide helpers.
import { h, replace } from './dom.js';

export const app = {
  /** {name, role} from GET /whoami. */
  me: null,
  /** GET /operations: {items: operations, customizations, virtSysprepVersions}. */
  catalog: null,
  profiles: [],
  /** True when the page runs inside the oVirt UI plugin's dialog. */
  embedded: false,
  /** Set by main.js: renders the view of the current URL fragment. */
  route: async () => {},
  canRun() {
    return Boolean(this.me) && this.me.role !== 'viewer';
  },
  isAdmin() {
    return this.me?.role === 'admin';
  },
  toast(message, kind = 'info') {
    const t = document.getElementById('toast');
    replace(t, h('span', { class: `toast-${kind}`, text: message }));
    clearTimeout(this.toastTimer);
    this.toastTimer = setTimeout(() => replace(t), 8000);
  },
  go(hash) {
    if (location.hash === hash) void this.route();
    else location.hash = hash;
  },
};
