// IPv4 addresses as numbers: parsing of the dotted and CIDR forms the network
// customisation takes, and the subnet arithmetic its checks and its `ipFromIndex` form
// need. Strict on purpose: a leading zero ("010") is refused rather than read as octal by
// one tool and decimal by another. Pure (no Node API): bundled for the browser too.

export interface Cidr {
  /** The address as an unsigned 32-bit number. */
  ip: number;
  prefix: number;
}

const OCTET = /^(0|[1-9][0-9]{0,2})$/;

/** "192.0.2.1" -> its number, or undefined when it is not a dotted IPv4 address. */
export function parseIpv4(text: string): number | undefined {
  const parts = text.split('.');
  if (parts.length !== 4 || !parts.every((p) => OCTET.test(p) && Number(p) <= 255)) return undefined;
  return parts.reduce((acc, p) => acc * 256 + Number(p), 0);
}

/** "192.0.2.1/24" -> address and prefix (1-32), or undefined. */
export function parseCidr(text: string): Cidr | undefined {
  const m = /^([0-9.]+)\/(0|[1-9][0-9]?)$/.exec(text);
  if (!m) return undefined;
  const ip = parseIpv4(m[1]);
  const prefix = Number(m[2]);
  return ip === undefined || prefix < 1 || prefix > 32 ? undefined : { ip, prefix };
}

export function formatIpv4(ip: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(ip / 2 ** s) % 256).join('.');
}

export function formatCidr(c: Cidr): string {
  return `${formatIpv4(c.ip)}/${c.prefix}`;
}

/** The first address of the subnet. */
export function networkOf(c: Cidr): number {
  const size = 2 ** (32 - c.prefix);
  return c.ip - (c.ip % size);
}

/** The last address of the subnet (the broadcast address when prefix <= 30). */
export function broadcastOf(c: Cidr): number {
  return networkOf(c) + 2 ** (32 - c.prefix) - 1;
}

/** Whether `ip` lies in the subnet of `c`. */
export function inSubnet(c: Cidr, ip: number): boolean {
  return ip >= networkOf(c) && ip <= broadcastOf(c);
}

/**
 * Whether a host may hold this address: not the network or broadcast address of its
 * subnet (RFC 3021 /31 links and /32 host routes have neither).
 */
export function isHostAddress(c: Cidr): boolean {
  return c.prefix >= 31 || (c.ip !== networkOf(c) && c.ip !== broadcastOf(c));
}

/** The dotted netmask of a prefix ("255.255.255.0" for 24), for formats that want one (ifcfg, ifupdown). */
export function netmaskOf(prefix: number): string {
  return formatIpv4(2 ** 32 - 2 ** (32 - prefix));
}
