// A real libvirtd for the tests that need one (test/e2e/libvirt): CI is a fresh Debian 12
// without systemd, so nothing starts the daemons. ensureLibvirtd() starts `virtlogd -d`
// and `libvirtd -d` (root) when libvirt's socket does not answer, and waits until
// `virsh -c qemu:///system version` does. Idempotent; jest workers that call it at once
// take turns through a lock file, so the daemons are started once.
import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import * as lockfile from 'proper-lockfile';

const execFileAsync = promisify(execFile);

export const LIBVIRT_URI = 'qemu:///system';
const SOCKET = '/run/libvirt/libvirt-sock';
const VIRTLOGD_SOCKET = '/run/libvirt/virtlogd-sock';
/** libvirtd starts every network linked here: tests must never start one (no traffic leaves loopback). */
const NETWORK_AUTOSTART = '/etc/libvirt/qemu/networks/autostart';

const answers = () => execFileAsync('virsh', ['-c', LIBVIRT_URI, 'version'], { timeout: 10_000 }).then(() => true, () => false);

/** libvirtd answers on qemu:///system once this resolves; throws with the reason otherwise. */
export async function ensureLibvirtd(timeoutMs = 60_000): Promise<void> {
  if (existsSync(SOCKET) && (await answers())) return;
  const release = await lockfile.lock(path.join(os.tmpdir(), 'ovirt-sysprep-libvirtd'), {
    realpath: false,
    stale: 30_000,
    retries: { retries: 240, minTimeout: 250, maxTimeout: 500 },
  });
  try {
    if (existsSync(SOCKET) && (await answers())) return; // another worker started it meanwhile
    if (process.getuid?.() !== 0) throw new Error(`libvirtd is not running (${SOCKET}) and only root can start it: run virtlogd -d && libvirtd -d as root`);
    const autostart = existsSync(NETWORK_AUTOSTART) ? readdirSync(NETWORK_AUTOSTART) : [];
    if (autostart.length) throw new Error(`libvirtd would start the networks ${autostart.join(', ')} (${NETWORK_AUTOSTART}): the tests never start a libvirt network; disable them with virsh net-autostart --disable NAME`);
    // Daemons, not our children: they outlive the test run, as a service would.
    if (!existsSync(VIRTLOGD_SOCKET)) await execFileAsync('virtlogd', ['-d']);
    await execFileAsync('libvirtd', ['-d']).catch(() => undefined); // a daemon still starting holds the pid file: wait below
    const end = Date.now() + timeoutMs;
    while (!(existsSync(SOCKET) && (await answers()))) {
      if (Date.now() > end) throw new Error(`libvirtd did not answer on ${LIBVIRT_URI} within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 250));
    }
  } finally {
    await release();
  }
}
