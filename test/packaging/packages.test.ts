// The packages of `npm run package` (scripts/package.sh, docs/packaging.md), as an
// administrator gets them: the .deb's file list, modes and conffiles; the .deb installed
// with dpkg into a scratch root (its maintainer scripts create the service user and the
// directories there); `systemd-analyze verify` of the installed units; the logrotate entry
// run for real; then the INSTALLED engine and agent started from the scratch root's
// /usr/bin, as the service user's ids, answering GET /health and GetCapabilities (and the
// engine reaching the agent). The .rpm: its file list against the .deb's, %config marks,
// owners, scriptlets and dependencies. Nothing here touches the machine's own /etc, /usr or
// systemd: everything is under temp dirs (private mount namespace for logrotate), network
// on loopback only. Run with `npm run test:package` (builds the packages first), as root
// (as CI does): dpkg and rpm set owners, setpriv and unshare need it.
import { ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, chownSync, copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import { AGENT_KEYS } from '../../host-agent/config';
import { AgentClient } from '../../shared/agentClient';
import { REPO_ROOT as REPO } from '../helpers/guestImage';

const PKG_DIR = path.join(REPO, 'dist', 'packages');
const pkg = JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { version: string; dependencies: Record<string, string>; devDependencies: Record<string, string> };
const EXES = ['ovirt-sysprep', 'ovirt-sysprep-agent', 'ovirt-sysprep-engine'];
const UNITS = ['ovirt-sysprep-engine.service', 'ovirt-sysprep-agent.service'];
const CONFFILES = ['/etc/ovirt-sysprep/agent.conf', '/etc/ovirt-sysprep/engine.conf', '/etc/logrotate.d/ovirt-sysprep'].sort();
const LIB = '/usr/lib/ovirt-sysprep';
const TOKEN = randomBytes(18).toString('base64url');

function packageFile(ext: string): string {
  const found = existsSync(PKG_DIR) ? readdirSync(PKG_DIR).filter((f) => f.endsWith(ext)) : [];
  if (found.length !== 1) throw new Error(`expected one *${ext} in ${PKG_DIR} (found ${found.length}): run npm run package first`);
  return path.join(PKG_DIR, found[0]);
}
/** stdout; stderr is kept (dpkg's notes on forced dependencies) and shown only on failure. */
const run = (cmd: string, args: string[]) => execFileSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 << 20, stdio: ['ignore', 'pipe', 'pipe'] });
const sha = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

interface Entry { mode: string; owner: string; path: string }
/** `dpkg-deb -c`: "-rwxr-xr-x root/root 1234 2026-01-01 00:00 ./usr/bin/x" (links: "x -> y"). */
function debEntries(deb: string): Map<string, Entry> {
  const entries = new Map<string, Entry>();
  for (const line of run('dpkg-deb', ['-c', deb]).split('\n').filter(Boolean)) {
    const [mode, owner, , , , ...rest] = line.split(/\s+/);
    const p = rest.join(' ').replace(/ -> .*$/, '').replace(/^\./, '').replace(/\/$/, '') || '/';
    entries.set(p, { mode, owner, path: p });
  }
  return entries;
}

