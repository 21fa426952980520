// jest globalSetup: make sure the cached guest image exists before any test starts,
// so parallel workers never race to build it (cachedGuestImage is also safe if they do).
// Set SKIP_GUEST_IMAGE=1 to skip (e.g. unit-only runs on machines without libguestfs).
// It first builds the browser bundle of the shared code (a fraction of a second).
import { buildBrowserBundle } from '../shared/browser/buildBundle';
import { cachedGuestImage } from './helpers/guestImage';

export default async function globalSetup(): Promise<void> {
  // The web page imports the shared checks from this bundle: always the sources' own.
  await buildBrowserBundle();
  if (process.env.SKIP_GUEST_IMAGE) return;
  const started = Date.now();
  const image = await cachedGuestImage();
  const secs = ((Date.now() - started) / 1000).toFixed(1);
  if (Number(secs) > 1) process.stderr.write(`\nguest image ready: ${image} (${secs} s)\n`);
}
