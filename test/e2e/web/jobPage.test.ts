// The job page, the jobs list, the inventory's host and last-sysprep columns, the hosts
// view and the admin's clone and import, in real headless Chromium against a running
// engine and host agent with the REAL virt-sysprep (TCG). The job that matters fails for
// real: its script exits 3 inside the guest, so virt-sysprep fails in its customize
// operation after the operations before it ran. A second VM's job fails on the agent
// before any tool run (heldDiskVm.ts). Screenshots: test-results/web/.
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { copyGuestImage } from '../../helpers/guestImage';
import { ADMIN, Stack, startStack } from '../engine/stack';
import { launchChromium, screenshot, until, watchContext } from './browser';
import { HeldDiskVm, importHeldDiskVm } from './heldDiskVm';

jest.setTimeout(10 * 60_000);

const run = promisify(execFile);
// Its `warning:` line reaches the tool's -v output (virt-customize dumps a failed script's
// output into the trace): the job carries it as a warning, and the page shows it.
const SCRIPT = "#!/bin/sh\necho web-test-script-marker-7731 >&2\necho 'warning: web-test-warning-5512'\nexit 3\n";
const PASSWORD = 'Web-Test-Secret-4417';

describe('job page, jobs list and inventory columns (Chromium, real virt-sysprep)', () => {
  let s: Stack;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let problems: string[];
  const vms: Record<string, { id: string; name: string }> = {};
  let held: HeldDiskVm | undefined;
  let failedJob = '';
  let heldJob = '';

  beforeAll(async () => {
    s = await startStack({ maxJobs: 2 });
    const disk = path.join(s.storage, 'golden.qcow2');
    await copyGuestImage(disk);
    expect((await s.api('POST', '/templates', { name: 'golden', disks: [{ path: disk }] })).status).toBe(201);
    const clone = await s.api('POST', '/vms', { name: 'fails', template: 'golden' });
    expect(clone.status).toBe(201);
    vms.fails = clone.body.vm;
    held = await importHeldDiskVm(s, 'held');
    vms.held = held.vm;
    await run('qemu-img', ['create', '-q', '-f', 'qcow2', path.join(s.storage, 'to-import.qcow2'), '64M']);
    await until(async () => (await s.api('GET', '/operations')).body?.items?.length > 0, 'the operation catalog');

    browser = await launchChromium();
    context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    problems = watchContext(context, [s.url]);
    page = await context.newPage();
    await page.goto(`${s.url}/ui/`);
    await page.getByLabel('API token').fill(ADMIN);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('tr[data-vm="fails"]').waitFor();
  });

  afterAll(async () => {
    await held?.release();
    await browser?.close();
    await s?.close();
  });
  afterEach(() => expect(problems).toEqual([]));

  it('shows a running job live: phase, elapsed time, the parameters applied with secrets redacted', async () => {
    const r = await s.api('POST', `/vms/${vms.fails.id}/sysprep`, {
      profile: 'clone-reset',
      params: { hostname: '${vm}-web', rootPassword: { value: PASSWORD }, scripts: [SCRIPT] },
    });
    expect(r.status).toBe(202);
    failedJob = r.body.job.id;
    await page.goto(`${s.url}/ui/#/jobs/${failedJob}`);
    await page.locator('.job-head .badge', { hasText: /pending|running/ }).waitFor();

    // The parameters as the job record stores them: the hostname rendered, the secrets redacted.
    const param = (k: string) => page.locator(`.params [data-param="${k}"] dd`);
    expect(await param('hostname').textContent()).toBe('fails-web');
    expect(await param('rootPassword').textContent()).toBe('secret (not stored)');
    expect(await param('scripts').textContent()).toBe('secret (not stored)');

    // The elapsed time moves while the job runs (the page's own clock, no reload).
    const elapsed = page.locator('.fact-elapsed dd');
    await elapsed.waitFor();
    const first = await elapsed.textContent();
    await until(async () => (await elapsed.textContent()) !== first, 'the elapsed time to move', 10_000);

    // While the appliance boots, the row says so with the time spent in that phase.
    const current = page.locator('li[data-vm="fails"] .current');
    const phase = await until(async () => {
      const t = (await current.textContent()) ?? '';
      return /^Starting appliance · \d+ s$/.test(t) && t;
    }, 'the "Starting appliance" phase', 5 * 60_000, 100);
    expect(phase).toMatch(/^Starting appliance · \d+ s$/);
    await screenshot(page, 'job-starting-appliance');
    const html = await page.content();
    expect(html).not.toContain(PASSWORD);
    expect(html).not.toContain('web-test-script-marker-7731');
  });

  it('shows the failed job: red bar, the failed step marked failed, the error, the log in a panel', async () => {
    const row = page.locator('li[data-vm="fails"]');
    await page.locator('.job-head .badge', { hasText: 'failed' }).waitFor({ timeout: 8 * 60_000 });
    const job = (await s.api('GET', `/jobs/${failedJob}`)).body;
    expect(job.state).toBe('failed');
    const failedStep = job.steps.find((st: { state: string }) => st.state === 'failed');
    expect(failedStep?.operation).toBe('customize');
    expect(job.steps.filter((st: { state: string }) => st.state === 'running')).toEqual([]);

    await until(async () => (await row.locator('.op.failed').count()) === 1, 'the failed step drawn', 10_000);
    expect(await row.locator('.op.failed').getAttribute('data-op')).toBe('customize');
    expect(await row.locator('.op.running').count()).toBe(0);
    // Steps before it are done.
    for (const st of job.steps.filter((x: { state: string }) => x.state === 'done')) {
      expect(await row.locator(`.op[data-op="${st.operation}"]`).getAttribute('class')).toContain('done');
    }
    const bar = row.locator('> .vm-line [role=progressbar]');
    expect(await bar.getAttribute('class')).toContain('bar-failed');
    const fill = await bar.locator('.bar-fill').evaluate((el) => getComputedStyle(el).backgroundColor);
    expect(fill).toBe('rgb(179, 38, 30)'); // --bad, not the accent blue of a running bar
    expect(await bar.locator('.bar-text').textContent()).toMatch(/ · failed$/);
    expect(await row.locator('.current').textContent()).toBe('');
    const error = row.locator('.vm-error[role=alert]');
    expect(await error.locator('strong').textContent()).toBe(job.error.code);
    expect(await error.innerText()).toContain(job.error.message);
    expect(await page.locator('.fact-elapsed dt').textContent()).toBe('Took');
    // The run's warning (its script's `warning:` line), on the record and on the page.
    expect(job.warnings).toContainEqual({ message: 'web-test-warning-5512' });
    const warnings = row.locator('.vm-warnings');
    await warnings.waitFor({ timeout: 10_000 });
    expect(await warnings.locator('li').allInnerTexts()).toContain('Warning: web-test-warning-5512');
    await screenshot(page, 'job-failed-step');

    // The log, fetched with the token, in a <pre>; the same text as the API gives.
    await row.getByRole('button', { name: 'Log of fails' }).click();
    const pre = page.locator('#log-panel pre.log-text');
    await until(async () => (await pre.getAttribute('aria-busy')) === null, 'the log to load', 30_000);
    const res = await fetch(`${s.url}/api/v1/jobs/${failedJob}/log`, { headers: { authorization: `Bearer ${ADMIN}` } });
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text.length).toBeGreaterThan(0);
    expect(await pre.textContent()).toBe(text);
    expect(text).not.toContain(PASSWORD);
    expect(await pre.getAttribute('class')).not.toContain('error');
    await screenshot(page, 'job-log');
    await page.getByRole('button', { name: 'Close' }).click();
    expect(await page.locator('#log-panel').isVisible()).toBe(false);
  });

  it('lists jobs with an error column and a duration, filtered by state, kind and VM', async () => {
    const r = await s.api('POST', `/vms/${vms.held.id}/sysprep`, { profile: 'clone-reset' });
    expect(r.status).toBe(202);
    heldJob = r.body.job.id;
    const heldEnd = await s.waitJob(heldJob, 120_000);
    expect(heldEnd.state).toBe('failed');

    await page.goto(`${s.url}/ui/#/jobs`);
    const rows = page.locator('table.jobs tbody tr');
    await page.locator(`tr[data-job="${heldJob}"]`).waitFor();
    expect(await rows.count()).toBe(2);
    const heldRow = page.locator(`tr[data-job="${heldJob}"]`);
    expect(await heldRow.locator('td[data-label="Error"] strong').textContent()).toBe(heldEnd.error.code);
    expect(await heldRow.locator('td[data-label="Error"]').innerText()).toContain(heldEnd.error.message);
    expect(await page.locator(`tr[data-job="${failedJob}"] td[data-label="Duration"]`).textContent()).toMatch(/^\d+ (s|min \d\d s)$/);
    await screenshot(page, 'jobs-list');

    await page.getByLabel('VM', { exact: true }).selectOption({ label: 'held' });
    await page.waitForURL(/#\/jobs\?vm=/);
    await until(async () => (await rows.count()) === 1 && (await rows.first().getAttribute('data-job')) === heldJob, 'the list of held\'s jobs');
    await page.getByLabel('State', { exact: true }).selectOption('succeeded');
    await page.getByText('No job matches the filter.').waitFor();
    expect(page.url()).toContain('state=succeeded');
    await page.getByRole('link', { name: 'Clear filters' }).click();
    // The unfiltered view has no such link: once it is gone, the selects are the new view's
    // (choosing in the old one, still shown while the new one loads, keeps its state filter).
    await page.getByRole('link', { name: 'Clear filters' }).waitFor({ state: 'detached' });
    await page.getByLabel('Kind', { exact: true }).selectOption('vm');
    await until(async () => (await rows.count()) === 2, 'both vm jobs');
    await page.getByLabel('Kind', { exact: true }).selectOption('bulk');
    await page.getByText('No job matches the filter.').waitFor();
    await screenshot(page, 'jobs-filtered');
  });

  it('shows each VM\'s host and last sysprep in the inventory, linked to the job', async () => {
    await page.goto(`${s.url}/ui/#/inventory`);
    const row = page.locator('tr[data-vm="fails"]');
    await row.waitFor();
    expect(await row.locator('td[data-label="Host"]').textContent()).toBe('e2e-host');
    expect(await row.locator('td[data-label="Last sysprep"] .badge').textContent()).toBe('failed');
    expect(await page.locator('tr[data-vm="held"] td[data-label="Last sysprep"] .badge').textContent()).toBe('failed');
    await screenshot(page, 'inventory-last-sysprep');
    await row.getByRole('link', { name: 'Last sysprep of fails: failed' }).click();
    await page.waitForURL(new RegExp(`#/jobs/${failedJob}$`));
    await page.locator('.job-head .badge', { hasText: 'failed' }).waitFor();
    // The API gives the same (contract 6).
    const vm = (await s.api('GET', `/vms/${vms.fails.id}`)).body;
    expect(vm).toMatchObject({ host: 'e2e-host', lastSysprep: { jobId: failedJob, state: 'failed' } });
    expect(typeof vm.lastSysprep.endedAt).toBe('string');
  });

  it('shows the hosts with their health, versions and load', async () => {
    await page.getByRole('link', { name: 'Hosts' }).click();
    const row = page.locator('tr[data-host="e2e-host"]');
    await row.waitFor();
    const host = (await s.api('GET', '/hosts')).body.items[0];
    expect(await row.locator('.badge').textContent()).toBe('healthy');
    expect(await row.locator('td[data-label="Versions"]').innerText()).toContain(`virt-sysprep ${host.versions.virtSysprep}`);
    expect(await row.locator('td[data-label="Jobs"]').textContent()).toBe(`0 running, 0 queued (at most ${host.maxConcurrentJobs} at once)`);
    expect(await row.locator('td[data-label="Storage"]').innerText()).toContain(s.storage);
    await screenshot(page, 'hosts');
  });

  it('lets an admin clone a VM from a template and import one, with the API\'s refusal at its field', async () => {
    await page.goto(`${s.url}/ui/#/inventory?tab=templates`);
    await page.getByRole('button', { name: 'Clone a VM from golden' }).click();
    const dialog = page.locator('#action-dialog[open]');
    await dialog.getByLabel('Name of the new VM').fill('fails');
    await dialog.getByRole('button', { name: 'Clone' }).click();
    const nameError = dialog.locator('#clone-name-error');
    await until(async () => (await nameError.textContent()) !== '', 'the refusal of a taken name');
    const taken = await s.api('POST', '/vms', { name: 'fails', template: 'golden' });
    expect(await nameError.textContent()).toBe(taken.body.error.message);
    await dialog.getByLabel('Name of the new VM').fill('web-clone');
    await dialog.getByRole('button', { name: 'Clone' }).click();
    await dialog.waitFor({ state: 'detached' }).catch(() => undefined);
    await page.locator('tr[data-template="golden"] td[data-label="Used by"]', { hasText: '2 VMs' }).waitFor();
    expect((await s.api('GET', '/vms/web-clone')).body).toMatchObject({ name: 'web-clone', templateId: expect.any(String) });

    await page.goto(`${s.url}/ui/#/inventory`);
    await page.getByRole('button', { name: 'Import VM…' }).click();
    await dialog.getByLabel('Name', { exact: true }).fill('web-import');
    await dialog.getByLabel('Disk images').fill('relative/disk.qcow2');
    await dialog.getByRole('button', { name: 'Import' }).click();
    const diskError = dialog.locator('#import-disks-error');
    await until(async () => (await diskError.textContent()) !== '', 'the refusal of a relative path');
    expect(await diskError.textContent()).toContain('must be an absolute path');
    expect(await dialog.getByLabel('Disk images').getAttribute('aria-invalid')).toBe('true');
    await screenshot(page, 'import-refused');
    await dialog.getByLabel('Disk images').fill(path.join(s.storage, 'to-import.qcow2'));
    await dialog.getByLabel('Format').selectOption('qcow2');
    await dialog.getByRole('button', { name: 'Import' }).click();
    await page.locator('tr[data-vm="web-import"]').waitFor();
    expect((await s.api('GET', '/vms/web-import')).body.disks).toEqual([expect.objectContaining({ path: path.join(s.storage, 'to-import.qcow2'), format: 'qcow2' })]);
  });

  it('lets an admin delete a VM, and shows why a template still in use is refused', async () => {
    await page.goto(`${s.url}/ui/#/inventory?tab=templates`);
    await page.getByRole('button', { name: 'Delete template golden' }).click();
    const dialog = page.locator('#action-dialog[open]');
    await dialog.getByRole('button', { name: 'Delete' }).click();
    const refusal = dialog.locator('#action-error');
    await until(async () => (await refusal.textContent()) !== '', 'the refusal to delete a template in use');
    const api = await s.api('DELETE', '/templates/golden');
    expect(api.status).toBe(409);
    expect(await refusal.textContent()).toBe(`${api.body.error.message} (${api.body.error.code})`);
    await screenshot(page, 'delete-refused');
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    expect(await page.locator('#action-dialog[open]').count()).toBe(0);

    const clone = (await s.api('GET', '/vms/web-clone')).body;
    await page.goto(`${s.url}/ui/#/inventory`);
    await page.getByRole('button', { name: 'Delete VM web-clone' }).click();
    expect(await dialog.innerText()).toContain('overlays are removed');
    await dialog.getByRole('button', { name: 'Delete' }).click();
    await page.locator('tr[data-vm="web-clone"]').waitFor({ state: 'detached' });
    expect((await s.api('GET', `/vms/${clone.id}`)).status).toBe(404);
    await expect(fs.access(clone.disks[0].path)).rejects.toThrow(); // the overlay the engine made is gone
    await page.getByRole('button', { name: 'Delete VM web-import' }).click();
    expect(await dialog.innerText()).toContain('disk files stay');
    await dialog.getByRole('button', { name: 'Delete' }).click();
    await page.locator('tr[data-vm="web-import"]').waitFor({ state: 'detached' });
    await fs.access(path.join(s.storage, 'to-import.qcow2')); // an imported disk is not the engine's to remove
  });
});
