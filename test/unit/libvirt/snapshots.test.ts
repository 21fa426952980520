// The snapshot parts of the virsh wrapper (argv builders, virsh quoting, output parsers,
// error mapping) and the snapshot XML reader, on virsh 9.0's output as captured from a
// real libvirtd. Real snapshots: test/e2e/libvirt/libvirtSnapshots.test.ts.
import { CommandError } from '../../../shared/tools/exec';
import { parseSnapshotNames, snapshotArgv, snapshotCreateArgv, snapshotXmlBatch, splitSnapshotXml, virshError, virshQuote } from '../../../engine-plugin/libvirt/Virsh';
import { parseSnapshotXml } from '../../../engine-plugin/libvirt/snapshotXml';
import { snapshotBodySchema } from '../../../engine-plugin/api/snapshotRoutes';

const A = 'da5884e6-c6e1-4f37-ad4f-569ee7d098af';

/** snapshot-dumpxml of an internal snapshot of a shut-off domain (its <domain> shortened). */
const snapshotXml = (name: string, extra = '') => `<domainsnapshot>
  <name>${name}</name>
  <description>before the lab &amp; its &lt;reset&gt;</description>
  <state>shutoff</state>
  ${extra}<creationTime>1796523634</creationTime>
  <memory snapshot='no'/>
  <disks>
    <disk name='vda' snapshot='internal'/>
  </disks>
  <domain type='qemu'>
    <name>lab-1</name>
    <uuid>${A}</uuid>
    <devices><disk type='file' device='disk'><source file='/var/lib/libvirt/images/lab-1.qcow2'/></disk></devices>
  </domain>
</domainsnapshot>
`;

describe('virsh snapshot commands', () => {
  it.each([
    ['a name and a description, each as --option=VALUE', ['s1', '--hello; world'], ['snapshot-create-as', '--domain', A, '--name=s1', '--description=--hello; world', '--atomic']],
    ['no description', ['s1'], ['snapshot-create-as', '--domain', A, '--name=s1', '--atomic']],
    ['a name that looks like an option stays the value of --name', ['--halt'], ['snapshot-create-as', '--domain', A, '--name=--halt', '--atomic']],
  ] as const)('builds snapshot-create-as: %s', (_what, args, argv) => {
    expect(snapshotCreateArgv(A, ...(args as unknown as [string, string?]))).toEqual(argv);
  });

  it.each(['snapshot-revert', 'snapshot-delete', 'snapshot-dumpxml'] as const)('builds %s on a domain UUID and a snapshot name', (action) => {
    expect(snapshotArgv(action, A, 'a b')).toEqual([action, '--domain', A, '--snapshotname=a b']);
    expect(() => snapshotArgv(action, 'web-1', 's1')).toThrow('not a domain UUID');
    expect(() => snapshotCreateArgv('--all', 's1')).toThrow('not a domain UUID');
  });

  it.each([
    ['s1', "'s1'"],
    ['a b;c', "'a b;c'"],
    ["it's", "'it'\\''s'"],
    ['a"b\\c', "'a\"b\\c'"],
  ])('quotes %j for virsh\'s command-string parser as %s', (value, quoted) => {
    expect(virshQuote(value)).toBe(quoted);
  });

  it('batches snapshot-dumpxml with every name quoted (a name cannot end the command)', () => {
    expect(snapshotXmlBatch(A, ['s1', 'x ; snapshot-delete y'])).toBe(
      `snapshot-dumpxml --domain ${A} --snapshotname='s1' ; snapshot-dumpxml --domain ${A} --snapshotname='x ; snapshot-delete y'`,
    );
    expect(() => snapshotXmlBatch('x; undefine y', ['s1'])).toThrow('not a domain UUID');
  });

  it('parses snapshot-list --name (names as written, spaces kept) and splits a dumpxml batch', () => {
    expect(parseSnapshotNames('s1\n a b \ns2\n')).toEqual(['s1', ' a b ', 's2']);
    expect(parseSnapshotNames('')).toEqual([]);
    const out = `${snapshotXml('s1')}\n${snapshotXml('s2')}\n\n`;
    expect(splitSnapshotXml(out).map((d) => parseSnapshotXml(d).name)).toEqual(['s1', 's2']);
  });

  it.each([
    ["error: Domain snapshot not found: no domain snapshot with matching name 'nope'", 'not-found', 'SNAPSHOT_NOT_FOUND'],
    ['error: operation failed: domain moment s1 already exists', 'failed', 'VIRSH_FAILED'],
  ])('maps %j to %s %s', (stderr, kind, code) => {
    const e = virshError(new CommandError(['virsh'], 1, stderr), 'qemu:///system');
    expect(e).toMatchObject({ kind, code });
  });
});

describe('snapshot XML', () => {
  it('reads name, description, state, time and parent; not the domain copy', () => {
    expect(parseSnapshotXml(snapshotXml('s2', '<parent>\n    <name>s1</name>\n  </parent>\n  '))).toEqual({
      id: 's2',
      name: 's2',
      description: 'before the lab & its <reset>',
      date: new Date(1796523634 * 1000).toISOString(),
      vmState: 'shutoff',
      parent: 's1',
    });
  });

  it('keeps a name as written and answers an empty description when none was given', () => {
    const s = parseSnapshotXml("<domainsnapshot><name> a b;c&apos;d </name><state>running</state></domainsnapshot>");
    expect(s).toEqual({ id: " a b;c'd ", name: " a b;c'd ", description: '', vmState: 'running' });
  });

  it('refuses what is not a snapshot', () => {
    expect(() => parseSnapshotXml("<domain type='qemu'><name>x</name></domain>")).toThrow('not a libvirt snapshot XML');
  });
});

describe('POST /vms/{id}/snapshots body', () => {
  it.each([
    [{ name: 'before-lab' }, true],
    [{ name: 'v1.2_b', description: 'clean install; DHCP' }, true],
    [{ name: '-x' }, false],
    [{ name: 'a b' }, false],
    [{ name: '' }, false],
    [{ name: 'x'.repeat(65) }, false],
    [{ name: "it's" }, false],
    [{ name: 's1', description: 'two\nlines' }, false],
    [{ name: 's1', memory: true }, false],
  ])('%j valid: %s', (body, ok) => {
    expect(snapshotBodySchema.safeParse(body).success).toBe(ok);
  });
});
