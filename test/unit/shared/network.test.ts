// The `network` customisation's value: the schema (every refusal names its field), the
// per-VM forms rendered to plain addresses, the check across the VMs of one request and
// the CLI's --nic. The guest script it becomes: networkScript.test.ts.
import { checkAcrossVms } from '../../../shared/catalog/acrossVms';
import { parseCidr, formatCidr, netmaskOf } from '../../../shared/catalog/ipv4';
import { parseNic } from '../../../shared/catalog/network';
import { paramsProblem, renderParams, SAMPLE_CONTEXT, validatePatternParams } from '../../../shared/catalog/patterns';
import { readYamlText, yamlText } from '../../../shared/catalog/yamlText';
import { InputError } from '../../../shared/errors';
import { validateParams } from '../../../shared/spec';
import { buildSysprepBody } from '../../../engine-plugin/cli/sysprepRequest';
import { flagForField } from '../../../engine-plugin/cli/sysprepFlags';
import { CUSTOMIZATION_BY_KEY } from '../../../shared/catalog/customizations';

const ok = { name: 'eth0', address: '192.0.2.101/24', gateway: '192.0.2.1', dns: ['192.0.2.53'], search: ['example.org'] };

function errorOf(fn: () => unknown): InputError {
  try {
    fn();
  } catch (err) {
    if (err instanceof InputError) return err;
    throw err;
  }
  throw new Error('no error thrown');
}

describe('ipv4', () => {
  it.each(['192.0.2.1/24', '10.0.0.0/8', '0.0.0.0/1', '255.255.255.255/32'])('reads %s back as it was', (c) => {
    expect(formatCidr(parseCidr(c)!)).toBe(c);
  });
  it.each(['192.0.2.1', '192.0.2.1/0', '192.0.2.1/33', '192.0.2/24', '192.0.2.256/24', '192.0.2.01/24', '192.0.2.1/024', ' 192.0.2.1/24', 'a.b.c.d/24'])('refuses %j', (c) => {
    expect(parseCidr(c)).toBeUndefined();
  });
  it('gives the netmask of a prefix', () => {
    expect([8, 24, 26, 32].map(netmaskOf)).toEqual(['255.0.0.0', '255.255.255.0', '255.255.255.192', '255.255.255.255']);
  });
});

