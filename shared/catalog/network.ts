// The `network` customisation's value: the guest's interfaces, each DHCP or a static IPv4
// address with gateway, DNS servers and search domains. Its schema (every refusal names
// its field, e.g. `params.network[0].gateway`), its per-VM forms (`ipFromIndex`, `list`)
// rendered to plain strings, the addresses that must differ between the VMs of one
// request, and the CLI's `--nic`. The guest script it becomes is guest/networkScript.ts.
import { z } from 'zod';
import { InputError } from '../errors';
import type { CliBinding } from './cliBinding';
import type { RenderContext, UniqueValue } from './Customization';
import { formatCidr, inSubnet, isHostAddress, parseCidr, parseIpv4, broadcastOf, Cidr } from './ipv4';
import { isHostname } from './values';

/** At most this many interfaces per guest, addresses in one `list` form. */
export const MAX_INTERFACES = 16;
const MAX_LIST = 4096;

/**
 * Kernel interface names (dev_valid_name: 1-15 characters, no "/", ":" or space), kept to
 * the characters that are safe unquoted in every file format written (ifcfg, ifupdown,
 * netplan YAML, keyfile): letters, digits, "_", ".", "@", "-", not starting with "." or "-".
 */
const IFNAME = /^[A-Za-z0-9_@][A-Za-z0-9_.@-]{0,14}$/;
export const interfaceName = z
  .string()
  .regex(IFNAME, 'is not a valid interface name (1-15 characters: letters, digits, "_", ".", "@", "-"; not starting with "." or "-"), e.g. "eth0"');

const CIDR_MSG = 'is not an IPv4 address with its prefix length, e.g. "192.0.2.10/24"';
const cidr = z.string().refine((s) => parseCidr(s) !== undefined, CIDR_MSG);
// (Not `abort`: a union reports an aborted option as no match at all; a bad address passes this one.)
const hostCidr = cidr.refine((s) => {
  const c = parseCidr(s);
  return !c || isHostAddress(c);
}, 'is the network or the broadcast address of its subnet, which no host may hold');
const ipv4 = (what: string) => z.string().refine((s) => parseIpv4(s) !== undefined, `is not an IPv4 address such as "${what}"`);

/** `{ "ipFromIndex": "192.0.2.100/24" }`: the VM of index N gets 192.0.2.(100+N)/24. */
const fromIndex = z.object({ ipFromIndex: cidr }).strict();
/** `{ "list": [...] }`: the VM of index N gets the N-th address (1-based). */
const fromList = z.object({ list: z.array(hostCidr).min(1, 'must hold at least one address').max(MAX_LIST) }).strict();
export const address = z.union([hostCidr, fromIndex, fromList], {
  error: 'must be "ADDRESS/PREFIX" (patterns allowed), {"ipFromIndex": "BASE/PREFIX"} or {"list": ["ADDRESS/PREFIX", ...]}',
});

const searchDomain = z.string().refine(isHostname, 'is not a valid DNS domain such as "example.org"');

export const networkInterface = z
  .object({
    name: interfaceName,
    dhcp: z.literal(true, { error: 'must be true (leave it out for a static address)' }).optional(),
    address: address.optional(),
    gateway: ipv4('192.0.2.1').optional(),
    dns: z.array(ipv4('192.0.2.53')).min(1, 'must name at least one server').max(3, 'holds more than 3 servers (the most resolv.conf uses)').optional(),
    search: z.array(searchDomain).min(1, 'must name at least one domain').max(6, 'holds more than 6 domains (the most resolv.conf uses)').optional(),
  })
  .strict()
  .superRefine((nic, ctx) => {
    if (nic.dhcp && nic.address !== undefined) ctx.addIssue({ code: 'custom', path: ['address'], message: 'cannot be given with "dhcp": true (choose one)' });
    if (!nic.dhcp && nic.address === undefined) ctx.addIssue({ code: 'custom', path: ['address'], message: 'is required unless "dhcp" is true' });
    if (nic.gateway === undefined) return;
    if (nic.dhcp) return ctx.addIssue({ code: 'custom', path: ['gateway'], message: 'cannot be given with "dhcp": true (DHCP sets the gateway)' });
    const own = typeof nic.address === 'string' ? parseCidr(nic.address) : undefined;
    const gw = parseIpv4(nic.gateway);
    if (!own || gw === undefined) return;
    if (gw === own.ip) ctx.addIssue({ code: 'custom', path: ['gateway'], message: `is the interface's own address ${nic.address}` });
    else if (!inSubnet(own, gw) || !isHostAddress({ ip: gw, prefix: own.prefix })) ctx.addIssue({ code: 'custom', path: ['gateway'], message: `is not a host of the interface's subnet ${nic.address}` });
  });
export type NetworkInterface = z.infer<typeof networkInterface>;
/** An interface as rendered for one VM: its address a plain string. */
export type RenderedInterface = Omit<NetworkInterface, 'address'> & { address?: string };

const ipOf = (a: string) => a.split('/')[0];

export const networkSchema = z
  .array(networkInterface)
  .min(1, 'must name at least one interface')
  .max(MAX_INTERFACES, `holds more than ${MAX_INTERFACES} interfaces`)
  .superRefine((nics, ctx) => {
    const names = new Map<string, number>();
    const addresses = new Map<string, number>();
    nics.forEach((nic, i) => {
      const prev = names.get(nic.name);
      if (prev !== undefined) ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `"${nic.name}" is already configured by [${prev}]` });
      names.set(nic.name, i);
      if (typeof nic.address !== 'string') return;
      const ip = ipOf(nic.address);
      const other = addresses.get(ip);
      if (other !== undefined) ctx.addIssue({ code: 'custom', path: [i, 'address'], message: `${ip} is already the address of [${other}]` });
      addresses.set(ip, i);
    });
  });

