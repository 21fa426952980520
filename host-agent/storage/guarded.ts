// The one way a job holds what it must give back (leases, overlays, its private files
// directory), vdsm style:
//  1. the body acquires each resource through `hold(what, acquire, release)`, in order;
//     an acquire that fails leaves nothing behind (each acquire cleans up after itself)
//     and registers nothing;
//  2. when the body ends, however it ends, every held resource is released in reverse
//     order of acquisition, each release tried even if an earlier one failed;
//  3. the first error wins: the body's own error is what the caller sees, a release
//     error is only logged then; after a successful body the first release error is
//     thrown (a lease or a secret file that could not be given back is a failure).
import type { Logger } from '../../shared/logger';

export type Hold = <T>(what: string, acquire: () => Promise<T>, release: (resource: T) => Promise<void>) => Promise<T>;

export async function guarded<R>(logger: Logger, body: (hold: Hold) => Promise<R>): Promise<R> {
  const held: { what: string; release: () => Promise<void> }[] = [];
  const hold: Hold = async (what, acquire, release) => {
    const resource = await acquire();
    held.push({ what, release: () => release(resource) });
    return resource;
  };
  let result: R;
  try {
    result = await body(hold);
  } catch (err) {
    await releaseAll(held, logger);
    throw err;
  }
  const releaseError = await releaseAll(held, logger);
  if (releaseError !== undefined) throw releaseError;
  return result;
}

/** Releases in reverse; returns the first error (undefined when all went well). */
async function releaseAll(held: { what: string; release: () => Promise<void> }[], logger: Logger): Promise<unknown> {
  let first: unknown;
  for (const { what, release } of held.reverse()) {
    try {
      await release();
    } catch (err) {
      logger.error('release failed', { resource: what, error: String(err) });
      first ??= err;
    }
  }
  return first;
}
