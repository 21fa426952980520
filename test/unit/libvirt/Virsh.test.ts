// The virsh wrapper's pure parts (argv builder, output parsers, error mapping), on virsh
// 9.0's output as captured from a real libvirtd. The spawning itself is exercised against a
// real libvirtd in test/e2e/libvirt.
import { CommandError } from '../../../shared/tools/exec';
import { defineArgv, dumpXmlBatch, metadataArgv, parseDomainList, parseDomainStates, powerArgv, splitDomainXml, virshArgv, virshError } from '../../../engine-plugin/libvirt/Virsh';

const A = 'da5884e6-c6e1-4f37-ad4f-569ee7d098af';
const B = 'd6a82c60-adcb-48cc-98b7-b90e4ad667c2';

describe('virsh argv and output', () => {
  it('builds argv arrays: read-only, quiet, the URI as the value of -c', () => {
    expect(virshArgv('qemu:///system', ['dumpxml', '--', A], { readonly: true })).toEqual(['-r', '-q', '-c', 'qemu:///system', 'dumpxml', '--', A]);
    expect(virshArgv('qemu:///session', ['list'])).toEqual(['-q', '-c', 'qemu:///session', 'list']);
  });

  it.each([
    ['start', ['start', '--', A]],
    ['shutdown', ['shutdown', '--mode', 'acpi', '--', A]],
    ['destroy', ['destroy', '--', A]],
    ['undefine', ['undefine', '--', A]],
  ] as const)('builds the action command %s on a UUID after --, connected read-write', (action, command) => {
    expect(powerArgv(action, A)).toEqual(command);
    expect(virshArgv('qemu:///system', powerArgv(action, A))).toEqual(['-q', '-c', 'qemu:///system', ...command]);
    expect(() => powerArgv(action, '--all')).toThrow('not a domain UUID');
    expect(() => powerArgv(action, 'web-1')).toThrow('not a domain UUID');
  });

  it.each([
    ['set', '<clone template="x"/>', ['metadata', '--domain', A, '--uri', 'https://ns/1', '--key', 'ovirt-sysprep', '--config', '--set', '<clone template="x"/>']],
    ['remove', undefined, ['metadata', '--domain', A, '--uri', 'https://ns/1', '--key', 'ovirt-sysprep', '--config', '--remove']],
  ])('builds metadata %s on a UUID, the XML as the value of --set', (_, xml, argv) => {
    expect(metadataArgv(A, 'https://ns/1', 'ovirt-sysprep', xml)).toEqual(argv);
    expect(() => metadataArgv('--all', 'https://ns/1', 'ovirt-sysprep')).toThrow('not a domain UUID');
  });

  it('defines from a file, validated against the schema', () => {
    expect(defineArgv('/tmp/ovirt-sysprep-define-x/domain.xml')).toEqual(['define', '--validate', '--file', '/tmp/ovirt-sysprep-define-x/domain.xml']);
  });

  it('batches dumpxml of UUIDs only', () => {
    expect(dumpXmlBatch([A, B])).toBe(`dumpxml --domain ${A} ; dumpxml --domain ${B}`);
    expect(() => dumpXmlBatch([A, 'x; undefine y'])).toThrow('not a domain UUID');
  });

  it('parses list --uuid --name (names with spaces) and domstats --state', () => {
    expect(parseDomainList(`${A} web 01\n${B} db\n\n`)).toEqual([{ uuid: A, name: 'web 01' }, { uuid: B, name: 'db' }]);
    const states = parseDomainStates("Domain: 'web 01'\n  state.state=1\n  state.reason=1\n\nDomain: 'it''s'\n  state.state=5\n  state.reason=0\n\n");
    expect([...states]).toEqual([['web 01', 1], ["it''s", 5]]);
  });

  it('splits the documents of a dumpxml batch', () => {
    const doc = (n: string) => `<domain type='qemu'>\n  <name>${n}</name>\n</domain>\n`;
    expect(splitDomainXml(`${doc('a')}${doc('b')}\n`)).toEqual([doc('a').trim(), doc('b').trim()]);
    expect(splitDomainXml('\n')).toEqual([]);
  });

  it.each([
    ["error: failed to connect to the hypervisor\nerror: Failed to connect socket to '/var/run/libvirt/libvirt-sock': No such file or directory\n", 1, false, 'unavailable', 'LIBVIRT_UNREACHABLE'],
    ['timed out after 30000 ms\n', null, true, 'unavailable', 'LIBVIRT_UNREACHABLE'],
    ["error: failed to get domain 'web'\n", 1, false, 'not-found', 'LIBVIRT_DOMAIN_NOT_FOUND'],
    ['error: operation failed: something else\n', 1, false, 'failed', 'VIRSH_FAILED'],
    // virsh 9.0 (captured) starting a running domain / destroying a shut-off one.
    ['error: Domain is already active\n', 1, false, 'conflict', 'LIBVIRT_INVALID_STATE'],
    // virsh 9.0 (captured): libvirtd answered, but the domain's start needs virtlogd, which does not run.
    ["error: Failed to start domain 'web'\nerror: Failed to connect socket to '/run/libvirt/virtlogd-sock': Connection refused\n", 1, false, 'failed', 'VIRSH_FAILED'],
    ['error: Failed to destroy domain \'web\'\nerror: Requested operation is not valid: domain is not running\n', 1, false, 'conflict', 'LIBVIRT_INVALID_STATE'],
  ])('maps virsh stderr %j to a typed error', (stderr, code, timedOut, kind, errorCode) => {
    const err = virshError(new CommandError(['virsh'], code, stderr, timedOut), 'qemu:///system');
    expect(err).toMatchObject({ kind, code: errorCode, details: { uri: 'qemu:///system' } });
  });

  it('keeps virsh\'s own message', () => {
    expect(virshError(new CommandError(['virsh'], 1, 'error: operation failed: boom\n'), 'qemu:///system').message).toBe('virsh: operation failed: boom');
  });
});
