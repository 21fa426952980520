// What the libvirt adapter reads from libvirt, in the inventory port's terms: a domain's
// state number (virDomainState) as a VmStatus, and a domain's XML as its disks and our
// metadata (template mark, pool membership, the template it was cloned from). Pure
// functions over virsh's output, so each mapping has a table test (docs/libvirt.md has
// the same tables for the administrator).
import type { GuestOs } from '../../shared/guestOs';
import { LIBOSINFO_NS, osOfLibosinfoId } from './libosinfo';
import { XMLParser } from 'fast-xml-parser';
import { DISK_FORMATS_TEXT, isDiskFormat } from '../../shared/diskFormats';
import type { DiskRef, VmStatus } from '../inventory/Inventory';

/**
 * libvirt's virDomainState (include/libvirt/libvirt-domain.h) -> VmStatus. Only "shut off"
 * is down: a paused, suspended (pmsuspended) or crashed-and-preserved domain still has its
 * QEMU process, which holds its disks open.
 */
export const DOMAIN_STATES: Record<number, { name: string; status: VmStatus }> = {
  0: { name: 'no state', status: 'unknown' },
  1: { name: 'running', status: 'up' },
  2: { name: 'blocked', status: 'up' },
  3: { name: 'paused', status: 'up' },
  4: { name: 'in shutdown', status: 'powering_down' },
  5: { name: 'shut off', status: 'down' },
  6: { name: 'crashed', status: 'up' },
  7: { name: 'pmsuspended', status: 'up' },
};

/** The VM status of a virDomainState number; unknown (never down) for anything else. */
export function vmStatusOf(state: number | undefined): VmStatus {
  return (state !== undefined && DOMAIN_STATES[state]?.status) || 'unknown';
}

/**
 * Our XML namespaces in a domain's <metadata> (set with `virsh metadata DOMAIN --uri NS
 * --key ovirt-sysprep --set XML`). They name, never locate: nothing is fetched from them.
 * The prefix is whatever the writer chose; only the namespace is compared.
 */
export const METADATA_NS = {
  /** `<template/>`: the domain is a template, not a VM. */
  template: 'https://ovirt-sysprep.example/xmlns/template/1',
  /** `<pool name="web" index="3"/>`: the domain is VM number `index` of pool `name`. */
  pool: 'https://ovirt-sysprep.example/xmlns/pool/1',
  /**
   * `<clone template="UUID"><overlay file="PATH"/>...</clone>`: the domain was cloned from
   * that template domain; each overlay is a file the product made for it (a delete removes
   * those, and only those, docs/libvirt.md).
   */
  clone: 'https://ovirt-sysprep.example/xmlns/clone/1',
  /**
   * `<hold/>`: an imported domain whose automatic reset is to come (image_locked). A clone
   * is held by its overlays' `pending` attribute instead (heldOverlays.ts).
   */
  hold: 'https://ovirt-sysprep.example/xmlns/hold/1',
  /**
   * `<marks><mark key="room" value="lab1"/>...</marks>`: the product's labels on the VM
   * (VmCloning's `marks`: a room marks the VMs it created), read back on Vm.marks.
   */
  marks: 'https://ovirt-sysprep.example/xmlns/marks/1',
  /** `<os type="windows"/>`: the guest OS declared on import (POST /vms `os`). */
  os: 'https://ovirt-sysprep.example/xmlns/os/1',
} as const;

export interface DomainInfo {
  uuid: string;
  /** The guest OS the domain declares (libosinfo.ts). */
  os?: GuestOs;
  name: string;
  /** Disks (device "disk" or "lun"), in XML order; cdrom and floppy drives are left out. */
  disks: DiskRef[];
  template: boolean;
  pool?: { name: string; index?: number };
  /** UUID of the template domain it was cloned from. */
  cloneOf?: string;
  /** The files our clone metadata says the product made for this domain (absent: none). */
  overlays?: string[];
  /**
   * Held clone overlays, final path -> staging path (`<overlay file=FINAL pending=STAGING/>`):
   * the domain's disk is the final path, which does not exist until the reset ends.
   */
  pending?: Record<string, string>;
  /** Held until its automatic reset ends: pending overlays, or our hold mark (an import). */
  held?: boolean;
  /** Our marks on the domain (key -> value); absent: none. */
  marks?: Record<string, string>;
}

type Node = Record<string, unknown>;

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@',
  parseTagValue: false,
  parseAttributeValue: false,
  isArray: (_name, jpath) => jpath === 'domain.devices.disk',
});

const asNode = (v: unknown): Node => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Node) : {});
const attr = (n: Node, name: string): string | undefined => (typeof n[`@${name}`] === 'string' ? (n[`@${name}`] as string) : undefined);
const text = (v: unknown): string => (typeof v === 'string' ? v : typeof asNode(v)['#text'] === 'string' ? (asNode(v)['#text'] as string) : '').trim();

// libvirt's default for a file disk without a driver type is raw; libvirt and qemu name the formats alike.

