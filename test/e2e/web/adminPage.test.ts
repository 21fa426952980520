// The admin web page (/ui/) in real headless Chromium against a running engine and host
// agent with the REAL virt-sysprep on real images (TCG). One real run does the work that
// matters (two VMs reset in one job, progress watched to 100 %); a VM whose disk lost its
// backing file fails before the tool runs; a cancelled job stops in its first seconds.
// Screenshots: test-results/web/*.png.
import * as path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { copyGuestImage } from '../../helpers/guestImage';
import { ADMIN, Stack, startStack, VIEWER } from '../engine/stack';
import { launchChromium, screenshot, until, watchContext } from './browser';
import { HeldDiskVm, importHeldDiskVm } from './heldDiskVm';

jest.setTimeout(10 * 60_000);

interface Vm { id: string; name: string; disks: { path: string }[] }

describe('admin web page (Chromium, real virt-sysprep)', () => {
  let s: Stack;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let problems: string[];
  const vms: Record<string, Vm> = {};
  let held: HeldDiskVm | undefined;

  beforeAll(async () => {
    s = await startStack({ maxJobs: 2 });
    const disk = path.join(s.storage, 'golden.qcow2');
    await copyGuestImage(disk);
    expect((await s.api('POST', '/templates', { name: 'golden', disks: [{ path: disk }] })).status).toBe(201);
    for (const name of ['web-1', 'web-2', 'web-3', 'slow']) {
      const r = await s.api('POST', '/vms', { name, template: 'golden' });
      expect(r.status).toBe(201);
      vms[name] = r.body.vm;
    }
    expect((await s.api('POST', `/vms/${vms['web-3'].id}/start`)).status).toBe(200);
    held = await importHeldDiskVm(s, 'broken');
    vms.broken = held.vm;
    expect((await s.api('POST', '/pools', { name: 'lab', template: 'golden', size: 2 })).status).toBe(201);
    // The operation catalog comes from the agent's probe: wait for it rather than sleep.
    await until(async () => (await s.api('GET', '/operations')).body?.items?.length > 0, 'the operation catalog');
    browser = await launchChromium();
    context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    problems = watchContext(context, [s.url]);
    page = await context.newPage();
  });

  afterAll(async () => {
    await held?.release();
    await browser?.close();
    await s?.close();
  });

  afterEach(() => {
    expect(problems).toEqual([]);
  });

  it('shows signed out neither the views nor "Sign out", and both once signed in', async () => {
    await page.goto(`${s.url}/ui/`);
    await page.getByLabel('API token').waitFor();
    const chrome = () => Promise.all([
      page.getByRole('link', { name: 'Inventory' }).isVisible(),
      page.getByRole('link', { name: 'Jobs' }).isVisible(),
      page.getByRole('button', { name: 'Sign out' }).isVisible(),
    ]);
    expect(await chrome()).toEqual([false, false, false]);
    await screenshot(page, 'signed-out');
    await page.getByLabel('API token').fill(VIEWER);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('view (viewer)').waitFor();
    expect(await chrome()).toEqual([true, true, true]);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('API token').waitFor();
    expect(await chrome()).toEqual([false, false, false]);
  });

  it('signs in with a token and lists VMs with their status', async () => {
    await page.goto(`${s.url}/ui/`);
    await page.getByLabel('API token').fill('not-a-token-at-all-0000');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('This token is not valid.').waitFor();

    await page.getByLabel('API token').fill(ADMIN);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('admin (admin)').waitFor();
    const row = (name: string) => page.locator(`tr[data-vm="${name}"]`);
    await row('web-1').waitFor();
    expect(await row('web-1').locator('.badge').textContent()).toBe('down');
    expect(await row('web-3').locator('.badge').textContent()).toBe('up');
    expect(await row('lab-1').locator('td[data-label="Pool"]').textContent()).toBe('lab');
    await screenshot(page, 'inventory-1280x800');

    // A VM that is up cannot be selected into a runnable set.
    await page.getByLabel('Select web-3').check();
    expect(await page.locator('#sysprep-vms').isDisabled()).toBe(true);
    expect(await page.locator('#selection-hint').textContent()).toContain('web-3 is up');
    await page.getByLabel('Select web-3').uncheck();
  });

  it('refuses an invalid hostname with the API\'s own message', async () => {
    await page.getByLabel('Select web-1').check();
    await page.getByLabel('Select web-2').check();
    await page.getByRole('button', { name: 'Sysprep… (2)' }).click();
    const dialog = page.locator('dialog[open]');
    await dialog.getByRole('heading', { name: 'Sysprep 2 VMs' }).waitFor();
    await dialog.getByLabel('Start from profile').selectOption('clone-reset');
    const hostname = dialog.getByLabel('Hostname', { exact: true });
    expect(await hostname.inputValue()).toBe('${vm}');
    expect(await dialog.locator('#param-hostname-preview').innerText()).toMatch(/web-1 → web-1\s+web-2 → web-2/);

    const ids = [vms['web-1'].id, vms['web-2'].id];
    const apiMessage = async (value: string) => {
      const r = await s.api('POST', '/sysprep', { vms: ids, profile: 'clone-reset', params: { hostname: value } });
      expect(r.status).toBe(400);
      expect(r.body.error.details.field).toBe('params.hostname');
      return r.body.error.message as string;
    };
    const fieldError = dialog.locator('#param-hostname-error');
    for (const bad of ['bad_name!', '${vm}.-x', '${nope}', '-h']) {
      await hostname.fill(bad);
      expect(await fieldError.textContent()).toBe(await apiMessage(bad));
    }
    // Run is refused with that message; the dialog stays and the field has the focus.
    await hostname.fill('bad_name!');
    await dialog.getByRole('button', { name: 'Run sysprep' }).click();
    expect(await dialog.locator('#dialog-errors').textContent()).toBe(await apiMessage('bad_name!'));
    expect(await hostname.evaluate((el) => el === document.activeElement)).toBe(true);
    expect(await hostname.getAttribute('aria-invalid')).toBe('true');
    await screenshot(page, 'dialog-invalid-hostname');
    expect((await s.api('GET', '/jobs')).body.items).toHaveLength(0);
  });

  let resetJob = '';
  it('runs a reset of two VMs and shows the progress bars reach 100 %', async () => {
    const dialog = page.locator('dialog[open]');
    await dialog.getByLabel('Hostname', { exact: true }).fill('${vm}-reset');
    expect(await dialog.locator('#param-hostname-preview').innerText()).toMatch(/web-1 → web-1-reset\s+web-2 → web-2-reset/);
    await dialog.getByRole('button', { name: 'Run sysprep' }).click();
    await page.waitForURL(/#\/jobs\/[0-9a-f-]{36}$/);
    resetJob = decodeURIComponent(page.url().split('#/jobs/')[1]);
    expect(await page.locator('dialog[open]').count()).toBe(0);

    const bar = (vm: string) => page.locator(`li[data-vm="${vm}"] > .vm-line [role=progressbar]`);
    await bar('web-1').waitFor();
    // Sample the bars as the events arrive: intermediate values prove live progress.
    const seen = new Set<number>();
    let midShot = false;
    await until(async () => {
      const values = await Promise.all(['web-1', 'web-2'].map(async (vm) => Number(await bar(vm).getAttribute('aria-valuenow'))));
      values.forEach((v) => seen.add(v));
      if (!midShot && (await page.locator('.op.running').count()) > 0) {
        midShot = true;
        await screenshot(page, 'job-running');
      }
      return values.every((v) => v === 100);
    }, 'both VM progress bars at 100 %', 6 * 60_000, 100);
    expect([...seen].some((v) => v > 0 && v < 100)).toBe(true);
    await page.locator('.job-head .badge', { hasText: 'succeeded' }).waitFor();
    for (const vm of ['web-1', 'web-2']) {
      const row = page.locator(`li[data-vm="${vm}"]`);
      expect(await row.locator('.badge').textContent()).toBe('succeeded');
      expect(await row.locator('.op:not(.done)').count()).toBe(0);
      expect(await row.locator('.op[data-op="customize"]').count()).toBe(1);
      // Batch mode (engine batch_size 8): the two VMs shared one appliance, and the row says so.
      expect(await row.locator('.vm-line .batch').textContent()).toBe('batched');
    }
    expect(await page.getByRole('progressbar', { name: 'Overall progress' }).getAttribute('aria-valuenow')).toBe('100');
    expect(await page.getByRole('button', { name: 'Cancel job' }).count()).toBe(0);
    await screenshot(page, 'job-succeeded');

    const job = (await s.api('GET', `/jobs/${resetJob}`)).body;
    expect(job).toMatchObject({ kind: 'bulk', state: 'succeeded', profile: 'clone-reset', requestedBy: 'admin' });
    expect(job.children.map((c: { target: { name: string } }) => c.target.name).sort()).toEqual(['web-1', 'web-2']);
    expect(job.children.map((c: { batch?: { batched: boolean } }) => c.batch?.batched)).toEqual([true, true]);
  });

  it('shows the error and the log location of a failed VM', async () => {
    await page.goto(`${s.url}/ui/#/inventory`);
    await page.getByLabel('Select broken').check();
    await page.getByRole('button', { name: 'Sysprep… (1)' }).click();
    const dialog = page.locator('dialog[open]');
    await dialog.getByLabel('Start from profile').selectOption('clone-reset');
    await dialog.getByRole('button', { name: 'Run sysprep' }).click();
    await page.waitForURL(/#\/jobs\//);
    const row = page.locator('li[data-vm="broken"]');
    await row.locator('.badge', { hasText: 'failed' }).waitFor({ timeout: 60_000 });
    const error = row.locator('.vm-error');
    const job = (await s.api('GET', `/jobs/${decodeURIComponent(page.url().split('#/jobs/')[1])}`)).body;
    expect(job.state).toBe('failed');
    expect(await error.locator('strong').textContent()).toBe(job.error.code);
    expect(await error.innerText()).toContain(job.error.message);
    expect(await error.locator('.log code').textContent()).toBe(job.error.details.logPath);
    expect(job.error.details.logPath).toMatch(/\.log$/);
    await screenshot(page, 'job-failed');
  });

  it('cancels a running job', async () => {
    await page.goto(`${s.url}/ui/#/inventory`);
    await page.getByLabel('Select slow').check();
    await page.getByRole('button', { name: 'Sysprep… (1)' }).click();
    await page.locator('dialog[open]').getByRole('button', { name: 'Run sysprep' }).click();
    await page.waitForURL(/#\/jobs\//);
    await page.locator('.job-head .badge', { hasText: /running|pending/ }).waitFor();
    await page.getByRole('button', { name: 'Cancel job' }).click();
    await page.locator('.job-head .badge', { hasText: 'cancelled' }).waitFor({ timeout: 120_000 });
    expect(await page.getByRole('button', { name: 'Cancel job' }).count()).toBe(0);
    await screenshot(page, 'job-cancelled');
    // The job list shows all three.
    await page.getByRole('link', { name: 'Jobs' }).click();
    await page.locator('table.jobs tbody tr').nth(2).waitFor();
    await screenshot(page, 'jobs-list');
  });

  it('is usable with the keyboard: the dialog opens from the button and Escape closes it', async () => {
    await page.goto(`${s.url}/ui/#/inventory`);
    await page.locator('tr[data-vm="lab-1"]').waitFor();
    // Filter -> Tab -> select-all -> Tab -> the VM's checkbox; Space selects it; then
    // Shift+Tab twice reaches the Sysprep button (enabled now, so focusable).
    await page.getByLabel('Filter VMs by name').focus();
    await page.keyboard.type('lab-1');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.getAttribute('aria-label'))).toBe('Select lab-1');
    await page.keyboard.press('Space');
    await page.keyboard.press('Shift+Tab');
    await page.keyboard.press('Shift+Tab');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('sysprep-vms');
    await page.keyboard.press('Enter');
    const dialog = page.locator('dialog[open]');
    await dialog.waitFor();
    expect(await page.evaluate(() => document.activeElement?.id)).toMatch(/^profile-/);
    // The parameters come right after the profile (the operations are folded below).
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('param-hostname');
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' }).catch(() => undefined);
    expect(await page.locator('dialog[open]').count()).toBe(0);
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('sysprep-vms');
  });

  it('fits a narrow window (400 px) without horizontal scrolling', async () => {
    await page.setViewportSize({ width: 400, height: 800 });
    const noOverflow = () => page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);
    await page.goto(`${s.url}/ui/#/inventory`);
    await page.getByLabel('Filter VMs by name').fill('');
    await page.locator('tr[data-vm="web-1"]').waitFor();
    expect(await noOverflow()).toBe(true);
    await screenshot(page, 'inventory-400');
    await page.getByLabel('Select web-1').check();
    await page.locator('#sysprep-vms').click();
    await page.locator('dialog[open]').getByLabel('Start from profile').selectOption('clone-reset');
    expect(await noOverflow()).toBe(true);
    await screenshot(page, 'dialog-400');
    await page.keyboard.press('Escape');
    await page.goto(`${s.url}/ui/#/jobs/${resetJob}`);
    await page.locator('.job-head .badge', { hasText: 'succeeded' }).waitFor();
    expect(await noOverflow()).toBe(true);
    await screenshot(page, 'job-400');
    await page.setViewportSize({ width: 1280, height: 800 });
  });

  it('shows a viewer no action', async () => {
    const viewer = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const vproblems = watchContext(viewer, [s.url]);
    const p = await viewer.newPage();
    await p.goto(`${s.url}/ui/`);
    await p.getByLabel('API token').fill(VIEWER);
    await p.getByRole('button', { name: 'Sign in' }).click();
    await p.locator('tr[data-vm="web-1"]').waitFor();
    const actions = () => p.getByRole('button', { name: /sysprep|seal|cancel|run/i }).count();
    expect(await actions()).toBe(0);
    expect(await p.locator('input[type=checkbox]').count()).toBe(0);
    await screenshot(p, 'viewer-inventory');
    for (const tab of ['Pools', 'Templates']) {
      await p.getByRole('link', { name: new RegExp(`^${tab}`) }).click();
      await p.locator('table.list tbody tr').first().waitFor();
      expect(await actions()).toBe(0);
    }
    await p.goto(`${s.url}/ui/#/jobs/${resetJob}`);
    await p.locator('.job-head .badge').waitFor();
    expect(await actions()).toBe(0);
    await viewer.close();
    expect(vproblems).toEqual([]);
  });
});
