// The oVirt UI plugin in real headless Chromium. A host page stands in for WebAdmin: it is
// served by this test on its own origin (another loopback port, as oVirt and our engine
// are two servers; plugin files under /ovirt-engine/webadmin/plugin/NAME/ as oVirt does),
// defines the documented window.pluginApi and records every call, and loads plugin.html in
// an iframe so that `parent.pluginApi` resolves. The dialog the plugin opens is the
// engine's real page (a running engine + agent; no virt-sysprep run is needed). oVirt's
// REST API, which WebAdmin's origin also serves, is the oVirt API test server
// (test/helpers/ovirtApiServer.ts) behind the same origin: the plugin asks it for a
// template's disks before it offers the seal.
import { readFileSync } from 'node:fs';
import { createServer, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { copyGuestImage, REPO_ROOT } from '../../helpers/guestImage';
import { OvirtApiServer } from '../../helpers/ovirtApiServer';
import { ADMIN, Stack, startStack } from '../engine/stack';
import { launchChromium, screenshot, until, watchContext } from './browser';

jest.setTimeout(5 * 60_000);

const UI_PLUGIN_DIR = path.join(REPO_ROOT, 'engine-plugin', 'ui-plugin');
const descriptor = JSON.parse(readFileSync(path.join(UI_PLUGIN_DIR, 'ovirt-sysprep.json'), 'utf8'));

/** WebAdmin's side of the plugin API, as documented (ovirt-engine-ui-extensions typings). */
function hostPage(config: unknown, ssoToken: string): string {
  return `<!doctype html><html><head><meta charset="utf-8"><title>WebAdmin stand-in</title><script>
  window.__calls = [];
  window.__buttons = [];
  var handlers = null, allowed = [];
  window.pluginApi = function (name) {
    __calls.push(['pluginApi', name]);
    return {
      register: function (h) { handlers = h; __calls.push(['register', Object.keys(h)]); },
      options: function (o) { allowed = [].concat(o.allowedMessageOrigins || []); __calls.push(['options', o]); },
      ready: function () { __calls.push(['ready']); handlers.UiInit(); },
      configObject: function () { return ${JSON.stringify(config)}; },
      ssoToken: function () { return ${JSON.stringify(ssoToken)}; },
      addMenuPlaceActionButton: function (type, label, iface) { __calls.push(['addMenuPlaceActionButton', type, label]); __buttons.push({ type: type, label: label, iface: iface }); },
      showDialog: function (title, token, url, width, height, options) {
        __calls.push(['showDialog', title, token, url, width, height, (options.buttons || []).map(function (b) { return b.label; })]);
        var f = document.createElement('iframe');
        f.id = 'dialog-' + token; f.src = url; f.style.width = width; f.style.height = height;
        document.body.appendChild(f);
      },
      closeDialog: function (token) { __calls.push(['closeDialog', token]); var f = document.getElementById('dialog-' + token); if (f) f.remove(); },
      showAlert: function (type, msg) { __calls.push(['showAlert', type, msg]); },
    };
  };
  window.addEventListener('message', function (e) {
    if (handlers && handlers.MessageReceived && allowed.indexOf(e.origin) >= 0) handlers.MessageReceived(e.data, e.source);
  });
  </script></head><body>
  <iframe id="plugin" src="/ovirt-engine/webadmin/${descriptor.url}" style="display:none"></iframe>
  </body></html>`;
}

describe('oVirt UI plugin (Chromium)', () => {
  let s: Stack;
  let browser: Browser;
  let page: Page;
  let problems: string[];
  let webadmin: Server;
  let WEBADMIN = '';
  const ids: Record<string, string> = {};
  const ovirt = new OvirtApiServer();

  /** An oVirt template (api-model types/Template.java, disks followed) with one disk in `status`. */
  const ovirtTemplate = (id: string, name: string, status: string) => ({
    href: `/ovirt-engine/api/templates/${id}`, id, name, status: 'ok',
    disk_attachments: { disk_attachment: [{ id: `${id.slice(0, 24)}d15c0000${id.slice(-4)}`, active: 'true', disk: { id: `${id.slice(0, 24)}d15c0000${id.slice(-4)}`, alias: `${name}_Disk1`, format: 'cow', status, storage_type: 'image' } }] },
  });

  beforeAll(async () => {
    s = await startStack();
    const disk = path.join(s.storage, 'golden.qcow2');
    await copyGuestImage(disk);
    await s.api('POST', '/templates', { name: 'golden', disks: [{ path: disk }] });
    for (const name of ['app-1', 'app-2']) ids[name] = (await s.api('POST', '/vms', { name, template: 'golden' })).body.vm.id;
    await until(async () => (await s.api('GET', '/operations')).body?.items?.length > 0, 'the operation catalog');

    const config = { ...descriptor.config, engineUrl: s.url };
    await ovirt.start();
    // One SSO token for oVirt and the engine, as in a real install (the engine asks oVirt about it).
    ovirt.acceptToken(ADMIN, 'admin@internal');
    ovirt.templates = [ovirtTemplate((await s.api('GET', '/templates/golden')).body.id, 'golden', 'ok')];
    webadmin = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      if (url.pathname.startsWith('/ovirt-engine/api/')) {
        // oVirt's REST API on WebAdmin's origin: passed on to the oVirt API test server.
        const headers = Object.fromEntries(['authorization', 'accept', 'filter'].filter((k) => req.headers[k]).map((k) => [k, String(req.headers[k])]));
        return void fetch(`${ovirt.url}${req.url}`, { headers }).then(async (r) => res.writeHead(r.status, { 'content-type': 'application/json' }).end(await r.text()));
      }
      const prefix = `/ovirt-engine/webadmin/plugin/${descriptor.name}/`;
      if (url.pathname === '/ovirt-engine/webadmin/') return void res.writeHead(200, { 'content-type': 'text/html' }).end(hostPage(config, ADMIN));
      const name = url.pathname.startsWith(prefix) ? url.pathname.slice(prefix.length) : '';
      if (/^[a-z-]+\.(html|js)$/.test(name)) {
        const body = readFileSync(path.join(UI_PLUGIN_DIR, descriptor.resourcePath, name));
        return void res.writeHead(200, { 'content-type': name.endsWith('.js') ? 'text/javascript' : 'text/html' }).end(body);
      }
      res.writeHead(404).end('not found');
    });
    await new Promise<void>((resolve) => webadmin.listen(0, '127.0.0.1', resolve));
    WEBADMIN = `http://127.0.0.1:${(webadmin.address() as AddressInfo).port}`;

    browser = await launchChromium();
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    problems = watchContext(context, [WEBADMIN, s.url]);
    page = await context.newPage();
    await page.goto(`${WEBADMIN}/ovirt-engine/webadmin/`);
    await page.waitForFunction(() => (window as any).__calls.some((c: unknown[]) => c[0] === 'ready'));
  });

  afterAll(async () => {
    await browser?.close();
    webadmin?.close();
    await ovirt.stop();
    await s?.close();
  });

  afterEach(() => expect(problems).toEqual([]));

  it('has a descriptor WebAdmin can load', () => {
    expect(descriptor).toMatchObject({ name: 'ovirt-sysprep', url: 'plugin/ovirt-sysprep/plugin.html', resourcePath: 'ovirt-sysprep-resources', config: { engineUrl: expect.stringMatching(/^https?:\/\//) } });
  });

  it('registers itself and adds "Sysprep..." to the VM, Pool and Template grids', async () => {
    const calls = await page.evaluate(() => (window as any).__calls);
    expect(calls[0]).toEqual(['pluginApi', descriptor.name]);
    expect(calls.find((c: unknown[]) => c[0] === 'register')[1]).toEqual(expect.arrayContaining(['UiInit', 'MessageReceived']));
    expect(calls.find((c: unknown[]) => c[0] === 'options')[1]).toEqual({ allowedMessageOrigins: [s.url] });
    expect(calls.filter((c: unknown[]) => c[0] === 'addMenuPlaceActionButton')).toEqual([
      ['addMenuPlaceActionButton', 'VirtualMachine', 'Sysprep...'],
      ['addMenuPlaceActionButton', 'Pool', 'Sysprep...'],
      ['addMenuPlaceActionButton', 'Template', 'Sysprep...'],
    ]);
    expect(calls.map((c: unknown[]) => c[0]).indexOf('register')).toBeLessThan(calls.map((c: unknown[]) => c[0]).indexOf('ready'));
  });

  it('enables the buttons only for a selection that can run', async () => {
    const enabled = await page.evaluate(() => {
      const b = (window as any).__buttons;
      const vm = b[0].iface, pool = b[1].iface, tpl = b[2].iface;
      const down = { id: 'a', name: 'a', status: 'Down' }, down2 = { id: 'b', name: 'b', status: 'Down' }, up = { id: 'c', name: 'c', status: 'Up' };
      return {
        vmNone: vm.isEnabled([]),
        vmDown: vm.isEnabled([down, down2]),
        vmDownVarargs: vm.isEnabled(down, down2),
        vmOneUp: vm.isEnabled([down, up]),
        poolOne: pool.isEnabled([{ id: 'p' }]),
        poolTwo: pool.isEnabled([{ id: 'p' }, { id: 'q' }]),
        // A template as WebAdmin gives it: id and name only (ovirt-engine EntityObject.from).
        tplOne: tpl.isEnabled([{ id: 't', name: 'golden' }]),
        tplTwo: tpl.isEnabled([{ id: 't', name: 'golden' }, { id: 'u', name: 'other' }]),
        tplBlank: tpl.isEnabled([{ id: '00000000-0000-0000-0000-000000000000', name: 'Blank' }]),
      };
    });
    expect(enabled).toEqual({ vmNone: false, vmDown: true, vmDownVarargs: true, vmOneUp: false, poolOne: true, poolTwo: false, tplOne: true, tplTwo: false, tplBlank: false });
  });

  it('asks oVirt for a template\'s disks before the seal: a locked or illegal disk is said, no dialog opens', async () => {
    // The entity carries no status, so the old check on it never fired; the disks' status is oVirt's
    // (DiskMapper.mapDiskStatus: "locked" while CopyImageGroupCommand.lockImage holds it, "illegal").
    const locked = ovirtTemplate('7e6d5c4b-3a29-4188-b7a6-9584a3b2c1aa', 'copying', 'locked');
    const illegal = ovirtTemplate('7e6d5c4b-3a29-4188-b7a6-9584a3b2c1bb', 'broken', 'illegal');
    ovirt.templates.push(locked, illegal);
    const dialogsBefore = await page.evaluate(() => (window as any).__calls.filter((c: unknown[]) => c[0] === 'showDialog').length);
    // One click at a time, each waited for: the answers of clicks fired together come in any order.
    let alerts: string[][] = [];
    for (const t of [locked, illegal, { id: '7e6d5c4b-3a29-4188-b7a6-9584a3b2c1cc', name: 'gone' }]) {
      await page.evaluate((x) => (window as any).__buttons[2].iface.onClick([{ id: x.id, name: x.name }]), { id: t.id, name: t.name });
      const want = alerts.length + 1;
      alerts = await until(async () => {
        const a = await page.evaluate(() => (window as any).__calls.filter((c: unknown[]) => c[0] === 'showAlert'));
        return a.length >= want ? a : undefined;
      }, `alert for ${t.name}`);
    }
    expect(alerts.map((c: string[]) => c.slice(1))).toEqual([
      ['warning', 'Template copying cannot be sealed now: its disk copying_Disk1 is locked (oVirt is copying or moving it); try again once it is OK.'],
      ['warning', 'Template broken cannot be sealed now: its disk broken_Disk1 is illegal; repair it in oVirt first.'],
      ['warning', 'Template gone: could not read its disks from oVirt (oVirt answered HTTP 404); not sealed.'],
    ]);
    expect(await page.evaluate(() => (window as any).__calls.filter((c: unknown[]) => c[0] === 'showDialog').length)).toBe(dialogsBefore);
    // Asked with the user's SSO token, filtered to what the user may see, disks followed.
    const asked = ovirt.calls.filter((c) => c.path === `/templates/${locked.id}`);
    expect(asked).toEqual([expect.objectContaining({ method: 'GET', user: 'admin@internal', filter: true, query: { follow: 'disk_attachments.disk' } })]);
  });

  it('opens the engine\'s dialog with the selection and the SSO token', async () => {
    const selection = [{ id: ids['app-1'], name: 'app-1', status: 'Down' }, { id: ids['app-2'], name: 'app-2', status: 'Down' }];
    await page.evaluate((sel) => (window as any).__buttons[0].iface.onClick(sel), selection);
    const call = await page.evaluate(() => (window as any).__calls.find((c: unknown[]) => c[0] === 'showDialog'));
    const [, title, dialogToken, contentUrl, width, height, buttons] = call;
    expect([title, dialogToken, width, height, buttons]).toEqual(['Sysprep 2 VMs', 'ovirt-sysprep-dialog', '920px', '680px', ['Close']]);
    const url = new URL(contentUrl);
    expect(url.origin + url.pathname).toBe(`${s.url}/ui/`);
    const fragment = new URLSearchParams(url.hash.replace(/^#\/sysprep\?/, ''));
    expect(fragment.get('kind')).toBe('vm');
    expect(fragment.get('ids')).toBe(`${ids['app-1']},${ids['app-2']}`);
    expect(fragment.get('token')).toBe(ADMIN);

    // The dialog is the engine's page: it signs in with the token and shows the selection.
    const frame = page.frameLocator('#dialog-ovirt-sysprep-dialog');
    await frame.getByRole('heading', { name: 'Sysprep 2 VMs' }).waitFor();
    expect(await frame.locator('#dialog-target').textContent()).toBe('app-1, app-2');
    // The operations are folded (a closed <details>): their boxes are hidden but set.
    expect(await frame.getByRole('checkbox', { name: /ssh-hostkeys/, includeHidden: true }).isChecked()).toBe(true);
    const dialogFrame = page.frames().find((f) => f.url().startsWith(s.url))!;
    expect(dialogFrame.url()).not.toContain('token=');
    await screenshot(page, 'ui-plugin-dialog');

    // Its own Cancel asks WebAdmin (through the plugin) to close the dialog.
    await frame.getByRole('button', { name: 'Cancel' }).click();
    await page.waitForFunction(() => (window as any).__calls.some((c: unknown[]) => c[0] === 'closeDialog'));
    expect(await page.evaluate(() => (window as any).__calls.find((c: unknown[]) => c[0] === 'closeDialog'))).toEqual(['closeDialog', 'ovirt-sysprep-dialog']);
    expect(await page.locator('#dialog-ovirt-sysprep-dialog').count()).toBe(0);
  });

  it('opens the pool and template dialogs with their one selected item', async () => {
    const pool = (await s.api('POST', '/pools', { name: 'class', template: 'golden', size: 2 })).body.pool;
    const tpl = (await s.api('GET', '/templates/golden')).body;
    await page.evaluate(([p, t]) => {
      const b = (window as any).__buttons;
      b[1].iface.onClick([{ id: p, name: 'class' }]);
      b[2].iface.onClick([{ id: t, name: 'golden' }]);
    }, [pool.id, tpl.id]);
    // The template's dialog opens once oVirt said its disks are OK.
    await page.waitForFunction(() => (window as any).__calls.filter((c: unknown[]) => c[0] === 'showDialog' && /template/.test(String(c[1]))).length === 1);
    const dialogs = await page.evaluate(() => (window as any).__calls.filter((c: unknown[]) => c[0] === 'showDialog').slice(-2));
    expect(dialogs.map((c: string[]) => c[1])).toEqual(['Sysprep pool class', 'Seal template golden']);
    expect(dialogs[0][3]).toContain(`#/sysprep?kind=pool&id=${pool.id}&token=`);
    expect(dialogs[1][3]).toContain(`#/sysprep?kind=template&id=${tpl.id}&token=`);
  });
});
