// The script after virt-customize's --hostname (shared/catalog/guest/hostname.ts), run by
// the host's real sh and busybox sh on temporary guest trees: silent where the tool set the
// name, /etc/hostname written (never through a symlink) where it could not, a warning the
// agent counts as "not applied" where the guest has no place for it. The tool and the script
// run together on the real fixtures in test/e2e/engine/identityItems.test.ts (EL 8 inspected
// as rocky).
import { lstatSync, readFileSync, statSync, symlinkSync } from 'node:fs';
import * as path from 'node:path';
import { buildArgv } from '../../../../host-agent/sysprep/argv';
import { unappliedField } from '../../../../host-agent/sysprep/toolWarnings';
import { hostnameScript } from '../../../../shared/catalog/guest/hostname';
import { parseWarningLine } from '../../../../host-agent/sysprep/progress';
import { GUEST_SHELLS, makeGuestTree, removeGuestTrees, runGuestScript } from '../../../helpers/guestScript';

afterAll(removeGuestTrees);
const guest = (tree: Record<string, string>): string => makeGuestTree('hostname-', tree);

const read = (root: string, p: string) => readFileSync(path.join(root, p), 'utf8');
/** The warnings the agent would take from the run's output. */
const warnings = (stdout: string) => stdout.split('\n').map(parseWarningLine).filter((w): w is string => w !== null);

describe.each(GUEST_SHELLS)('hostname script with %s', (shell) => {
  it('does nothing where one of the files the tool writes holds the name', () => {
    for (const tree of <Record<string, string>[]>[
      { 'etc/hostname': 'lab-pc1\n', 'usr/lib/systemd/': '' },
      { 'etc/HOSTNAME': 'lab-pc1\n', 'etc/hostname': 'golden\n' },
      { 'etc/sysconfig/network': 'NETWORKING=yes\nHOSTNAME=lab-pc1\n' },
      { 'etc/conf.d/hostname': 'hostname="lab-pc1"\n' },
    ]) {
      const root = guest(tree);
      expect(runGuestScript(shell, root, hostnameScript('lab-pc1'))).toEqual({ status: 0, stdout: '', stderr: '' });
      for (const [p, content] of Object.entries(tree)) if (!p.endsWith('/')) expect(read(root, p)).toBe(content);
    }
  });

  it('writes /etc/hostname and the pretty name where the tool left the golden name (Rocky on 1.48), and says so', () => {
    const root = guest({ 'etc/hostname': 'golden-el8\n', 'etc/machine-info': 'PRETTY_HOSTNAME=golden-el8\nICON_NAME=computer-vm\n', 'usr/lib/systemd/': '' });
    const r = runGuestScript(shell, root, hostnameScript('lab-pc4'));
    expect([r.status, r.stderr]).toEqual([0, '']);
    expect(read(root, 'etc/hostname')).toBe('lab-pc4\n');
    expect((statSync(path.join(root, 'etc/hostname')).mode & 0o777).toString(8)).toBe('644');
    expect(read(root, 'etc/machine-info')).toBe('ICON_NAME=computer-vm\nPRETTY_HOSTNAME=lab-pc4\n');
    const [w] = warnings(r.stdout);
    expect(w).toMatch(/wrote the hostname lab-pc4 to \/etc\/hostname/);
    expect(unappliedField(w, { params: ['hostname'], operations: [] })).toBeUndefined();
    // virt-customize writes the output after whatever the appliance console printed last,
    // which may lack its newline (sh.ts warningCommand): the warning is still a line of its own.
    expect(warnings(`guestfsd: => rm (0x1d) took 0.00 secs${r.stdout}`)).toEqual([w]);
    // A second run finds the name in place.
    expect(runGuestScript(shell, root, hostnameScript('lab-pc4'))).toEqual({ status: 0, stdout: '', stderr: '' });
  });

  it('replaces a symlinked /etc/hostname instead of writing through it', () => {
    const root = guest({ 'outside/hostname': 'golden\n', 'etc/': '' });
    symlinkSync('../outside/hostname', path.join(root, 'etc/hostname'));
    expect(runGuestScript(shell, root, hostnameScript('lab-pc2')).status).toBe(0);
    expect(lstatSync(path.join(root, 'etc/hostname')).isSymbolicLink()).toBe(false);
    expect(read(root, 'etc/hostname')).toBe('lab-pc2\n');
    expect(read(root, 'outside/hostname')).toBe('golden\n');
  });

  it('leaves a guest without /etc/hostname or systemd alone and says the name was not set', () => {
    const root = guest({ 'etc/rc.conf': 'hostname="golden"\n' });
    const r = runGuestScript(shell, root, hostnameScript('lab-pc3'));
    expect([r.status, r.stderr]).toEqual([0, '']);
    expect(() => lstatSync(path.join(root, 'etc/hostname'))).toThrow();
    const [w] = warnings(r.stdout);
    expect(unappliedField(w, { params: ['hostname'], operations: [] })).toBe('params.hostname');
  });
});

describe('the hostname entry', () => {
  it("is the tool's --hostname followed by the script, as a file", () => {
    const spec = { operations: ['customize'], params: { hostname: 'lab-pc1' } } as any;
    const { argv, files } = buildArgv({ disks: [{ path: '/s/vm.qcow2', format: 'qcow2' }], spec, dryRun: false, filesDir: '/run/j', trace: false });
    const i = argv.indexOf('--hostname');
    expect(argv.slice(i, i + 4)).toEqual(['--hostname', 'lab-pc1', '--run', '/run/j/f0']);
    expect(files).toEqual([{ path: '/run/j/f0', content: hostnameScript('lab-pc1') }]);
  });

  it("no longer counts the tool's own warning as not applied: the script has the last word", () => {
    expect(unappliedField('hostname could not be set for this type of guest', { params: ['hostname'], operations: [] })).toBeUndefined();
  });
});
