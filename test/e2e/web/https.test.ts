// The admin web page (/ui/) in real headless Chromium over HTTPS: the engine serves a
// certificate from a test CA (test/helpers/tls.ts), in front of a FAKE agent (no
// virt-sysprep run is needed: the point is TLS). Chromium trusts exactly that server key
// through --ignore-certificate-errors-spki-list (playwright's ignoreHTTPSErrors stays
// off); a Chromium without it refuses the page. The page's relative URLs and its
// EventSource (a job followed to its end) then work unchanged on https://.
import { mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Browser } from 'playwright-core';
import { httpsHarness } from '../../helpers/httpsEngine';
import { spkiHash, TestPki } from '../../helpers/tls';
import { Harness, TOKENS } from '../../unit/engine/harness';
import { launchChromium, screenshot, watchContext } from './browser';

jest.setTimeout(3 * 60_000);

describe('admin web page over HTTPS (Chromium)', () => {
  let dir: string;
  let pki: TestPki;
  let h: Harness;
  let browser: Browser | undefined;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'web-https-'));
    ({ pki, h } = await httpsHarness(dir, { jobMs: 1500 }));
    for (const name of ['secure-1', 'secure-2']) expect((await h.api('POST', '/vms', { name, disks: [{ path: h.image(`${name}.qcow2`) }] })).status).toBe(201);
  });
  afterAll(async () => {
    await browser?.close();
    await h?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('is refused by a Chromium that does not trust the certificate', async () => {
    const untrusting = await launchChromium();
    try {
      const page = await (await untrusting.newContext()).newPage();
      await expect(page.goto(`${h.engine.url}/ui/`)).rejects.toThrow(/net::ERR_CERT_AUTHORITY_INVALID/);
    } finally {
      await untrusting.close();
    }
  });

  it('signs in, lists VMs and follows a sysprep to its end, all on https://', async () => {
    expect(h.engine.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    browser = await launchChromium([`--ignore-certificate-errors-spki-list=${spkiHash(pki.serverCert)}`]);
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const problems = watchContext(context, [h.engine.url]);
    const requests: string[] = [];
    context.on('request', (r) => requests.push(r.url()));
    const page = await context.newPage();

    await page.goto(`${h.engine.url}/ui/`);
    expect(await page.evaluate(() => location.protocol)).toBe('https:');
    await page.getByLabel('API token').fill(TOKENS.admin.token);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText(`${TOKENS.admin.name} (admin)`).waitFor();
    await page.locator('tr[data-vm="secure-1"]').waitFor();
    expect(await page.locator('tr[data-vm="secure-2"] .badge').textContent()).toBe('down');

    await page.getByLabel('Select secure-1').check();
    await page.getByRole('button', { name: 'Sysprep… (1)' }).click();
    const dialog = page.locator('dialog[open]');
    await dialog.getByLabel('Start from profile').selectOption('clone-reset');
    await dialog.getByRole('button', { name: 'Run sysprep' }).click();
    await page.waitForURL(/#\/jobs\/[0-9a-f-]{36}$/);
    // The state comes from the job's EventSource: pending or running first, then succeeded.
    await page.locator('.job-head .badge', { hasText: /pending|running/ }).waitFor();
    await page.locator('.job-head .badge', { hasText: 'succeeded' }).waitFor({ timeout: 30_000 });
    await screenshot(page, 'https-job-succeeded');

    expect(requests.some((u) => /\/api\/v1\/jobs\/[^/]+\/events\?/.test(u))).toBe(true);
    expect(requests.every((u) => u.startsWith(`${h.engine.url}/`))).toBe(true);
    expect(problems).toEqual([]);
  });
});
