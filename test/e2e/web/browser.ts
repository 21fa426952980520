// Real headless Chromium (Debian's /usr/bin/chromium driven by playwright-core) for the
// web page and UI plugin tests, with the guards every such test wants: no request may
// leave the engine's origin, and no page error may pass unnoticed. Screenshots go to
// test-results/web/ (git-ignored).
import { mkdirSync } from 'node:fs';
import * as path from 'node:path';
import { Browser, BrowserContext, chromium, Page } from 'playwright-core';
import { REPO_ROOT } from '../../helpers/guestImage';

export const SHOTS_DIR = path.join(REPO_ROOT, 'test-results', 'web');

/** `extraArgs`: more Chromium flags (e.g. the SPKI list that trusts a test server's key). */
export function launchChromium(extraArgs: string[] = []): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', ...extraArgs],
  });
}

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SHOTS_DIR, { recursive: true });
  await page.screenshot({ path: path.join(SHOTS_DIR, `${name}.png`), fullPage: true });
}

/** Problems seen by a context: requests to other origins than `allowed`, page errors, console errors. */
export function watchContext(context: BrowserContext, allowed: string[]): string[] {
  const problems: string[] = [];
  context.on('request', (req) => {
    const url = req.url();
    if (url.startsWith('data:') || url === 'about:blank') return;
    if (!allowed.some((origin) => url.startsWith(`${origin}/`))) problems.push(`request outside the engine: ${url}`);
  });
  context.on('page', (page) => watchPage(page, problems));
  return problems;
}

export function watchPage(page: Page, problems: string[]): void {
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  page.on('console', (msg) => {
    // The browser logs failed requests (our 400s and 401s on purpose) as console errors.
    if (msg.type() === 'error' && !/Failed to load resource/.test(msg.text())) problems.push(`console error: ${msg.text()}`);
  });
}

/** Polls until fn() returns a truthy value (no fixed sleeps). */
export async function until<T>(fn: () => Promise<T | undefined | null | false>, what: string, timeoutMs = 30_000, everyMs = 200): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
