// guarded(): resources acquired in order, released in reverse however the body ends,
// the first error never hidden (vdsm's lock helper). Resources here are plain records of
// calls: the helper's contract is about order and errors, not about what is held.
import { guarded } from '../../../host-agent/storage/guarded';
import { createLogger } from '../../../shared/logger';

const log = createLogger({ service: 't', silent: true });

function recorder() {
  const calls: string[] = [];
  const resource = (name: string, opts: { acquireFails?: boolean; releaseFails?: boolean } = {}) =>
    [
      name,
      async () => {
        calls.push(`acquire ${name}`);
        if (opts.acquireFails) throw new Error(`acquire ${name} failed`);
        return name;
      },
      async (r: string) => {
        calls.push(`release ${r}`);
        if (opts.releaseFails) throw new Error(`release ${r} failed`);
      },
    ] as const;
  return { calls, resource };
}

describe('guarded', () => {
  it('acquires in order and releases in reverse after a successful body', async () => {
    const { calls, resource } = recorder();
    const result = await guarded(log, async (hold) => {
      await hold(...resource('leases'));
      await hold(...resource('overlays'));
      await hold(...resource('files'));
      calls.push('work');
      return 42;
    });
    expect(result).toBe(42);
    expect(calls).toEqual(['acquire leases', 'acquire overlays', 'acquire files', 'work', 'release files', 'release overlays', 'release leases']);
  });

  it('releases what was held when the body fails, and the body error is what the caller sees', async () => {
    const { calls, resource } = recorder();
    const run = guarded(log, async (hold) => {
      await hold(...resource('leases', { releaseFails: true }));
      await hold(...resource('overlays', { releaseFails: true }));
      throw new Error('virt-sysprep failed');
    });
    await expect(run).rejects.toThrow('virt-sysprep failed');
    expect(calls).toEqual(['acquire leases', 'acquire overlays', 'release overlays', 'release leases']);
  });

  it('registers nothing for an acquire that fails, and releases the earlier ones', async () => {
    const { calls, resource } = recorder();
    const run = guarded(log, async (hold) => {
      await hold(...resource('leases'));
      await hold(...resource('overlays', { acquireFails: true }));
      calls.push('never');
    });
    await expect(run).rejects.toThrow('acquire overlays failed');
    expect(calls).toEqual(['acquire leases', 'acquire overlays', 'release leases']);
  });

  it('after a successful body, throws the first release error, having tried every release', async () => {
    const { calls, resource } = recorder();
    const run = guarded(log, async (hold) => {
      await hold(...resource('leases', { releaseFails: true }));
      await hold(...resource('files', { releaseFails: true }));
      return 'ok';
    });
    await expect(run).rejects.toThrow('release files failed');
    expect(calls).toEqual(['acquire leases', 'acquire files', 'release files', 'release leases']);
  });
});