/**
 * The VM's own address of a per-VM form; a plain string stays as it is (its `${...}`
 * patterns were rendered before). Shapes it does not know are left for the schema to refuse.
 */
function renderAddress(a: unknown, ctx: RenderContext, field: string): unknown {
  if (!a || typeof a !== 'object') return a;
  if ('ipFromIndex' in a && typeof a.ipFromIndex === 'string' && Object.keys(a).length === 1) {
    const base = parseCidr(a.ipFromIndex);
    if (!base) return a;
    const out: Cidr = { ip: base.ip + ctx.index, prefix: base.prefix };
    // The broadcast address (prefix <= 30) is no host's: the last usable one is before it.
    const last = broadcastOf(base) - (base.prefix <= 30 ? 1 : 0);
    if (out.ip > last) {
      throw new InputError(`${field}.ipFromIndex`, `${a.ipFromIndex} + ${ctx.index} leaves the subnet (its last host address is ${formatCidr({ ip: last, prefix: base.prefix })}) for VM "${ctx.vm}"`, 'INVALID_ARGUMENT', { vm: ctx.vm });
    }
    return formatCidr(out);
  }
  if ('list' in a && Array.isArray(a.list) && Object.keys(a).length === 1) {
    if (ctx.index > a.list.length) {
      throw new InputError(`${field}.list`, `holds ${a.list.length} address(es) but VM "${ctx.vm}" is number ${ctx.index}`, 'INVALID_ARGUMENT', { vm: ctx.vm });
    }
    return a.list[ctx.index - 1];
  }
  return a;
}

/** The catalog entry's render hook: each interface's address form becomes the VM's address. */
export function renderNetwork(value: unknown, ctx: RenderContext, field: string): unknown {
  if (!Array.isArray(value)) return value;
  return value.map((nic, i) =>
    nic && typeof nic === 'object' && 'address' in nic ? { ...nic, address: renderAddress(nic.address, ctx, `${field}[${i}].address`) } : nic,
  );
}

/** Static addresses: no two VMs of one request may hold the same. */
export function networkUniqueValues(nics: NetworkInterface[]): UniqueValue[] {
  return nics.flatMap((nic, i) => (typeof nic.address === 'string' ? [{ field: `[${i}].address`, key: `address ${ipOf(nic.address)}` }] : []));
}

/**
 * `--nic NAME:dhcp[,OPTS]` or `--nic NAME:ADDR[,OPTS]`, ADDR one of `A.B.C.D/P` (patterns
 * allowed), `ipFromIndex=BASE/P`, `list=A/P+B/P+...`; OPTS `gw=IP`, `dns=IP+IP`,
 * `search=D+D`. Repeatable, one interface each. The values are checked by the schema.
 */
export function parseNic(raw: string): NetworkInterface {
  const flag = '--nic';
  const colon = raw.indexOf(':');
  if (colon <= 0) throw new InputError(flag, `expects NAME:dhcp or NAME:ADDRESS/PREFIX[,gw=IP][,dns=IP+IP][,search=DOMAIN+DOMAIN], got ${JSON.stringify(raw)}`);
  const [first, ...opts] = raw.slice(colon + 1).split(',');
  const nic: NetworkInterface = { name: raw.slice(0, colon) };
  if (first === 'dhcp') nic.dhcp = true;
  else if (first.startsWith('ipFromIndex=')) nic.address = { ipFromIndex: first.slice('ipFromIndex='.length) };
  else if (first.startsWith('list=')) nic.address = { list: first.slice('list='.length).split('+') };
  else if (first) nic.address = first;
  else throw new InputError(flag, `${JSON.stringify(raw)} names no address: give NAME:dhcp or NAME:ADDRESS/PREFIX`);
  for (const opt of opts) {
    const m = /^(gw|dns|search)=(.+)$/.exec(opt);
    if (!m) throw new InputError(flag, `unknown option ${JSON.stringify(opt)} in ${JSON.stringify(raw)} (known: gw=IP, dns=IP+IP, search=DOMAIN+DOMAIN)`);
    if (m[1] === 'gw') nic.gateway = m[2];
    else if (m[1] === 'dns') nic.dns = m[2].split('+');
    else nic.search = m[2].split('+');
  }
  return nic;
}

export const nicCli: CliBinding<NetworkInterface[]> = {
  flags: [{
    option: '--nic <spec>',
    repeatable: true,
    help: 'Configure a guest interface: NAME:dhcp or NAME:ADDRESS/PREFIX (or ipFromIndex=BASE/PREFIX, list=A/P+B/P), then ,gw=IP ,dns=IP+IP ,search=DOMAIN+DOMAIN (repeatable, one interface each)',
  }],
  parse: (g) => {
    const raw = g.get('--nic');
    const specs = Array.isArray(raw) ? raw : typeof raw === 'string' ? [raw] : [];
    return specs.length ? specs.map(parseNic) : undefined;
  },
};

/** The value after rendering: every address a plain string (a form here is a caller's mistake). */
export function renderedInterfaces(nics: NetworkInterface[]): RenderedInterface[] {
  return nics.map((nic, i) => {
    if (nic.address !== undefined && typeof nic.address !== 'string') {
      throw new InputError(`params.network[${i}].address`, 'must be rendered for one VM before it runs (a plain "ADDRESS/PREFIX")');
    }
    return nic as RenderedInterface;
  });
}