describe('the .deb', () => {
  let deb: string;
  let entries: Map<string, Entry>;
  beforeAll(() => {
    deb = packageFile('.deb');
    entries = debEntries(deb);
  });

  it('holds the executables, the code with its runtime, the config, the units and the UI plugin, with their modes', () => {
    const expected: [string, string][] = [
      ...EXES.map((e): [string, string] => [`/usr/bin/${e}`, '-rwxr-xr-x']),
      [`${LIB}/node/bin/node`, '-rwxr-xr-x'],
      [`${LIB}/app/bin/ovirt-sysprep-agent`, '-rwxr-xr-x'],
      [`${LIB}/app/dist/engine-plugin/main.js`, '-rw-r--r--'],
      [`${LIB}/app/dist/host-agent/main.js`, '-rw-r--r--'],
      [`${LIB}/app/dist/browser/shared.js`, '-rw-r--r--'],
      [`${LIB}/app/proto/agent.proto`, '-rw-r--r--'],
      [`${LIB}/app/engine-plugin/web/index.html`, '-rw-r--r--'],
      [`${LIB}/app/node_modules/better-sqlite3/build/Release/better_sqlite3.node`, '-rwxr-xr-x'],
      [`${LIB}/app/node_modules/libpq/build/Release/addon.node`, '-rwxr-xr-x'],
      ['/etc/ovirt-sysprep/engine.conf', '-rw-r-----'],
      ['/etc/ovirt-sysprep/agent.conf', '-rw-r--r--'],
      ['/etc/pki/ovirt-sysprep', 'drwxr-x---'],
      ['/etc/logrotate.d/ovirt-sysprep', '-rw-r--r--'],
      ...UNITS.map((u): [string, string] => [`/usr/lib/systemd/system/${u}`, '-rw-r--r--']),
      ['/usr/lib/sysusers.d/ovirt-sysprep.conf', '-rw-r--r--'],
      ['/usr/lib/tmpfiles.d/ovirt-sysprep.conf', '-rw-r--r--'],
      ['/usr/lib/firewalld/services/ovirt-sysprep-agent.xml', '-rw-r--r--'],
      ['/usr/share/ovirt-engine/ui-plugins/ovirt-sysprep.json', '-rw-r--r--'],
      ['/usr/share/ovirt-engine/ui-plugins/ovirt-sysprep-resources/plugin.html', '-rw-r--r--'],
      ['/usr/share/ovirt-engine/ui-plugins/ovirt-sysprep-resources/plugin.js', '-rw-r--r--'],
      ['/usr/share/doc/ovirt-sysprep/packaging.md', '-rw-r--r--'],
    ];
    expect(expected.map(([p]) => [p, entries.get(p)?.mode])).toEqual(expected);
    // Everything root's; nothing writable by others, nothing setuid or setgid.
    const all = [...entries.values()];
    expect(all.filter((e) => e.owner !== 'root/root')).toEqual([]);
    expect(all.filter((e) => !e.mode.startsWith('l') && (e.mode[8] === 'w' || /[sS]/.test(e.mode)))).toEqual([]);
    // Only under the FHS places the packaging names.
    const tops = new Set(all.map((e) => e.path.split('/').slice(0, 3).join('/')).filter((p) => p.split('/').length === 3));
    expect([...tops].sort()).toEqual(['/etc/logrotate.d', '/etc/ovirt-sysprep', '/etc/pki', '/usr/bin', '/usr/lib', '/usr/share']);
  });

  it('carries the production npm dependencies and none of the development ones, nor the tests', () => {
    const modules = new Set([...entries.keys()].filter((p) => p.startsWith(`${LIB}/app/node_modules/`)).map((p) => p.split('/').slice(6, 8).join('/')).map((m) => (m.startsWith('@') ? m : m.split('/')[0])));
    for (const dep of Object.keys(pkg.dependencies)) expect(modules).toContain(dep);
    // (@types/node comes in as a dependency of protobufjs: type packages are not tools.)
    for (const dev of Object.keys(pkg.devDependencies).filter((d) => !d.startsWith('@types/'))) expect(modules).not.toContain(dev);
    expect([...entries.keys()].filter((p) => p.startsWith(`${LIB}/app/dist/test/`) || p.startsWith(`${LIB}/app/dist/packages`))).toEqual([]);
  });

  it('marks the files in /etc as conffiles and declares what it needs', () => {
    expect(run('dpkg-deb', ['-I', deb, 'conffiles']).split('\n').filter(Boolean).sort()).toEqual(CONFFILES);
    const field = (f: string) => run('dpkg-deb', ['-f', deb, f]).trim();
    expect(field('Version')).toBe(`${pkg.version}-1`);
    expect(field('Architecture')).toBe(run('dpkg', ['--print-architecture']).trim());
    expect(field('Depends')).toContain('libc6');
    expect(field('Recommends')).toContain('libguestfs-tools');
    expect(field('Recommends')).toContain('libpq5'); // the PostgreSQL store's libpq binding links libpq.so.5
    expect(field('Provides')).toBe('ovirt-sysprep-agent, ovirt-sysprep-engine');
  });

  it('opens the agent port in its firewalld service, the port of the agent\'s default listen', () => {
    const xml = extractOne(deb, '/usr/lib/firewalld/services/ovirt-sysprep-agent.xml');
    const lint = spawnSync('xmllint', ['--noout', '-'], { input: xml, encoding: 'utf8' });
    expect(lint.stderr).toBe('');
    expect(lint.status).toBe(0);
    const ports = [...xml.matchAll(/<port protocol="(\w+)" port="(\d+)"\/>/g)].map((m) => `${m[2]}/${m[1]}`);
    expect(ports).toEqual([`${AGENT_KEYS.listen.default.split(':').pop()}/tcp`]);
  });
});

