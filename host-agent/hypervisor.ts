// Chooses how the libguestfs appliance runs: KVM when it works, TCG otherwise.
// `auto` tries one KVM launch (time-boxed: on some hosts a KVM launch aborts, on others
// it hangs), falls back to TCG, and caches the verdict in the data dir so the probe runs
// once per host. `kvm` / `tcg` in the config skip the probe.
import { access, constants, readFile, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import type { Logger } from '../shared/logger';
import { run } from '../shared/tools/exec';

export type HypervisorMode = 'kvm' | 'tcg';

const PROBE_TIMEOUT_MS = 20_000;

export function libguestfsEnv(mode: HypervisorMode, base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...base, LIBGUESTFS_BACKEND: 'direct' };
  if (mode === 'tcg') env.LIBGUESTFS_BACKEND_SETTINGS = 'force_tcg';
  else delete env.LIBGUESTFS_BACKEND_SETTINGS;
  return env;
}

export class Hypervisor {
  private verdict?: Promise<HypervisorMode>;
  private settled?: HypervisorMode;

  constructor(
    private readonly setting: 'auto' | 'kvm' | 'tcg',
    private readonly dataDir: string,
    private readonly guestfish: string,
    private readonly logger: Logger,
  ) {}

  mode(): Promise<HypervisorMode> {
    this.verdict ??= (this.setting === 'auto' ? this.probe() : Promise.resolve(this.setting)).then((m) => (this.settled = m));
    return this.verdict;
  }

  /** The verdict without waiting for it: "probing" while the KVM probe runs. */
  current(): HypervisorMode | 'probing' {
    return this.settled ?? (this.setting === 'auto' ? 'probing' : this.setting);
  }

  async env(): Promise<NodeJS.ProcessEnv> {
    return libguestfsEnv(await this.mode());
  }

  private async probe(): Promise<HypervisorMode> {
    const cache = path.join(this.dataDir, 'hypervisor.json');
    try {
      const cached = JSON.parse(await readFile(cache, 'utf8'));
      if (cached.mode === 'kvm' || cached.mode === 'tcg') return cached.mode;
    } catch {
      /* no verdict yet */
    }
    let mode: HypervisorMode = 'tcg';
    let reason = '';
    try {
      await access('/dev/kvm', constants.R_OK | constants.W_OK);
      await run(this.guestfish, ['-a', '/dev/null', 'run'], { env: libguestfsEnv('kvm'), timeoutMs: PROBE_TIMEOUT_MS });
      mode = 'kvm';
    } catch (err) {
      reason = (err as Error).message.split('\n')[0];
    }
    this.logger.info('hypervisor probe', { mode, reason });
    await writeFile(cache, JSON.stringify({ mode, reason, probedAt: new Date().toISOString() }) + '\n');
    return mode;
  }
}
