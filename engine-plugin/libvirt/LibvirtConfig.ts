// The [libvirt] section of engine.conf (inventory = libvirt): which libvirt daemon holds
// the domains of a single-machine set-up, and how the adapter talks to it. Several hosts
// name their own daemon with `libvirt_uri` in their [host:ID] section (config.ts). Every
// key is documented in docs/libvirt.md; parseLibvirtSection() is the one parser.
import { KeySetter, parseSection } from '../configSection';

export interface LibvirtConfig {
  /** The daemon of every [host:ID] without its own libvirt_uri (and of a set-up with no host). */
  uri: string;
  /** Longest wait for one virsh command; a daemon that does not answer is then unavailable (503). */
  timeoutSec: number;
  /**
   * Seconds a domain's XML (disks, metadata) is reused by listings; 0: read at every
   * listing. States are never cached, and getVm/getTemplate always read the XML again.
   */
  cacheTtlSec: number;
}

export function defaultLibvirtConfig(): LibvirtConfig {
  return { uri: 'qemu:///system', timeoutSec: 30, cacheTtlSec: 10 };
}

type Setter = KeySetter<LibvirtConfig>;

/**
 * A libvirt connection URI: driver[+transport]://[user@][host][:port]/path[?query]
 * (https://libvirt.org/uri.html). Checked here so that a typo stops the start with the
 * key named, instead of every listing failing later.
 */
export function checkLibvirtUri(v: string, key: string, err: (msg: string) => never): string {
  if (!/^[a-z][a-z0-9]*(\+[a-z0-9]+)?:\/\/[^\s]*\/[^\s]*$/.test(v)) {
    err(`${key} must be a libvirt URI such as qemu:///system or qemu+ssh://root@kvm2/system, got ${JSON.stringify(v)}`);
  }
  return v;
}

const seconds = (v: string, err: (m: string) => never, key: string, min: number): number => {
  if (!/^\d+$/.test(v) || Number(v) < min) err(`${key} must be an integer of at least ${min}, got ${JSON.stringify(v)}`);
  return Number(v);
};

export const LIBVIRT_KEYS: Record<string, Setter> = {
  uri: (c, v, err) => { c.uri = checkLibvirtUri(v, 'uri', err); },
  timeout_sec: (c, v, err) => { c.timeoutSec = seconds(v, err, 'timeout_sec', 1); },
  cache_ttl_sec: (c, v, err) => { c.cacheTtlSec = seconds(v, err, 'cache_ttl_sec', 0); },
};

/** Parses the [libvirt] section; throws naming the file and key. */
export function parseLibvirtSection(values: Record<string, string>, file = 'engine.conf'): LibvirtConfig {
  return parseSection('libvirt', LIBVIRT_KEYS, defaultLibvirtConfig(), values, file);
}


/** A daemon the inventory reads, and the host whose agent serves its domains' disks. */
export interface LibvirtSource {
  uri: string;
  /** Undefined when no [host:ID] is configured (domains listed, no agent to work on them). */
  hostId?: string;
}

/**
 * One source per host: its libvirt_uri, else [libvirt] uri; with no host at all, [libvirt]
 * uri alone. Two hosts on one daemon would list every domain twice, under two hosts: refused.
 */
export function libvirtSources(hosts: readonly { id: string; libvirtUri?: string }[], config: LibvirtConfig): LibvirtSource[] {
  if (hosts.length === 0) return [{ uri: config.uri }];
  const byUri = new Map<string, string>();
  return hosts.map((h) => {
    const uri = h.libvirtUri ?? config.uri;
    const other = byUri.get(uri);
    if (other !== undefined) {
      throw new Error(`[host:${other}] and [host:${h.id}] both read libvirt at ${uri}: give each host its own libvirt_uri (docs/libvirt.md)`);
    }
    byUri.set(uri, h.id);
    return { uri, hostId: h.id };
  });
}

/** Fills defaults into a partial [libvirt] config (tests and startEngine callers). */
export function libvirtWithDefaults(partial: Partial<LibvirtConfig> = {}): LibvirtConfig {
  return { ...defaultLibvirtConfig(), ...partial };
}

export const LibvirtConfig = Symbol('LibvirtConfig');