/** One file of the .deb's data, as text. */
function extractOne(deb: string, file: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'deb-x-'));
  try {
    run('dpkg-deb', ['-x', deb, dir]);
    return readFileSync(path.join(dir, file), 'utf8');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('the .deb installed with dpkg into a scratch root', () => {
  let root: string;
  let work: string;
  let ids: { uid: number; gid: number };
  const children: ChildProcess[] = [];
  const realPasswd = sha('/etc/passwd');
  const realGroup = sha('/etc/group');

  beforeAll(() => {
    root = mkdtempSync(path.join(tmpdir(), 'pkg-root-'));
    work = mkdtempSync(path.join(tmpdir(), 'pkg-work-'));
    // Readable by the service user, which runs the installed code below.
    chmodSync(root, 0o755);
    chmodSync(work, 0o755);
    // The root starts as a system would: its users (so the new user's ids are free on this
    // machine too) and an empty dpkg database. Dependencies are forced: that database does
    // not know this machine's libc, systemd, ... which the installed code uses.
    mkdirSync(path.join(root, 'etc'));
    for (const f of ['passwd', 'group']) copyFileSync(`/etc/${f}`, path.join(root, 'etc', f));
    for (const d of ['info', 'updates', 'triggers']) mkdirSync(path.join(root, 'var/lib/dpkg', d), { recursive: true });
    writeFileSync(path.join(root, 'var/lib/dpkg/status'), '');
    // --force-script-chrootless: the maintainer scripts run here with DPKG_ROOT=root (a
    // chroot would need a shell and systemd inside the root); they honour DPKG_ROOT.
    run('dpkg', ['--root', root, '--force-script-chrootless', '--force-depends', '-i', packageFile('.deb')]);
    const line = readFileSync(path.join(root, 'etc/passwd'), 'utf8').split('\n').find((l) => l.startsWith('ovirt-sysprep:'));
    if (!line) throw new Error('postinst created no user ovirt-sysprep in the scratch root');
    const [, , uid, gid] = line.split(':');
    ids = { uid: Number(uid), gid: Number(gid) };
  }, 120_000);

  afterAll(() => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    rmSync(root, { recursive: true, force: true });
    rmSync(work, { recursive: true, force: true });
  });

  it('creates the service user and its directories there, and nothing on this machine', () => {
    expect(sha('/etc/passwd')).toBe(realPasswd);
    expect(sha('/etc/group')).toBe(realGroup);
    expect(readFileSync(path.join(root, 'etc/passwd'), 'utf8')).toMatch(/^ovirt-sysprep:x:\d+:\d+:[^:]*:\/:\/usr\/sbin\/nologin$/m);
    const owned = (p: string) => {
      const s = statSync(path.join(root, p));
      return { p, uid: s.uid, gid: s.gid, mode: (s.mode & 0o7777).toString(8) };
    };
    expect(['/var/lib/ovirt-sysprep-engine', '/var/log/ovirt-sysprep-engine', '/var/lib/ovirt-sysprep-agent', '/var/log/ovirt-sysprep', '/var/cache/ovirt-sysprep-agent', '/run/ovirt-sysprep-agent'].map(owned)).toEqual([
      { p: '/var/lib/ovirt-sysprep-engine', ...ids, mode: '750' },
      { p: '/var/log/ovirt-sysprep-engine', ...ids, mode: '750' },
      { p: '/var/lib/ovirt-sysprep-agent', ...ids, mode: '750' },
      { p: '/var/log/ovirt-sysprep', ...ids, mode: '750' },
      { p: '/var/cache/ovirt-sysprep-agent', ...ids, mode: '750' },
      { p: '/run/ovirt-sysprep-agent', ...ids, mode: '700' },
    ]);
    // The file with the tokens and the key directory: the service user's group only.
    expect(owned('/etc/ovirt-sysprep/engine.conf')).toEqual({ p: '/etc/ovirt-sysprep/engine.conf', uid: 0, gid: ids.gid, mode: '640' });
    expect(owned('/etc/pki/ovirt-sysprep')).toEqual({ p: '/etc/pki/ovirt-sysprep', uid: 0, gid: ids.gid, mode: '750' });
  });

  it('has units that systemd-analyze verify accepts, with the binaries they start', () => {
    // The root holds only this package: add what a system has beside it (systemd's own
    // units, /bin/kill of ExecReload), without replacing any of the package's files.
    cpSync('/usr/lib/systemd/system', path.join(root, 'usr/lib/systemd/system'), { recursive: true, force: false, errorOnExist: false });
    mkdirSync(path.join(root, 'bin'), { recursive: true });
    copyFileSync('/usr/bin/kill', path.join(root, 'bin/kill'));
    const r = spawnSync('systemd-analyze', ['verify', `--root=${root}`, ...UNITS], { encoding: 'utf8' });
    // A misspelt key is only a warning (exit 0): any output fails.
    expect({ status: r.status, stderr: r.stderr, stdout: r.stdout }).toEqual({ status: 0, stderr: '', stdout: '' });
    const unit = readFileSync(path.join(root, 'usr/lib/systemd/system/ovirt-sysprep-agent.service'), 'utf8');
    for (const key of ['User=ovirt-sysprep', 'SupplementaryGroups=kvm', 'ProtectSystem=strict', 'PrivateTmp=yes', 'NoNewPrivileges=yes', 'ProtectHome=yes', 'CapabilityBoundingSet=\n']) expect(unit).toContain(key);
    // The agent needs /dev/kvm (and block domains' LVs): nothing that closes devices,
    // ProtectClock included (it implies DeviceAllow=char-rtc, and then only listed devices
    // open); and libguestfs's appliance is built from /usr/lib/modules, which
    // ProtectKernelModules hides.
    expect(unit.split('\n').filter((l) => /^(PrivateDevices|ProtectClock|DeviceAllow|DevicePolicy|ProtectKernelModules)=/.test(l))).toEqual([]);
  });

  it('rotates the access log with its logrotate entry, as the service user', () => {
    // In a private mount namespace: the root's passwd and group (the user exists there)
    // and a temp /var/log, so logrotate runs unchanged and the machine's own stay as they are.
    const logs = path.join(work, 'varlog');
    mkdirSync(path.join(logs, 'ovirt-sysprep-engine'), { recursive: true });
    chownSync(path.join(logs, 'ovirt-sysprep-engine'), ids.uid, ids.gid);
    writeFileSync(path.join(logs, 'ovirt-sysprep-engine/access.log'), '{"status":200}\n');
    const conf = path.join(root, 'etc/logrotate.d/ovirt-sysprep');
    const script = `mount --bind ${root}/etc/passwd /etc/passwd && mount --bind ${root}/etc/group /etc/group && mount --bind ${logs} /var/log && logrotate -v -f -s ${work}/logrotate.state ${conf}`;
    const r = spawnSync('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', script], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stderr.split('\n').filter((l) => /^error/.test(l))).toEqual([]);
    const fresh = statSync(path.join(logs, 'ovirt-sysprep-engine/access.log'));
    expect({ size: fresh.size, uid: fresh.uid, mode: (fresh.mode & 0o777).toString(8) }).toEqual({ size: 0, uid: ids.uid, mode: '640' });
    expect(readFileSync(path.join(logs, 'ovirt-sysprep-engine/access.log.1'), 'utf8')).toBe('{"status":200}\n');
  });

  it('parses its own shipped config files with the installed code', () => {
    const printed = JSON.parse(run(path.join(root, 'usr/bin/ovirt-sysprep-agent'), ['--print-config', '--config', path.join(root, 'etc/ovirt-sysprep/agent.conf')]));
    expect(printed.listen).toBe(AGENT_KEYS.listen.default);
    const engineConf = path.join(root, 'etc/ovirt-sysprep/engine.conf');
    const loaded = run(path.join(root, LIB, 'node/bin/node'), ['-e', `console.log(JSON.stringify(require(${JSON.stringify(path.join(root, LIB, 'app/dist/engine-plugin/config.js'))}).loadEngineConfigFile(${JSON.stringify(engineConf)}).config))`]);
    expect(JSON.parse(loaded)).toMatchObject({ listen: '127.0.0.1:8080', dataDir: '/var/lib/ovirt-sysprep-engine', inventory: 'embedded' });
  });

  it("loads the PostgreSQL store's libpq binding with the bundled runtime", () => {
    const store = path.join(root, LIB, 'app/dist/engine-plugin/store/postgres.js');
    expect(run(path.join(root, LIB, 'node/bin/node'), ['-e', `console.log(typeof require(${JSON.stringify(store)}).PostgresDb)`]).trim()).toBe('function');
  });

  it('starts the installed agent and engine as the service user: GetCapabilities, GET /health, the engine reaching the agent', async () => {
    // Test configs in a temp dir: loopback ports, plaintext gRPC (loopback only), the
    // embedded inventory with one host, the agent's own dirs owned by the service user.
    const dir = (name: string) => {
      const d = path.join(work, name);
      mkdirSync(d, { recursive: true });
      chownSync(d, ids.uid, ids.gid);
      return d;
    };
    const images = dir('images');
    writeFileSync(path.join(work, 'agent.conf'), [
      '[agent]', 'host_id = pkg-host', 'listen = 127.0.0.1:0', 'plaintext = true', `storage_roots = ${images}`,
      `data_dir = ${dir('agent-data')}`, `log_dir = ${dir('agent-log')}`, `secrets_dir = ${dir('agent-secrets')}`, 'hypervisor = tcg', 'log_level = warn', '',
    ].join('\n'));
    const agent = startInstalled('ovirt-sysprep-agent', ['--config', path.join(work, 'agent.conf')]);
    const { listening } = JSON.parse(await agent.firstLine) as { listening: string };
    const client = new AgentClient({ address: listening, tls: null });
    try {
      const caps = await client.getCapabilities();
      expect({ hostId: caps.hostId, agentVersion: caps.agentVersion, roots: caps.storageRoots.map((r) => r.path) }).toEqual({ hostId: 'pkg-host', agentVersion: pkg.version, roots: [images] });
    } finally {
      client.close();
    }

    writeFileSync(path.join(work, 'engine.conf'), [
      '[engine]', 'listen = 127.0.0.1:0', `data_dir = ${dir('engine-data')}`, 'inventory = embedded', 'health_interval_sec = 1', 'log_level = warn', '',
      '[tokens]', `test = viewer:${TOKEN}`, '',
      '[host:pkg-host]', `address = ${listening}`, `storage_roots = ${images}`, '',
    ].join('\n'));
    const engine = startInstalled('ovirt-sysprep-engine', ['--config', path.join(work, 'engine.conf')]);
    const url = /listening on (\S+)\/api\/v1/.exec(await engine.firstLine)![1];
    let health: { status: string; version: string; agents: { total: number; healthy: number } } | undefined;
    for (const until = Date.now() + 20_000; Date.now() < until; await new Promise((r) => setTimeout(r, 250))) {
      const res = await fetch(`${url}/api/v1/health`);
      expect(res.status).toBe(200);
      health = await res.json();
      if (health!.agents.healthy === 1) break;
    }
    expect(health).toEqual({ status: 'ok', version: pkg.version, role: 'leader', agents: { total: 1, healthy: 1 } });
    // An authenticated read of the job store: the bundled better-sqlite3 loads and opens it.
    const jobs = await fetch(`${url}/api/v1/jobs`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(jobs.status).toBe(200);
    for (const p of [engine, agent]) await p.stop();
  }, 60_000);

  /** An installed executable of the scratch root, as the service user's uid and gid, no capabilities. */
  function startInstalled(exe: string, args: string[]): { firstLine: Promise<string>; stop(): Promise<void> } {
    const child = spawn('setpriv', [`--reuid=${ids.uid}`, `--regid=${ids.gid}`, '--clear-groups', '--no-new-privs', '--inh-caps=-all', '--bounding-set=-all', path.join(root, 'usr/bin', exe), ...args], {
      env: { PATH: process.env.PATH, HOME: work, LIBGUESTFS_BACKEND: 'direct', LIBGUESTFS_BACKEND_SETTINGS: 'force_tcg' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    let stderr = '';
    child.stderr!.on('data', (b) => { stderr += b; });
    const firstLine = new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout! }).once('line', resolve);
      child.once('exit', (code) => reject(new Error(`${exe} exited ${code} before its first line: ${stderr}`)));
    });
    const stop = () => new Promise<void>((resolve) => {
      if (child.exitCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });
    return { firstLine, stop };
  }
});

