// The sysprep dialog in real headless Chromium against a running engine and host agent
// (the real virt-sysprep lists its operations; the one job submitted here is cancelled
// at once): the profile and the parameters come first and the operations are folded;
// every field is generated from the catalog the engine serves (chmod, added to the
// catalog alone, shows up; the network interfaces in the yaml widget); the live checks are the engine's own code, served as a
// bundle (/ui/lib/shared.js), and give the API's messages. Screenshots: test-results/web/.
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { promisify } from 'node:util';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { ADMIN, OPERATOR, Stack, startStack } from '../engine/stack';
import { launchChromium, screenshot, until, watchContext } from './browser';

jest.setTimeout(5 * 60_000);

const run = promisify(execFile);
const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGxnQ2vLQ0H9n3w2b7bq9d0l2m1o4y7G0t1kP9y2Wq3R admin@example';

describe('sysprep dialog (Chromium, catalog-generated, shared checks)', () => {
  let s: Stack;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let problems: string[];
  const requested: string[] = [];
  let catalog: { items: { name: string; defaultEnabled: boolean }[]; customizations: { key: string; label: string; role: string; widget: string }[] };
  let web1 = '';

  const signIn = async (p: Page, token: string) => {
    await p.goto(`${s.url}/ui/`);
    await p.getByLabel('API token').fill(token);
    await p.getByRole('button', { name: 'Sign in' }).click();
    await p.locator('tr[data-vm="web-1"]').waitFor();
  };
  const openForWeb1 = async (p: Page): Promise<Locator> => {
    await p.getByLabel('Select web-1').check();
    await p.locator('#sysprep-vms').click();
    const dialog = p.locator('dialog[open]');
    await dialog.getByRole('heading', { name: 'Sysprep VM web-1' }).waitFor();
    return dialog;
  };
  /** The API's own answer for these params on web-1 (400 naming the field). */
  const apiMessage = async (params: object, field: string) => {
    const r = await s.api('POST', `/vms/${web1}/sysprep`, { profile: 'clone-reset', params });
    expect(r.status).toBe(400);
    expect(r.body.error.details.field).toBe(field);
    return r.body.error.message as string;
  };

  beforeAll(async () => {
    s = await startStack({ maxJobs: 1 });
    // An empty disk is enough: no job here gets as far as the tool.
    const disk = path.join(s.storage, 'golden.qcow2');
    await run('qemu-img', ['create', '-q', '-f', 'qcow2', disk, '64M']);
    expect((await s.api('POST', '/templates', { name: 'golden', disks: [{ path: disk, format: 'qcow2' }] })).status).toBe(201);
    const vm = await s.api('POST', '/vms', { name: 'web-1', template: 'golden' });
    expect(vm.status).toBe(201);
    web1 = vm.body.vm.id;
    await until(async () => (await s.api('GET', '/operations')).body?.items?.length > 0, 'the operation catalog');
    catalog = (await s.api('GET', '/operations')).body;
    browser = await launchChromium();
    context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    problems = watchContext(context, [s.url]);
    context.on('request', (req) => requested.push(new URL(req.url()).pathname));
    page = await context.newPage();
    await signIn(page, ADMIN);
  });

  afterAll(async () => {
    await browser?.close();
    await s?.close();
  });

  afterEach(() => {
    expect(problems).toEqual([]);
  });

  it('puts the profile (clone-reset for a VM) and the parameters first, the operations folded', async () => {
    const dialog = await openForWeb1(page);
    const profile = dialog.getByLabel('Start from profile');
    expect(await profile.inputValue()).toBe('clone-reset');
    // Document order: profile, then the first parameter, then the operations.
    const order = await page.evaluate(() => {
      const at = (sel: string) => Array.from(document.querySelectorAll('dialog[open] *')).indexOf(document.querySelector(`dialog[open] ${sel}`)!);
      return [at('select[id^="profile"]'), at('#param-hostname'), at('#mode-safe'), at('#dialog-operations')];
    });
    expect(order.every((i) => i >= 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    const ops = dialog.locator('#dialog-operations');
    expect(await ops.evaluate((el) => (el as HTMLDetailsElement).open)).toBe(false);
    expect(await dialog.locator('input[name="operation"]').first().isVisible()).toBe(false);
    await screenshot(page, 'dialog-order');

    await ops.locator('summary').click();
    expect(await dialog.locator('input[name="operation"]').first().isVisible()).toBe(true);
    const tags = await ops.locator('.tag').allTextContents();
    expect(tags).toHaveLength(catalog.items.filter((o) => o.defaultEnabled).length);
    expect(new Set(tags)).toEqual(new Set(['virt-sysprep default']));
    await page.keyboard.press('Escape');
    await page.getByLabel('Select web-1').uncheck();

    // A template starts from template-seal.
    await page.getByRole('link', { name: /^Templates/ }).click();
    await page.getByRole('button', { name: 'Seal template golden' }).click();
    expect(await page.locator('dialog[open]').getByLabel('Start from profile').inputValue()).toBe('template-seal');
    await page.keyboard.press('Escape');
    await page.getByRole('link', { name: /^VMs/ }).click();
    await page.locator('tr[data-vm="web-1"]').waitFor();
  });

  it('generates one field per catalog entry, chmod included, with the entry\'s label', async () => {
    const dialog = await openForWeb1(page);
    for (const c of catalog.customizations) {
      const field = dialog.locator(`.param-${c.key}`);
      expect(await field.count()).toBe(1);
      expect(await field.locator('label, .label').first().textContent()).toBe(c.label);
    }
    const chmod = dialog.getByLabel('Change file permissions');
    expect(await chmod.evaluate((el) => el.tagName)).toBe('TEXTAREA');
    expect(await chmod.getAttribute('placeholder')).toBe('0600:/etc/app.conf');
    await chmod.fill('0600:/etc/app.conf\nrw:/etc/x');
    expect(await dialog.locator('#param-chmod-error').textContent()).toBe(await apiMessage({ chmod: ['0600:/etc/app.conf', 'rw:/etc/x'] }, 'params.chmod[1]'));
    await chmod.fill('0600:/etc/app.conf');
    expect(await dialog.locator('#param-chmod-error').textContent()).toBe('');
    await screenshot(page, 'dialog-chmod');
    // The dialog stays open for the next test.
  });

  it('reads a structured value (the network interfaces) as YAML or JSON in the yaml widget, checked by the catalog', async () => {
    const dialog = page.locator('dialog[open]');
    const network = dialog.getByLabel('Network interfaces');
    expect(await network.evaluate((el) => el.tagName)).toBe('TEXTAREA');
    expect(await network.getAttribute('placeholder')).toMatch(/^- name: eth0\n {2}address: \{ ipFromIndex: /);
    const error = dialog.locator('#param-network-error');
    // The catalog's check: the API's own message, naming the field inside the value.
    await network.fill('- name: eth0\n  address: 192.0.2.10/24\n  gateway: 198.51.100.1\n');
    expect(await error.textContent()).toBe(await apiMessage({ network: [{ name: 'eth0', address: '192.0.2.10/24', gateway: '198.51.100.1' }] }, 'params.network[0].gateway'));
    // Per VM: web-1 is number 1, a list of none is refused for it as the API refuses it.
    await network.fill('[{"name": "eth0", "address": {"ipFromIndex": "192.0.2.254/24"}}]');
    expect(await error.textContent()).toBe(await apiMessage({ network: [{ name: 'eth0', address: { ipFromIndex: '192.0.2.254/24' } }] }, 'params.network[0].address.ipFromIndex'));
    // Not YAML at all: the parser's message, at the field.
    await network.fill('- name: eth0\n  address: [unclosed\n');
    expect(await error.textContent()).toMatch(/^params\.network: is not valid YAML or JSON: /);
    await network.fill('- name: eth0\n  address: { ipFromIndex: 192.0.2.100/24 }\n  gateway: 192.0.2.1\n');
    expect(await error.textContent()).toBe('');
    await screenshot(page, 'dialog-network');
  });

  it('checks with the engine\'s own code (the shared bundle): the same messages as the API', async () => {
    expect(requested).toContain('/ui/lib/shared.js');
    expect(requested.some((p) => p.endsWith('/checks.js'))).toBe(false);
    const dialog = page.locator('dialog[open]');
    const hostname = dialog.getByLabel('Hostname', { exact: true });
    for (const bad of ['bad_name!', '${vm}.-x', '${nope}', '-h']) {
      await hostname.fill(bad);
      expect(await dialog.locator('#param-hostname-error').textContent()).toBe(await apiMessage({ hostname: bad }, 'params.hostname'));
    }
    await hostname.fill('${vm}-a');
    expect(await dialog.locator('#param-hostname-preview').innerText()).toMatch(/web-1 → web-1-a/);

    await dialog.getByRole('button', { name: 'Add a user' }).click();
    await dialog.getByLabel('User name').fill('admin');
    const keys = dialog.getByLabel('SSH public keys, one per line');
    await keys.fill(`${KEY}\nssh-ed25519 AAAAnotakey`);
    const field = 'params.users[0].sshKeys[1]';
    expect(await dialog.locator('#param-users-error').textContent()).toBe(await apiMessage({ users: [{ name: 'admin', sshKeys: [KEY, 'ssh-ed25519 AAAAnotakey'] }] }, field));
    await keys.fill(KEY);
    expect(await dialog.locator('#param-users-error').textContent()).toBe('');
  });

  it('sends the generated fields in the request (the job is cancelled at once)', async () => {
    const dialog = page.locator('dialog[open]');
    await dialog.getByLabel(/Dry run/).check();
    const [req] = await Promise.all([
      page.waitForRequest((r) => r.method() === 'POST' && r.url().endsWith(`/vms/${web1}/sysprep`)),
      dialog.getByRole('button', { name: 'Run sysprep' }).click(),
    ]);
    const body = req.postDataJSON();
    expect(body).toMatchObject({ profile: 'clone-reset', dryRun: true, params: {
      hostname: '${vm}-a', chmod: ['0600:/etc/app.conf'], users: [{ name: 'admin', sshKeys: [KEY] }],
      network: [{ name: 'eth0', address: { ipFromIndex: '192.0.2.100/24' }, gateway: '192.0.2.1' }],
    } });
    // The form showed the profile's values whole: each key it sends replaces the profile's.
    expect(body.replace).toEqual(Object.keys(body.params));
    await page.waitForURL(/#\/jobs\//);
    const id = decodeURIComponent(page.url().split('#/jobs/')[1]);
    await s.api('POST', `/jobs/${id}/cancel`);
    expect(['cancelled', 'failed']).toContain((await s.waitJob(id)).state);
  });

  it('disables for an operator the fields whose least role is admin, from the catalog', async () => {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const opProblems = watchContext(ctx, [s.url]);
    const p = await ctx.newPage();
    await signIn(p, OPERATOR);
    const dialog = await openForWeb1(p);
    for (const c of catalog.customizations.filter((x) => x.widget === 'script')) {
      expect(c.role).toBe('admin');
      expect(await dialog.getByLabel(c.label, { exact: true }).isDisabled()).toBe(true);
      expect(await dialog.locator(`.param-${c.key} .tag`, { hasText: 'admin only' }).count()).toBe(1);
    }
    expect(await dialog.getByLabel('Change file permissions').isDisabled()).toBe(false);
    await screenshot(p, 'dialog-operator');
    await ctx.close();
    expect(opProblems).toEqual([]);
  });
});
