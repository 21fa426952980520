// The batch script against the real tool on a real image: two copies of the debian
// fixture, one reset by virt-sysprep alone with clone-reset's argv (hostname, a root
// password, the identity catalogue), the other by the batch script of the SAME argv run
// in a guestfish appliance (`sh` in the inspected root, as the batch session does). Both
// are then read in one read-only guestfish session (explicit devices: the copies share
// their labels) and compared on a few key files; the full file-by-file comparison is the
// equivalence check's (host-agent/batch/equivalence.ts). The two resets run in parallel.
import { execFile } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { readFileSync } from 'node:fs';
import { IDENTITY_OPERATIONS } from '../../../engine-plugin/profiles/builtins';
import { batchScript } from '../../../host-agent/batch/batchScript';
import { buildArgv } from '../../../host-agent/sysprep/argv';
import { hashPassword } from '../../../host-agent/tools/passwordHash';
import { parseOperationList } from '../../../shared/catalog/operations';
import { resolveSpec } from '../../../shared/spec';
import { copyGuestImage, libguestfsEnv } from '../../helpers/guestImage';

const exec = promisify(execFile);
const OPS = parseOperationList(readFileSync(path.join(__dirname, '../../fixtures/virt-sysprep-1.48-list-operations.txt'), 'utf8'));
const HOSTNAME = 'vm-e2e.example.org';

let dir: string;
afterAll(() => { if (dir) rmSync(dir, { recursive: true, force: true }); });

/** guestfish with commands on stdin; stdout. */
async function guestfish(args: string[], commands: string): Promise<string> {
  const child = execFile('guestfish', args, { env: libguestfsEnv(), maxBuffer: 64 << 20, timeout: 400_000 });
  child.stdin!.end(commands);
  let out = '';
  child.stdout!.on('data', (c) => { out += c; });
  let err = '';
  child.stderr!.on('data', (c) => { err += c; });
  const code: number = await new Promise((resolve) => child.on('close', resolve));
  if (code !== 0) throw new Error(`guestfish exited ${code}: ${err.slice(-2000)}`);
  return out;
}

it('a debian copy reset by the batch script reads like one reset by virt-sysprep (key files)', async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'batch-e2e-'));
  const tool = path.join(dir, 'tool.qcow2');
  const batch = path.join(dir, 'batch.qcow2');
  await Promise.all([copyGuestImage(tool), copyGuestImage(batch)]);
  const filesDir = path.join(dir, 'files');
  mkdirSync(filesDir, { mode: 0o700 });
  const spec = resolveSpec({
    operations: { only: IDENTITY_OPERATIONS.filter((o) => OPS.some((x) => x.name === o)) },
    params: { hostname: HOSTNAME, rootPassword: { value: 'E2e-secret-1' }, identity: 'all' },
  }, OPS);
  const plan = buildArgv({ disks: [{ path: tool, format: 'qcow2' }], spec, dryRun: false, filesDir, trace: false });
  for (const f of plan.files) { writeFileSync(f.path, f.content); chmodSync(f.path, 0o600); }

  const { stdout: version } = await exec('virt-sysprep', ['--version']);
  const script = await batchScript({ argv: plan.argv, files: plan.files, toolVersion: version }, { hashPassword });
  if (!script.batchable) throw new Error(script.reason);
  const scriptPath = path.join(filesDir, 'batch.sh');
  writeFileSync(scriptPath, script.script, { mode: 0o600 });

  const [, batchOut] = await Promise.all([
    exec('virt-sysprep', plan.argv, { env: libguestfsEnv(), timeout: 400_000, maxBuffer: 64 << 20 }),
    guestfish(['--format=qcow2', '-a', batch, '-i'], `upload ${scriptPath} /ovirt-batch.sh\nsh "/bin/sh /ovirt-batch.sh"\nrm /ovirt-batch.sh\n`),
  ]);
  expect(batchOut).toContain('ovirt-sysprep-step: customize');
  for (const s of script.secrets) expect(batchOut).not.toContain(s);

  const read = (dev: string, label: string) =>
    `mount-ro ${dev} /\necho ==${label}-find\nfind /\necho ==${label}-hostname\ncat /etc/hostname\necho ==${label}-hosts\ncat /etc/hosts\n` +
    `echo ==${label}-log\ncat /tmp/builder.log\necho ==${label}-mid\ncat /etc/machine-id\necho ==${label}-shadow\nhead-n 1 /etc/shadow\n` +
    `echo ==${label}-stat\nlstatns /etc/shadow\numount /\n`;
  const out = await guestfish(['--ro', '--format=qcow2', '-a', tool, '-a', batch], `run\n${read('/dev/sda1', 'tool')}${read('/dev/sdb1', 'batch')}`);
  const part = (name: string) => {
    const m = new RegExp(`==${name}\\n([\\s\\S]*?)(?=\\n==|$)`).exec(out);
    if (!m) throw new Error(`no ${name} in the listing`);
    return m[1].trim();
  };
  expect(part('batch-find')).toBe(part('tool-find'));
  for (const f of ['hostname', 'hosts', 'log']) expect([f, part(`batch-${f}`)]).toEqual([f, part(`tool-${f}`)]);
  expect(part('batch-hostname')).toBe(HOSTNAME);
  expect(part('batch-mid')).toMatch(/^[0-9a-f]{32}$/);
  expect(part('tool-mid')).toMatch(/^[0-9a-f]{32}$/);
  const form = (line: string) => line.replace(/\$6\$[^$]+\$[^:]+/, '$6$SALT$HASH');
  expect(form(part('batch-shadow'))).toBe(form(part('tool-shadow')));
  const modeOwner = (s: string) => s.split('\n').filter((l) => /^st_(mode|uid|gid):/.test(l)).join(' ');
  expect(modeOwner(part('batch-stat'))).toBe(modeOwner(part('tool-stat')));
}, 600_000);
