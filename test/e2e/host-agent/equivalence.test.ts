// The equivalence check for real (issue 16): the built `ovirt-sysprep-agent compare` on
// three full copies of the debian fixture. Setup writes with ONE guestfish launch for the
// three disks (explicit /dev/sdX1 mounts: the copies share their root LABEL): a new random
// machine-id on each copy (different values, the same form), and on copy c one changed
// content, one mode, one owner and one added file. Then, in parallel (two compare runs,
// four read-only appliances): a vs b -> equal (exit 0: the machine-ids are compared by
// form); a vs c -> exactly the four changes (exit 1), the machine-id not among them.
// Budget in npm test: 90 s.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { run } from '../../../shared/tools/exec';
import { copyGuestImage, libguestfsEnv, REPO_ROOT } from '../../helpers/guestImage';
import { runCli } from '../cli/runCli';

jest.setTimeout(600_000);

const agentBin = path.join(REPO_ROOT, 'bin', 'ovirt-sysprep-agent');

const compare = (a: string, b: string) =>
  runCli(['compare', '--a', a, '--b', b, '--json'], libguestfsEnv({ OVIRT_SYSPREP_CONFIG: '/nonexistent' }), { bin: agentBin });

describe('ovirt-sysprep-agent compare (real guestfish, debian fixture)', () => {
  let dir: string;
  beforeAll(() => { dir = mkdtempSync(path.join(os.tmpdir(), 'equivalence-e2e-')); });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('bad usage and an unreadable disk exit 2 with the reason on stderr (no appliance started)', async () => {
    const env = libguestfsEnv({ OVIRT_SYSPREP_CONFIG: '/nonexistent' });
    const noB = await runCli(['compare', '--a', path.join(dir, 'x.qcow2')], env, { bin: agentBin });
    expect(noB).toMatchObject({ code: 2, out: '', err: expect.stringContaining('--b DISK') });
    const missing = await runCli(['compare', '--a', path.join(dir, 'none-a.qcow2'), '--b', path.join(dir, 'none-b.qcow2')], env, { bin: agentBin });
    expect(missing).toMatchObject({ code: 2, out: '', err: expect.stringContaining(`--a ${path.join(dir, 'none-a.qcow2')}: cannot be read`) });
  });

  it('equal copies with different random machine-ids are equal; a changed content, mode, owner and an added file are each reported', async () => {
    const [a, b, c] = ['a', 'b', 'c'].map((n) => path.join(dir, `${n}.qcow2`));
    await Promise.all([a, b, c].map((p) => copyGuestImage(p, 'debian')));
    const mid = () => randomBytes(16).toString('hex');
    const script = [
      'run',
      ...['sda', 'sdb', 'sdc'].flatMap((d) => [`mount /dev/${d}1 /`, `write /etc/machine-id "${mid()}\\n"`, ...(d === 'sdc' ? [
        'write /etc/hostname "changed-by-test\\n"',
        'chmod 0600 /etc/hosts',
        'chown 1000 1000 /etc/fstab',
        'write /etc/added-by-test "new\\n"',
      ] : []), 'umount-all']),
      'exit',
    ].join('\n') + '\n';
    await run('guestfish', [...[a, b, c].flatMap((p) => ['--format=qcow2', '-a', p])], { env: libguestfsEnv(), input: script, timeoutMs: 300_000 });

    const started = Date.now();
    const [same, changed] = await Promise.all([compare(a, b), compare(a, c)]);
    const seconds = (Date.now() - started) / 1000;
    expect({ code: same.code, err: same.err }).toEqual({ code: 0, err: '' });
    expect(JSON.parse(same.out)).toMatchObject({ equal: true, differences: [] });
    expect({ code: changed.code, err: changed.err }).toEqual({ code: 1, err: '' });
    const report = JSON.parse(changed.out);
    expect(report.differences).toEqual([
      { path: '/etc/added-by-test', what: 'only in b' },
      { path: '/etc/fstab', what: 'uid 0 != 1000' },
      { path: '/etc/fstab', what: 'gid 0 != 1000' },
      { path: '/etc/hostname', what: expect.stringMatching(/^content/) },
      { path: '/etc/hosts', what: 'mode 644 != 600' },
    ]);
    expect(report.entries.a).toBeGreaterThan(100);
    // Measured per run (both VMs read in parallel): printed so the budget can be checked.
    process.stderr.write(`equivalence e2e: two compare runs in parallel took ${seconds.toFixed(1)} s (each: ${JSON.parse(same.out).seconds} s, ${report.seconds} s)\n`);
  });
});
