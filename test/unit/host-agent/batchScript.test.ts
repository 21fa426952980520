// The batch script (host-agent/batch/batchScript.ts): table tests of argv -> steps or the
// reason a VM runs alone, then the generated script run by the host's sh and busybox sh
// (the fixture guests' /bin/sh) on the fixture trees of each family (writeGuestTree:
// the same files the e2e images carry). Expected effects follow virt-sysprep 1.48.2 as
// measured on copies of the fixture images (virt-diff of the image before and after one
// `virt-sysprep --operations <clone-reset>,customize --hostname --run --root-password
// --password-crypto sha512 --delete --truncate` run): Debian's /etc/hosts edited, SUSE's
// /etc/HOSTNAME link written through without a newline, Rocky's hostname and HWADDR left
// with the tool's warning, /tmp/builder.log holding the --run output, /etc/shadow keeping
// its mode and group.
import { lstatSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { BATCH_OPERATIONS, batchScript, BatchScriptInput, OPERATION_PARTS } from '../../../host-agent/batch/batchScript';
import { IDENTITY_OPERATIONS } from '../../../engine-plugin/profiles/builtins';
import { GuestFlavour, writeGuestTree } from '../../helpers/guestImage';
import { spawnSync } from 'node:child_process';
import { GUEST_SHELLS, runGuestScript } from '../../helpers/guestScript';

const VERSION = 'virt-sysprep 1.48.2';
const FAKE_HASH = (plain: string) => `$6$testsalt$${Buffer.from(plain).toString('hex').padEnd(86, 'x').slice(0, 86)}`;
const deps = { hashPassword: async (plain: string) => FAKE_HASH(plain) };
/** clone-reset's operations the installed 1.48 knows (lvm-system-devices is 1.50's). */
const CLONE_RESET_148 = IDENTITY_OPERATIONS.filter((o) => o !== 'lvm-system-devices');
const DISK = ['--format', 'qcow2', '-a', '/var/lib/images/vm1.qcow2'];
const RUN = { path: '/run/job1/f1', content: 'echo hello-from-run\necho "warning: sample"\n' };
const PW = { path: '/run/job1/f0', content: 'Secret-pw1' };

function input(extra: string[], files = [PW, RUN], ops = [...CLONE_RESET_148, 'customize']): BatchScriptInput {
  return { argv: [...DISK, '--operations', ops.join(','), ...extra, '--no-network'], files, toolVersion: VERSION };
}

describe('batchScript: argv -> steps or the reason to run alone', () => {
  it('covers every clone-reset operation of 1.48 and customize, in the tool order', async () => {
    for (const op of CLONE_RESET_148) expect(BATCH_OPERATIONS.has(op)).toBe(true);
    const r = await batchScript(input(['--hostname', 'vm1', '--run', RUN.path]), deps);
    expect(r.batchable).toBe(true);
    if (!r.batchable) return;
    expect(r.steps).toEqual([...[...CLONE_RESET_148].sort(), 'customize']);
    expect(r.script.startsWith('#!/bin/sh\n')).toBe(true);
    expect(r.script).toContain('set -eu');
    expect(r.script).toContain('cd "${OVIRT_SYSPREP_ROOT:-/}"');
  });

  it.each<[string, BatchScriptInput, RegExp]>([
    ['an operation with no batch form', input([], [], ['lvm-uuids', 'customize']), /operation "lvm-uuids" has no batch form/],
    ['a customize option with no batch form', input(['--timezone', 'Europe/Berlin']), /option "--timezone" has no batch form/],
    ['ssh-inject', input(['--ssh-inject', 'root:file:/run/job1/f0']), /option "--ssh-inject"/],
    ['a dry run', { ...input([]), argv: [...input([]).argv, '--dry-run'] }, /option "--dry-run"/],
    ['no --operations list', { argv: [...DISK, '--hostname', 'x'], files: [], toolVersion: VERSION }, /no --operations list/],
    ['a password without --password-crypto', input(['--root-password', `file:${PW.path}`]), /MD5 on Rocky/],
    ['an md5 crypto', input(['--root-password', `file:${PW.path}`, '--password-crypto', 'md5']), /only sha512/],
    ['a run script that was not planned', input(['--run', '/elsewhere/x']), /not one of the planned files/],
    ['two passwords for root', input(['--root-password', 'disabled', '--password', 'root:disabled']), /two passwords/],
    ['another tool version', { ...input([]), toolVersion: 'virt-sysprep 1.50.1' }, /follow virt-sysprep 1\.48 only/],
  ])('%s => alone', async (_what, given, reason) => {
    const r = await batchScript(given, deps);
    expect(r.batchable).toBe(false);
    if (!r.batchable) expect(r.reason).toMatch(reason);
  });

  it('hashes each password on the host, keeps only hashes in the script and returns them as secrets', async () => {
    const calls: string[] = [];
    const r = await batchScript(input(['--root-password', `file:${PW.path}`, '--password', 'student:random', '--password', 'olduser:locked:disabled', '--password-crypto', 'sha512']),
      { hashPassword: async (p) => { calls.push(p); return FAKE_HASH(p); } });
    if (!r.batchable) throw new Error(r.reason);
    expect(calls[0]).toBe('Secret-pw1');
    expect(calls[1]).toMatch(/^[A-NP-Za-km-z0-9]{16}$/);
    expect(r.secrets).toEqual(calls.map(FAKE_HASH));
    expect(r.script).not.toContain('Secret-pw1');
    expect(r.script).not.toContain(calls[1]);
    expect(r.script).toContain("'olduser') f='!!*' ;;");
  });

  it('disabled passwords need no hash (and so no --password-crypto)', async () => {
    const r = await batchScript(input(['--root-password', 'disabled']), deps);
    expect(r.batchable).toBe(true);
  });
});

// ---------------------------------------------------------------------------------------
// The script on the fixture trees.

const FULL = ['--hostname', 'vm-a.example.org', '--run', RUN.path, '--root-password', `file:${PW.path}`, '--password-crypto', 'sha512',
  '--delete', '/etc/motd', '--truncate', '/etc/issue'];

const tmpDirs: string[] = [];
afterAll(() => tmpDirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

async function guestTree(flavour: GuestFlavour): Promise<string> {
  const dir = mkdtempSync(path.join(os.tmpdir(), `batch-${flavour}-`));
  tmpDirs.push(dir);
  const root = path.join(dir, 'root');
  require('node:fs').mkdirSync(root);
  await writeGuestTree(root, flavour);
  writeFileSync(path.join(root, 'etc/issue'), 'Welcome\n');
  writeFileSync(path.join(root, 'etc/motd'), 'motd\n');
  return root;
}

const read = (root: string, p: string) => readFileSync(path.join(root, p), 'utf8');
const exists = (root: string, p: string) => { try { lstatSync(path.join(root, p)); return true; } catch { return false; } };

/** Every path under root with its type and mode (for the idempotence check). */
function listing(root: string, rel = ''): string[] {
  const out: string[] = [];
  for (const name of readdirSync(path.join(root, rel)).sort()) {
    const p = path.join(rel, name);
    const st = lstatSync(path.join(root, p));
    out.push(`${p} ${st.mode.toString(8)} ${st.uid}:${st.gid}`);
    if (st.isDirectory()) out.push(...listing(root, p));
  }
  return out;
}

/**
 * 'guest': the tree's own /bin/sh with PATH = the tree's /bin only (the fixture guests'
 * busybox applets: no awk, od or cmp), as in the appliance's chroot.
 */
const MODES = [...GUEST_SHELLS, 'guest'];
function run(mode: string, root: string, text: string, args: string[] = []) {
  if (mode !== 'guest') return runGuestScript(mode, root, text, args);
  const file = `${root}.sh`;
  writeFileSync(file, text);
  const r = spawnSync(path.join(root, 'bin/sh'), [file, ...args], { env: { PATH: path.join(root, 'bin'), OVIRT_SYSPREP_ROOT: root }, encoding: 'utf8' });
  rmSync(file);
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe.each(MODES)('the batch script run by %s', (shell) => {
  let script: string;
  let parts: number;
  beforeAll(async () => {
    const r = await batchScript(input(FULL), deps);
    if (!r.batchable) throw new Error(r.reason);
    script = r.script;
    parts = r.parts;
  });

  it('run part by part (as the session runs it) gives the tree and the steps of one whole run, each part its own steps', async () => {
    const [whole, byPart] = [await guestTree('debian'), await guestTree('debian')];
    const all = run(shell, whole, script);
    expect(all.status).toBe(0);
    expect(parts).toBe(OPERATION_PARTS + 1); // the operations, then customize
    const outs = Array.from({ length: parts }, (_, i) => run(shell, byPart, script, [String(i + 1)]));
    expect(outs.map((o) => o.status)).toEqual(outs.map(() => 0));
    const steps = (out: string) => out.split('\n').filter((l) => l.startsWith('ovirt-sysprep-step: '));
    expect(outs.map((o) => steps(o.stdout).length).every((n) => n > 0)).toBe(true);
    expect(outs.flatMap((o) => steps(o.stdout))).toEqual(steps(all.stdout));
    expect(steps(outs[parts - 1].stdout)).toEqual(['ovirt-sysprep-step: customize']);
    const random = /^(etc\/machine-id|var\/lib\/systemd\/random-seed|etc\/shadow) /;
    expect(listing(byPart).filter((l) => !random.test(l))).toEqual(listing(whole).filter((l) => !random.test(l)));
    expect(read(byPart, 'etc/hostname')).toBe(read(whole, 'etc/hostname'));
  });

  it('debian: operations, hostname in /etc/hostname and /etc/hosts, seeds, machine-id, run log, shadow in place', async () => {
    const root = await guestTree('debian');
    const shadowMode = lstatSync(path.join(root, 'etc/shadow')).mode;
    const r = run(shell, root, script);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines.filter((l) => l.startsWith('ovirt-sysprep-step: ')).map((l) => l.slice(20))).toEqual([...[...CLONE_RESET_148].sort(), 'customize']);
    expect(lines).toContain('warning: sample');
    expect(lines).toContain('hello-from-run');
    for (const gone of ['etc/krb5.keytab', 'etc/ssh/ssh_host_rsa_key', 'etc/ssh/ssh_host_ed25519_key.pub', 'root/.bash_history', 'home/student/.bash_history',
      'etc/udev/rules.d/70-persistent-net.rules', 'var/log/messages', 'var/log/wtmp', 'var/lib/dhcp/dhclient.eth0.leases', 'etc/motd']) {
      expect([gone, exists(root, gone)]).toEqual([gone, false]);
    }
    // Not in the tool's globs: kept.
    expect(exists(root, 'home/student/.zsh_history')).toBe(true);
    expect(read(root, 'etc/hostname')).toBe('vm-a.example.org\n');
    expect(read(root, 'etc/hosts')).toContain('127.0.1.1\tvm-a.example.org\n');
    expect(read(root, 'etc/hosts')).toContain('127.0.0.1\tlocalhost\n');
    expect(read(root, 'etc/machine-id')).toMatch(/^[0-9a-f]{32}\n$/);
    expect(read(root, 'var/lib/dbus/machine-id')).toBe('');
    expect(lstatSync(path.join(root, 'var/lib/systemd/random-seed')).size).toBe(512);
    expect(read(root, 'etc/issue')).toBe('');
    expect(read(root, 'tmp/builder.log')).toBe('hello-from-run\nwarning: sample\n');
    expect(read(root, 'etc/shadow').split('\n')[0]).toBe(`root:${FAKE_HASH('Secret-pw1')}:19800:0:99999:7:::`);
    expect(read(root, 'etc/shadow')).toContain('olduser:$6$olduser0salt$');
    expect(lstatSync(path.join(root, 'etc/shadow')).mode).toBe(shadowMode);
    expect(listing(root).filter((l) => l.includes('ovirt-sysprep'))).toEqual([]);
  });

  it('el8 (Rocky, unknown to 1.48): hostname and HWADDR left, the tool\'s warning', async () => {
    const root = await guestTree('el8');
    const hostname = read(root, 'etc/hostname');
    const r = run(shell, root, script);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('warning: hostname could not be set for this type of guest\n');
    expect(read(root, 'etc/hostname')).toBe(hostname);
    expect(read(root, 'etc/sysconfig/network-scripts/ifcfg-eth0')).toContain('HWADDR=');
    expect(exists(root, 'etc/machine-info')).toBe(false);
  });

  it('nm (Fedora 39): ifcfg HWADDR dropped, keyfiles removed, /etc/hostname and PRETTY_HOSTNAME', async () => {
    const root = await guestTree('nm');
    const r = run(shell, root, script);
    expect(r.status).toBe(0);
    expect(r.stdout).not.toContain('hostname could not be set');
    expect(readdirSync(path.join(root, 'etc/NetworkManager/system-connections')).filter((f) => f.endsWith('.nmconnection'))).toEqual([]);
    for (const f of readdirSync(path.join(root, 'etc/sysconfig/network-scripts')).filter((n) => n.startsWith('ifcfg-'))) {
      expect(read(root, `etc/sysconfig/network-scripts/${f}`)).not.toMatch(/^HWADDR=/m);
    }
    expect(read(root, 'etc/hostname')).toBe('vm-a.example.org\n');
    expect(read(root, 'etc/machine-info')).toBe('PRETTY_HOSTNAME=vm-a.example.org\n');
    const m = lstatSync(path.join(root, 'etc/machine-info')).mode & 0o777;
    expect(m).toBe(0o644);
  });

  it('suse: /etc/HOSTNAME stays a link, the name written through it without a newline', async () => {
    const root = await guestTree('suse');
    const r = run(shell, root, script);
    expect(r.status).toBe(0);
    expect(lstatSync(path.join(root, 'etc/HOSTNAME')).isSymbolicLink()).toBe(true);
    expect(read(root, 'etc/hostname')).toBe('vm-a.example.org');
  });

  it('a second run gives the same tree (random values aside) and an absolute symlink target sends the VM alone', async () => {
    const root = await guestTree('debian');
    expect(run(shell, root, script).status).toBe(0);
    const first = listing(root);
    const hosts = read(root, 'etc/hosts');
    expect(run(shell, root, script).status).toBe(0);
    expect(listing(root)).toEqual(first);
    expect(read(root, 'etc/hosts')).toBe(hosts);
    expect(read(root, 'tmp/builder.log')).toBe('hello-from-run\nwarning: sample\n'); // tmp-files emptied /tmp first

    unlinkSync(path.join(root, 'etc/hostname'));
    symlinkSync('/elsewhere/hostname', path.join(root, 'etc/hostname'));
    writeFileSync(path.join(root, 'etc/issue'), 'x');
    const r = run(shell, root, script);
    expect(r.status).toBe(3);
    expect(r.stdout).toContain('ovirt-sysprep-alone: /etc/hostname is a symlink to /elsewhere/hostname');
  });

  it("debian /etc/hosts: the augeas edit's rules (names only, separators and comments kept) and locked passwords", async () => {
    const root = await guestTree('debian');
    writeFileSync(path.join(root, 'etc/hostname'), 'golden-image.lab.example\n');
    writeFileSync(path.join(root, 'etc/hosts'),
      '# golden-image in a comment\n127.0.1.1 \t golden-image.lab.example   golden-image # golden-image\n' +
      '10.0.0.1\tunassigned-hostname.unassigned-domain unassigned-hostname\n\n10.0.0.2 golden-image2 xgolden-image\n');
    const r = await batchScript(input(['--hostname', 'vm-b.example.org', '--root-password', 'locked:disabled', '--password', 'olduser:locked:password:a:b', '--password-crypto', 'sha512']), deps);
    if (!r.batchable) throw new Error(r.reason);
    writeFileSync(path.join(root, 'etc/issue'), 'x');
    const out = run(shell, root, r.script);
    expect(out.status).toBe(0);
    expect(read(root, 'etc/hosts')).toBe(
      '# golden-image in a comment\n127.0.1.1 \t vm-b.example.org   vm-b # golden-image\n' +
      '10.0.0.1\tvm-b.example.org vm-b\n\n10.0.0.2 golden-image2 xgolden-image\n');
    const shadow = read(root, 'etc/shadow').split('\n');
    expect(shadow[0]).toBe('root:!!*:19800:0:99999:7:::');
    expect(shadow.find((l) => l.startsWith('olduser:'))).toBe(`olduser:!!${FAKE_HASH('a:b')}:19800:0:99999:7:::`);
  });

  it('--truncate of a missing file fails as the tool does', async () => {
    const root = await guestTree('debian');
    rmSync(path.join(root, 'etc/issue'));
    const r = run(shell, root, script);
    expect(r.status).toBe(1);
    expect(r.stdout).toContain('error: truncate: open: /etc/issue: No such file or directory');
  });
});