describe('network schema', () => {
  it.each<[string, unknown]>([
    ['a full static interface', [ok]],
    ['DHCP', [{ name: 'eth0', dhcp: true }]],
    ['DHCP with its own DNS servers', [{ name: 'enp1s0', dhcp: true, dns: ['192.0.2.53', '198.51.100.53'], search: ['a.example', 'b.example'] }]],
    ['two interfaces', [ok, { name: 'eth1', address: '198.51.100.7/26' }]],
    ['a /31 point-to-point address (no network or broadcast address)', [{ name: 'eth0', address: '192.0.2.0/31', gateway: '192.0.2.1' }]],
    ['a /32 host address', [{ name: 'eth0', address: '192.0.2.9/32' }]],
    ['a VLAN name', [{ name: 'eth0.100', dhcp: true }]],
    ['the ipFromIndex form', [{ name: 'eth0', address: { ipFromIndex: '192.0.2.100/24' } }]],
    ['the list form', [{ name: 'eth0', address: { list: ['192.0.2.101/24', '192.0.2.102/24'] } }]],
  ])('accepts %s', (_what, value) => {
    expect(validateParams({ network: value })).toEqual({ network: value });
  });

  it.each<[string, unknown, string, RegExp]>([
    ['not a list', { name: 'eth0' }, 'params.network', /expected array/],
    ['no interface', [], 'params.network', /at least one interface/],
    ['17 interfaces', Array.from({ length: 17 }, (_, i) => ({ name: `eth${i}`, dhcp: true })), 'params.network', /more than 16/],
    ['an unknown key', [{ ...ok, mtu: 9000 }], 'params.network[0].mtu', /not a known field/],
    ['no name', [{ dhcp: true }], 'params.network[0].name', /expected string/],
    ['an empty name', [{ name: '', dhcp: true }], 'params.network[0].name', /not a valid interface name/],
    ['a name of 16 characters', [{ name: 'a123456789012345', dhcp: true }], 'params.network[0].name', /not a valid interface name/],
    ['a name with "/"', [{ name: 'eth/0', dhcp: true }], 'params.network[0].name', /not a valid interface name/],
    ['a name with a space', [{ name: 'eth 0', dhcp: true }], 'params.network[0].name', /not a valid interface name/],
    ['a name starting with "-"', [{ name: '-eth0', dhcp: true }], 'params.network[0].name', /not a valid interface name/],
    ['a name with a quote', [{ name: "eth'0", dhcp: true }], 'params.network[0].name', /not a valid interface name/],
    ['".."', [{ name: '..', dhcp: true }], 'params.network[0].name', /not a valid interface name/],
    ['neither dhcp nor address', [{ name: 'eth0' }], 'params.network[0].address', /required unless "dhcp" is true/],
    ['both dhcp and address', [{ name: 'eth0', dhcp: true, address: '192.0.2.5/24' }], 'params.network[0].address', /cannot be given with "dhcp"/],
    ['dhcp false', [{ name: 'eth0', dhcp: false, address: '192.0.2.5/24' }], 'params.network[0].dhcp', /must be true/],
    ['an address without prefix', [{ name: 'eth0', address: '192.0.2.5' }], 'params.network[0].address', /IPv4 address with its prefix length/],
    ['a prefix of 33', [{ name: 'eth0', address: '192.0.2.5/33' }], 'params.network[0].address', /IPv4 address with its prefix length/],
    ['an octet of 256', [{ name: 'eth0', address: '192.0.2.256/24' }], 'params.network[0].address', /IPv4 address with its prefix length/],
    ['an IPv6 address', [{ name: 'eth0', address: '2001:db8::5/64' }], 'params.network[0].address', /IPv4 address with its prefix length/],
    ['the network address', [{ name: 'eth0', address: '192.0.2.0/24' }], 'params.network[0].address', /network or the broadcast address/],
    ['the broadcast address', [{ name: 'eth0', address: '192.0.2.255/24' }], 'params.network[0].address', /network or the broadcast address/],
    ['a number as address', [{ name: 'eth0', address: 5 }], 'params.network[0].address', /must be "ADDRESS\/PREFIX"/],
    ['an unknown address form', [{ name: 'eth0', address: { fromIndex: '192.0.2.1/24' } }], 'params.network[0].address', /must be "ADDRESS\/PREFIX"/],
    ['a bad ipFromIndex base', [{ name: 'eth0', address: { ipFromIndex: '192.0.2.1' } }], 'params.network[0].address.ipFromIndex', /prefix length/],
    ['an empty list', [{ name: 'eth0', address: { list: [] } }], 'params.network[0].address.list', /at least one address/],
    ['a broadcast address in the list', [{ name: 'eth0', address: { list: ['192.0.2.5/24', '192.0.2.255/24'] } }], 'params.network[0].address.list[1]', /broadcast/],
    ['a gateway outside the subnet', [{ ...ok, gateway: '198.51.100.1' }], 'params.network[0].gateway', /not a host of the interface's subnet 192.0.2.101\/24/],
    ['the own address as gateway', [{ ...ok, gateway: '192.0.2.101' }], 'params.network[0].gateway', /the interface's own address/],
    ['the broadcast address as gateway', [{ ...ok, gateway: '192.0.2.255' }], 'params.network[0].gateway', /not a host of the interface's subnet/],
    ['a gateway with a prefix', [{ ...ok, gateway: '192.0.2.1/24' }], 'params.network[0].gateway', /not an IPv4 address/],
    ['a gateway with dhcp', [{ name: 'eth0', dhcp: true, gateway: '192.0.2.1' }], 'params.network[0].gateway', /DHCP sets the gateway/],
    ['a DNS server that is no IP', [{ ...ok, dns: ['192.0.2.53', 'ns1.example.org'] }], 'params.network[0].dns[1]', /not an IPv4 address/],
    ['an empty DNS list', [{ ...ok, dns: [] }], 'params.network[0].dns', /at least one server/],
    ['four DNS servers', [{ ...ok, dns: ['192.0.2.1', '192.0.2.2', '192.0.2.3', '192.0.2.4'] }], 'params.network[0].dns', /more than 3/],
    ['a bad search domain', [{ ...ok, search: ['example.org', 'bad_domain!'] }], 'params.network[0].search[1]', /not a valid DNS domain/],
    ['a search domain with a space', [{ ...ok, search: ['a b'] }], 'params.network[0].search[0]', /not a valid DNS domain/],
    ['two interfaces with one name', [ok, { name: 'eth0', dhcp: true }], 'params.network[1].name', /"eth0" is already configured by \[0\]/],
    ['two interfaces with one address', [ok, { name: 'eth1', address: '192.0.2.101/25' }], 'params.network[1].address', /192.0.2.101 is already the address of \[0\]/],
  ])('refuses %s naming its field', (_what, value, field, message) => {
    const err = errorOf(() => validateParams({ network: value }));
    expect(err.field).toBe(field);
    expect(err.message).toMatch(message);
  });
});

describe('network rendering per VM', () => {
  const ctx = (index: number, vm = `vm${index}`) => ({ vm, index });

  it('renders ${index} in an address string', () => {
    expect(renderParams({ network: [{ name: 'eth0', address: '192.0.2.${index}/24', gateway: '192.0.2.254' }] }, ctx(7)).network)
      .toEqual([{ name: 'eth0', address: '192.0.2.7/24', gateway: '192.0.2.254' }]);
  });

  it.each([
    [1, '192.0.2.101/24'],
    [30, '192.0.2.130/24'],
    [154, '192.0.2.254/24'],
  ])('ipFromIndex 192.0.2.100/24 gives VM %i the address %s', (index, address) => {
    expect(renderParams({ network: [{ name: 'eth0', address: { ipFromIndex: '192.0.2.100/24' } }] }, ctx(index)).network).toEqual([{ name: 'eth0', address }]);
  });

  it('carries ipFromIndex over the octet boundary inside a larger subnet', () => {
    expect(renderParams({ network: [{ name: 'eth0', address: { ipFromIndex: '10.1.0.250/16' } }] }, ctx(10)).network).toEqual([{ name: 'eth0', address: '10.1.1.4/16' }]);
  });

  it('refuses ipFromIndex past the subnet, naming the field and the VM', () => {
    const err = errorOf(() => renderParams({ network: [{ name: 'eth0', address: { ipFromIndex: '192.0.2.100/24' } }] }, ctx(155, 'room-vd155')));
    expect(err.field).toBe('params.network[0].address.ipFromIndex');
    expect(err.message).toMatch(/leaves the subnet \(its last host address is 192.0.2.254\/24\) for VM "room-vd155"/);
    expect(err.details).toMatchObject({ vm: 'room-vd155' });
  });

  it('takes the index-th address of a list and refuses an index past it', () => {
    const params = { network: [{ name: 'eth0', address: { list: ['192.0.2.11/24', '192.0.2.12/24'] } }] };
    expect(renderParams(params, ctx(2)).network).toEqual([{ name: 'eth0', address: '192.0.2.12/24' }]);
    const err = errorOf(() => renderParams(params, ctx(3)));
    expect(err.field).toBe('params.network[0].address.list');
    expect(err.message).toMatch(/holds 2 address\(es\) but VM "vm3" is number 3/);
  });

  it('names the VM when a rendered address is refused (a pattern valid for the sample, not for this VM)', () => {
    const params = { network: [{ name: 'eth0', address: '192.0.2.${index}/24' }] };
    expect(paramsProblem(params, [ctx(1), ctx(255, 'last')])?.message).toMatch(/params.network\[0\].address: .*broadcast.*\(rendered for VM "last"\)/);
  });

  it('checks a request with forms by rendering the sample VM (profiles, the first check)', () => {
    expect(validatePatternParams({ network: [{ name: 'eth0', address: { ipFromIndex: '192.0.2.100/24' }, gateway: '192.0.2.1' }] })).toBeDefined();
    expect(renderParams({ network: [{ name: 'eth0', address: { ipFromIndex: '192.0.2.100/24' }, gateway: '192.0.2.1' }] }, SAMPLE_CONTEXT).network)
      .toEqual([{ name: 'eth0', address: '192.0.2.101/24', gateway: '192.0.2.1' }]);
  });
});

describe('checkAcrossVms', () => {
  const vm = (name: string, address: string) => ({ vm: name, params: { network: [{ name: 'eth0', address }] } });

  it('accepts different addresses, DHCP and other params', () => {
    expect(() => checkAcrossVms([vm('a', '192.0.2.1/24'), vm('b', '192.0.2.2/24'), { vm: 'c', params: { network: [{ name: 'eth0', dhcp: true }], hostname: 'x' } }])).not.toThrow();
  });

  it('refuses one static address on two VMs, naming the field and both VMs (any prefix)', () => {
    const err = errorOf(() => checkAcrossVms([vm('room-vd1', '192.0.2.101/24'), vm('room-vd2', '192.0.2.102/24'), vm('room-vd3', '192.0.2.101/25')]));
    expect(err.field).toBe('params.network[0].address');
    expect(err.code).toBe('DUPLICATE_ACROSS_VMS');
    expect(err.message).toMatch(/address 192.0.2.101 is given to both VM "room-vd1" \(params.network\[0\].address\) and VM "room-vd3"/);
    expect(err.details).toMatchObject({ vms: ['room-vd1', 'room-vd3'] });
  });

  it('refuses a list form that runs out or repeats, once rendered per VM', () => {
    const params = { network: [{ name: 'eth0', address: { list: ['192.0.2.11/24', '192.0.2.11/24'] } }] };
    const rendered = ['a', 'b'].map((name, i) => ({ vm: name, params: renderParams(params, { vm: name, index: i + 1 }) }));
    expect(() => checkAcrossVms(rendered)).toThrow(/address 192.0.2.11 is given to both VM "a"/);
  });
});

describe('--nic', () => {
  it.each<[string, unknown]>([
    ['eth0:dhcp', { name: 'eth0', dhcp: true }],
    ['eth0:dhcp,dns=192.0.2.53', { name: 'eth0', dhcp: true, dns: ['192.0.2.53'] }],
    ['eth0:192.0.2.${index}/24,gw=192.0.2.1', { name: 'eth0', address: '192.0.2.${index}/24', gateway: '192.0.2.1' }],
    ['ens3:ipFromIndex=192.0.2.100/24,gw=192.0.2.1,dns=192.0.2.53+192.0.2.54,search=a.example+b.example',
      { name: 'ens3', address: { ipFromIndex: '192.0.2.100/24' }, gateway: '192.0.2.1', dns: ['192.0.2.53', '192.0.2.54'], search: ['a.example', 'b.example'] }],
    ['eth1:list=10.0.0.5/8+10.0.0.6/8', { name: 'eth1', address: { list: ['10.0.0.5/8', '10.0.0.6/8'] } }],
  ])('reads %s', (spec, nic) => {
    expect(parseNic(spec)).toEqual(nic);
  });

  it.each([
    ['eth0', /expects NAME:dhcp or NAME:ADDRESS/],
    [':dhcp', /expects NAME:dhcp or NAME:ADDRESS/],
    ['eth0:', /names no address/],
    ['eth0:dhcp,mtu=9000', /unknown option "mtu=9000"/],
  ])('refuses %j naming --nic', (spec, message) => {
    const err = errorOf(() => parseNic(spec));
    expect(err.field).toBe('--nic');
    expect(err.message).toMatch(message);
  });

  it('is a repeatable flag of the sysprep commands that fills params.network', () => {
    expect(CUSTOMIZATION_BY_KEY.get('network')!.cli.flags[0]).toMatchObject({ option: '--nic <spec>', repeatable: true });
    const body = buildSysprepBody({ nic: ['eth0:ipFromIndex=192.0.2.100/24,gw=192.0.2.1', 'eth1:dhcp'] }, { read: () => '' }).body;
    expect(body.params).toEqual({ network: [{ name: 'eth0', address: { ipFromIndex: '192.0.2.100/24' }, gateway: '192.0.2.1' }, { name: 'eth1', dhcp: true }] });
    // The engine's 400 on a part of the value names the option to fix.
    expect(flagForField('params.network[1].gateway')).toBe('--nic');
  });
});

describe('the yaml widget\'s text', () => {
  it('reads YAML and JSON to the same value, and writes it back as YAML', () => {
    const value = [{ name: 'eth0', address: { ipFromIndex: '192.0.2.100/24' }, gateway: '192.0.2.1' }];
    expect(readYamlText('- name: eth0\n  address: { ipFromIndex: 192.0.2.100/24 }\n  gateway: 192.0.2.1\n')).toEqual({ value });
    expect(readYamlText(JSON.stringify(value))).toEqual({ value });
    expect(readYamlText(yamlText(value))).toEqual({ value });
    expect(yamlText(undefined)).toBe('');
  });

  it.each(['- name: eth0\n  address: [unclosed\n', 'a: 1\na: 2\n', '{"name": '])('says why %j is not YAML, with the parser\'s message', (text) => {
    expect(readYamlText(text)).toEqual({ problem: expect.stringMatching(/^is not valid YAML or JSON: \S/) });
  });
});
