// A real libvirtd for the tests that need one (test/e2e/libvirt): CI is a fresh Debian 12
// without systemd, so nothing starts the daemons. ensureLibvirtd() starts `virtlogd -d`
// and `libvirtd -d` (root) when their sockets do not answer, and waits until
// `virsh -c qemu:///system version` does. A socket FILE proves nothing: /run is on the
// root disk on these machines, so a machine made from another's image has the files of
// daemons that no longer run (without virtlogd, libvirtd answers, defines and lists, but
// every start fails: "Failed to connect socket to '/run/libvirt/virtlogd-sock'").
// Idempotent; jest workers that call it at once take turns through a lock file, so the
// daemons are started once.
import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import * as net from 'node:net';
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

/** Whether a daemon accepts connections on this unix socket (a stale file refuses them). */
const listens = (socket: string) =>
  new Promise<boolean>((resolve) => {
    const c = net.connect(socket);
    c.once('connect', () => { c.destroy(); resolve(true); });
    c.once('error', () => resolve(false));
  });

const running = async () => (await listens(VIRTLOGD_SOCKET)) && (await answers());

/** libvirtd answers on qemu:///system once this resolves; throws with the reason otherwise. */
export async function ensureLibvirtd(timeoutMs = 60_000): Promise<void> {
  if (await running()) return;
  const release = await lockfile.lock(path.join(os.tmpdir(), 'ovirt-sysprep-libvirtd'), {
    realpath: false,
    stale: 30_000,
    retries: { retries: 240, minTimeout: 250, maxTimeout: 500 },
  });
  try {
    if (await running()) return; // another worker started them meanwhile
    if (process.getuid?.() !== 0) throw new Error(`libvirtd or virtlogd is not running (${SOCKET}, ${VIRTLOGD_SOCKET}) and only root can start them: run virtlogd -d && libvirtd -d as root`);
    const autostart = existsSync(NETWORK_AUTOSTART) ? readdirSync(NETWORK_AUTOSTART) : [];
    if (autostart.length) throw new Error(`libvirtd would start the networks ${autostart.join(', ')} (${NETWORK_AUTOSTART}): the tests never start a libvirt network; disable them with virsh net-autostart --disable NAME`);
    // Daemons, not our children: they outlive the test run, as a service would.
    if (!(await listens(VIRTLOGD_SOCKET))) await execFileAsync('virtlogd', ['-d']); // replaces a stale socket file
    await execFileAsync('libvirtd', ['-d']).catch(() => undefined); // a daemon still starting holds the pid file: wait below
    const end = Date.now() + timeoutMs;
    while (!(await running())) {
      if (Date.now() > end) throw new Error(`libvirtd did not answer on ${LIBVIRT_URI} within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 250));
    }
  } finally {
    await release();
  }
}