describe('the .rpm', () => {
  let rpm: string;
  const q = (...args: string[]) => run('rpm', ['-qp', ...args, rpm]);
  beforeAll(() => {
    rpm = packageFile('.rpm');
  });

  it('holds the same files as the .deb (one staged tree), for this architecture', () => {
    const debFiles = [...debEntries(packageFile('.deb')).values()].filter((e) => !e.mode.startsWith('d')).map((e) => e.path).sort();
    const rpmFiles = q('--qf', '[%{FILEMODES:perms} %{FILENAMES}\n]').split('\n').filter((l) => l && !l.startsWith('d')).map((l) => l.split(' ')[1]).sort();
    expect(rpmFiles).toEqual(debFiles);
    expect(q('--qf', '%{ARCH} %{VERSION}')).toBe(`${({ amd64: 'x86_64', arm64: 'aarch64' } as Record<string, string>)[run('dpkg', ['--print-architecture']).trim()]} ${pkg.version}`);
  });

  it('marks the same files as %config(noreplace), and gives the secrets to the service group', () => {
    expect(q('--configfiles').split('\n').filter(Boolean).sort()).toEqual(CONFFILES);
    const flags = q('--qf', '[%{FILENAMES} %{FILEFLAGS:fflags} %{FILEMODES:perms} %{FILEUSERNAME}:%{FILEGROUPNAME}\n]').split('\n');
    expect(flags).toEqual(expect.arrayContaining([
      '/etc/ovirt-sysprep/engine.conf cn -rw-r----- root:ovirt-sysprep',
      '/etc/ovirt-sysprep/agent.conf cn -rw-r--r-- root:root',
      '/etc/logrotate.d/ovirt-sysprep cn -rw-r--r-- root:root',
      '/etc/pki/ovirt-sysprep  drwxr-x--- root:ovirt-sysprep',
      '/usr/bin/ovirt-sysprep-agent  -rwxr-xr-x root:root',
    ]));
  });

  /** The scriptlets of `rpm -qp --scripts`, by name ("preinstall", ...). */
  function scriptlets(): Record<string, string> {
    const parts = q('--scripts').split(/^(\w+) scriptlet \(using \/bin\/sh\):$/m);
    const out: Record<string, string> = {};
    for (let i = 1; i < parts.length; i += 2) out[parts[i]] = parts[i + 1];
    return out;
  }

  it('installs with rpm into a scratch root: the user of its %pre first, then its files with their owners; the installed agent runs', () => {
    const root = mkdtempSync(path.join(tmpdir(), 'rpm-root-'));
    try {
      mkdirSync(path.join(root, 'etc'));
      for (const f of ['passwd', 'group']) copyFileSync(`/etc/${f}`, path.join(root, 'etc', f));
      // %pre as it runs on EL 9, with --root added: its here-document is the package's sysusers.d entry.
      const entry = /<<'SYSUSERS'[^\n]*\n([\s\S]*?)\nSYSUSERS/.exec(scriptlets().preinstall)![1];
      const sysusers = spawnSync('systemd-sysusers', [`--root=${root}`, '--replace=/usr/lib/sysusers.d/ovirt-sysprep.conf', '-'], { input: entry, encoding: 'utf8' });
      expect(sysusers.status).toBe(0);
      // The other scriptlets would run chrooted (a shell and systemd inside the root): not here.
      run('rpm', ['--root', root, '--initdb']);
      run('rpm', ['--root', root, '-i', '--nodeps', '--noscripts', rpm]);
      const gid = Number(readFileSync(path.join(root, 'etc/group'), 'utf8').split('\n').find((l) => l.startsWith('ovirt-sysprep:'))!.split(':')[2]);
      const owned = (p: string) => {
        const st = statSync(path.join(root, p));
        return [st.uid, st.gid, (st.mode & 0o7777).toString(8)];
      };
      expect([owned('/etc/ovirt-sysprep/engine.conf'), owned('/etc/pki/ovirt-sysprep'), owned('/usr/bin/ovirt-sysprep-agent')]).toEqual([[0, gid, '640'], [0, gid, '750'], [0, 0, '755']]);
      expect(run(path.join(root, 'usr/bin/ovirt-sysprep-agent'), ['--version']).trim()).toBe(pkg.version);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('creates the user before its files, its directories after, and stops the services on removal', () => {
    for (const [name, body] of Object.entries(scriptlets())) expect([name, spawnSync('sh', ['-n'], { input: body, encoding: 'utf8' }).stderr]).toEqual([name, '']);
    const scripts = q('--scripts');
    const sysusers = readFileSync(path.join(REPO, 'packaging/misc/sysusers.conf'), 'utf8').split('\n').filter((l) => l && !l.startsWith('#'));
    expect(scripts).toMatch(/preinstall scriptlet[^\n]*\n[\s\S]*systemd-sysusers --replace=\/usr\/lib\/sysusers.d\/ovirt-sysprep.conf -/);
    for (const l of sysusers) expect(scripts).toContain(l);
    expect(scripts).toMatch(/postinstall scriptlet[^\n]*\n[\s\S]*systemd-tmpfiles --create ovirt-sysprep.conf/);
    expect(scripts).toMatch(/preuninstall scriptlet[^\n]*\n[\s\S]*systemctl disable --now ovirt-sysprep-engine.service ovirt-sysprep-agent.service/);
  });

  it('requires only what the bundled runtime links against, and provides the agent and engine names', () => {
    const requires = q('--requires').split('\n').filter(Boolean);
    expect(requires.filter((r) => !r.startsWith('rpmlib(') && !/^\/bin\/sh$/.test(r)).sort()).toEqual(['glibc >= 2.28', 'libstdc++', 'systemd', 'systemd']);
    expect(q('--provides')).toMatch(/ovirt-sysprep-agent = /);
    expect(q('--recommends').split('\n').filter(Boolean).sort()).toEqual(['guestfs-tools', 'libpq', 'qemu-img']);
  });
});