/** A <disk> of the domain XML as a DiskRef; undefined for a cdrom or floppy drive. */
export function diskOf(disk: Node): DiskRef | undefined {
  const device = attr(disk, 'device') ?? 'disk';
  if (device === 'cdrom' || device === 'floppy') return undefined;
  const type = attr(disk, 'type') ?? 'file';
  const source = asNode(disk.source);
  const format = attr(asNode(disk.driver), 'type') ?? 'raw';
  const target = attr(asNode(disk.target), 'dev') ?? '?';
  if (type === 'file') {
    const file = attr(source, 'file');
    if (!file) return { path: `(${target}: no source file)`, format, unsupported: 'the disk has no source file' };
    if (!isDiskFormat(format)) return { path: file, format, unsupported: `format "${format}": the disks worked on are ${DISK_FORMATS_TEXT}` };
    if (device === 'lun') return { path: file, format, unsupported: 'a "lun" device passes SCSI commands to the host: only plain disks are worked on' };
    return { path: file, format };
  }
  if (type === 'block') {
    return { path: attr(source, 'dev') ?? `(${target})`, format, unsupported: 'a block device (type "block"): the host agents work on image files in their storage roots' };
  }
  if (type === 'network') {
    const protocol = attr(source, 'protocol') ?? 'network';
    const host = attr(asNode(source.host), 'name');
    return { path: `${protocol}://${host ?? ''}/${attr(source, 'name') ?? ''}`, format, unsupported: `a network disk (protocol "${protocol}"): the host agents work on image files in their storage roots` };
  }
  if (type === 'volume') {
    return { path: `${attr(source, 'pool') ?? '?'}/${attr(source, 'volume') ?? '?'}`, format, unsupported: 'a storage-pool volume (type "volume"): give the domain the image file itself (type "file")' };
  }
  return { path: `(${target})`, format, unsupported: `a disk of type "${type}": only image files (type "file") are worked on` };
}

/** Our elements in <metadata>, by namespace, whatever their prefix. */
function ourMetadata(metadata: Node): Map<string, Node> {
  const found = new Map<string, Node>();
  for (const [key, value] of Object.entries(metadata)) {
    if (key.startsWith('@') || key === '#text') continue;
    const prefix = key.includes(':') ? key.slice(0, key.indexOf(':')) : '';
    for (const el of Array.isArray(value) ? value : [value]) {
      const node = asNode(el);
      const ns = attr(node, prefix ? `xmlns:${prefix}` : 'xmlns');
      if (ns) found.set(ns, node);
    }
  }
  return found;
}

/** The child elements `name` of one of our elements: libvirt writes them with the root's prefix, so matched by local name. */
function childrenNamed(el: Node, name: string): Node[] {
  return Object.entries(el)
    .filter(([k]) => k === name || k.endsWith(`:${name}`))
    .flatMap(([, v]) => (Array.isArray(v) ? v : [v]))
    .map(asNode);
}

/** A domain's XML (virsh dumpxml) as the adapter uses it. */
export function parseDomainXml(xml: string): DomainInfo {
  const domain = asNode(parser.parse(xml).domain);
  const uuid = text(domain.uuid);
  const name = text(domain.name);
  if (!uuid || !name) throw new Error('not a libvirt domain XML (no <name> or <uuid>)');
  const devices = asNode(domain.devices);
  const disks = ((devices.disk as unknown[] | undefined) ?? []).map((d) => diskOf(asNode(d))).filter((d): d is DiskRef => d !== undefined);
  const meta = ourMetadata(asNode(domain.metadata));
  const info: DomainInfo = { uuid, name, disks, template: meta.has(METADATA_NS.template) };
  const pool = meta.get(METADATA_NS.pool);
  const poolName = pool && attr(pool, 'name')?.trim();
  if (poolName) {
    const index = attr(pool, 'index');
    info.pool = { name: poolName, ...(index !== undefined && /^\d{1,9}$/.test(index) && { index: Number(index) }) };
  }
  const clone = meta.get(METADATA_NS.clone) ?? {};
  const cloneOf = attr(clone, 'template');
  if (cloneOf) info.cloneOf = cloneOf;
  const overlayNodes = childrenNamed(clone, 'overlay');
  const overlays = overlayNodes.map((o) => attr(o, 'file')).filter((f): f is string => Boolean(f));
  if (overlays.length) info.overlays = overlays;
  const pending: Record<string, string> = {};
  for (const o of overlayNodes) {
    const file = attr(o, 'file');
    const staging = attr(o, 'pending');
    if (file && staging) pending[file] = staging;
  }
  if (Object.keys(pending).length) info.pending = pending;
  if (info.pending || meta.has(METADATA_NS.hold)) info.held = true;
  const marks: Record<string, string> = {};
  for (const m of childrenNamed(meta.get(METADATA_NS.marks) ?? {}, 'mark')) {
    const key = attr(m, 'key');
    const value = attr(m, 'value');
    if (key && value !== undefined) marks[key] = value;
  }
  if (Object.keys(marks).length) info.marks = marks;
  const declared = attr(meta.get(METADATA_NS.os) ?? {}, 'type');
  const libosinfoOs = childrenNamed(meta.get(LIBOSINFO_NS) ?? {}, 'os')[0];
  const os: GuestOs | undefined = declared === 'windows' || declared === 'linux' ? { type: declared } : osOfLibosinfoId(libosinfoOs && attr(libosinfoOs, 'id'));
  if (os) info.os = os;
  return info;
}

/**
 * The disks a job works on: a held clone's disk is its staging file (the final path
 * the domain names does not exist yet, so that nobody can start it before its reset).
 */
export function workDisks(info: DomainInfo): DiskRef[] {
  const pending = info.pending;
  return pending ? info.disks.map((d) => (pending[d.path] ? { ...d, path: pending[d.path] } : d)) : info.disks;
}

/** The VM status of a domain: libvirt's state, except that a held shut-off domain is image_locked. */
export function domainStatus(info: DomainInfo, state: number | undefined): VmStatus {
  const status = vmStatusOf(state);
  return info.held && status === 'down' ? 'image_locked' : status;
}
