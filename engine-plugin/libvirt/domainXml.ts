// The domain XML the libvirt actions define, as pure functions (table-tested):
//   * cloneDomainXml: a template domain's definition (`virsh dumpxml --inactive`) turned
//     into its clone's: new name and UUID; every <mac> of an <interface> removed (libvirt
//     generates a new one at define); the template's <nvram> removed (libvirt makes the
//     clone its own UEFI variables from the firmware's template, instead of sharing the
//     template's file); our metadata replaced (the template mark and any marks go; clone,
//     pool and the clone's own marks come); each disk's source pointed at its overlay
//     (qcow2, no <backingStore>: libvirt reads the new chain from the image). Everything else (devices, CPU, memory)
//     is the template's, element order kept.
//   * newDomainXml: a minimal domain for an import or a template registration: type qemu,
//     the given disks as virtio disks, NO network interface (a NIC is the administrator's
//     to add, on a network of theirs).
//   * metadataXml: one of our metadata elements (libvirtModel.ts METADATA_NS), prefixed
//     for a definition, or bare for `virsh metadata --set`, which adds the namespace.
// Values are escaped here; nothing from a request is ever parsed as XML.
import { XMLBuilder, XMLParser } from 'fast-xml-parser';
import { METADATA_NS } from './libvirtModel';

/** The prefix of our metadata elements (`virsh metadata --key`): the namespace is what counts. */
export const METADATA_KEY = 'ovirt-sysprep';

type Kind = keyof typeof METADATA_NS;
type Attrs = Record<string, string | number | undefined>;

const escape = (v: string): string => v.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
const attrs = (a: Attrs): string =>
  Object.entries(a)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => ` ${k}="${escape(String(v))}"`)
    .join('');

/**
 * Our metadata element of `kind` with attributes and child elements (name + attributes).
 * `prefixed`: with our prefix and namespace, as inside a definition's <metadata>; else
 * bare, as `virsh metadata --uri NS --key ovirt-sysprep --set` takes it.
 */
export function metadataXml(kind: Kind, a: Attrs = {}, children: { name: string; attrs: Attrs }[] = [], prefixed = false): string {
  const p = prefixed ? `${METADATA_KEY}:` : '';
  const ns = prefixed ? ` xmlns:${METADATA_KEY}="${METADATA_NS[kind]}"` : '';
  const inner = children.map((c) => `<${p}${c.name}${attrs(c.attrs)}/>`).join('');
  return inner ? `<${p}${kind}${ns}${attrs(a)}>${inner}</${p}${kind}>` : `<${p}${kind}${ns}${attrs(a)}/>`;
}

/** The marks element of a definition: one `<mark key value/>` per mark (values escaped by metadataXml). */
export function marksMetadataXml(marks: Record<string, string>): string {
  return metadataXml('marks', {}, Object.entries(marks).map(([key, value]) => ({ name: 'mark', attrs: { key, value } })), true);
}

/** A clone's overlay: its final path, and its staging path while the clone is held. */
export interface OverlayRecord {
  file: string;
  pending?: string;
}

/** The clone metadata: the template it came from, and the overlays the product made for it. */
export function cloneMetadataXml(templateUuid: string, overlays: OverlayRecord[], prefixed = false): string {
  return metadataXml('clone', { template: templateUuid }, overlays.map((o) => ({ name: 'overlay', attrs: { file: o.file, pending: o.pending } })), prefixed);
}

type Tree = Record<string, unknown>[];
const OPTIONS = { ignoreAttributes: false, attributeNamePrefix: '@', preserveOrder: true, parseTagValue: false, parseAttributeValue: false, trimValues: false } as const;
const parser = new XMLParser(OPTIONS);
const builder = new XMLBuilder({ ...OPTIONS, suppressEmptyNode: true });

const tagOf = (n: Record<string, unknown>): string | undefined => Object.keys(n).find((k) => k !== ':@' && k !== '#text');
const childrenOf = (n: Record<string, unknown>): Tree => n[tagOf(n)!] as Tree;
const attrsOf = (n: Record<string, unknown>): Record<string, string> => {
  n[':@'] ??= {};
  return n[':@'] as Record<string, string>;
};
const OUR_NAMESPACES = new Set<string>(Object.values(METADATA_NS));

/** Whether a <metadata> child is in one of our namespaces (whatever its prefix). */
function isOurs(n: Record<string, unknown>): boolean {
  const tag = tagOf(n);
  if (!tag) return false;
  const prefix = tag.includes(':') ? tag.slice(0, tag.indexOf(':')) : '';
  return OUR_NAMESPACES.has(attrsOf(n)[prefix ? `@xmlns:${prefix}` : '@xmlns']);
}

export interface CloneXmlInput {
  name: string;
  uuid: string;
  /** The clone's disk file per template disk (device "disk"/"lun", XML order). */
  disks: string[];
  /** Our metadata elements (metadataXml(..., prefixed = true)). */
  metadata: string[];
}

/** The clone's definition from the template domain's inactive XML (header comment). */
export function cloneDomainXml(templateXml: string, input: CloneXmlInput): string {
  const doc = parser.parse(templateXml) as Tree;
  const domain = doc.find((n) => tagOf(n) === 'domain');
  if (!domain) throw new Error('not a libvirt domain XML (no <domain>)');
  delete attrsOf(domain)['@id']; // a running domain's number: never part of a definition
  let children = childrenOf(domain).filter((n) => tagOf(n) !== 'uuid');
  const name = children.find((n) => tagOf(n) === 'name');
  if (!name) throw new Error('not a libvirt domain XML (no <name>)');
  name.name = [{ '#text': input.name }];
  const uuidAt = children.indexOf(name) + 1;
  children.splice(uuidAt, 0, { uuid: [{ '#text': input.uuid }] });

  let metadata = children.find((n) => tagOf(n) === 'metadata');
  if (!metadata) {
    metadata = { metadata: [] };
    children.splice(uuidAt + 1, 0, metadata);
  }
  const ours = input.metadata.flatMap((x) => parser.parse(x) as Tree);
  metadata.metadata = [...childrenOf(metadata).filter((n) => !isOurs(n)), ...ours];

  const os = children.find((n) => tagOf(n) === 'os');
  if (os) os.os = childrenOf(os).filter((n) => tagOf(n) !== 'nvram');

  const devices = children.find((n) => tagOf(n) === 'devices');
  let i = 0;
  for (const dev of devices ? childrenOf(devices) : []) {
    const tag = tagOf(dev);
    if (tag === 'interface') dev.interface = childrenOf(dev).filter((n) => tagOf(n) !== 'mac');
    if (tag !== 'disk') continue;
    const a = attrsOf(dev);
    if (a['@device'] === 'cdrom' || a['@device'] === 'floppy') continue;
    if ((a['@type'] ?? 'file') !== 'file') throw new Error(`disk ${i} of the template is of type "${a['@type']}": only file disks are cloned`);
    const file = input.disks[i++];
    if (file === undefined) throw new Error(`the template has more disks than the ${input.disks.length} overlay(s) given`);
    const disk = childrenOf(dev).filter((n) => tagOf(n) !== 'backingStore');
    let source = disk.find((n) => tagOf(n) === 'source');
    if (!source) disk.push((source = { source: [] }));
    attrsOf(source)['@file'] = file;
    const driver = disk.find((n) => tagOf(n) === 'driver');
    if (driver) attrsOf(driver)['@type'] = 'qcow2';
    else disk.unshift({ driver: [], ':@': { '@name': 'qemu', '@type': 'qcow2' } });
    dev.disk = disk;
  }
  if (i !== input.disks.length) throw new Error(`the template has ${i} disk(s), ${input.disks.length} overlay(s) given`);
  domain.domain = children;
  return builder.build(doc) as string;
}

/** Target device names of the disks of a new domain: vda, vdb, ... (diskInputs.ts MAX_DISKS is 16). */
const target = (i: number) => `vd${String.fromCharCode(97 + i)}`;

/** A minimal domain (type qemu, 1 GiB, 1 vCPU, no NIC) with these disks and our metadata. */
export function newDomainXml(input: { name: string; uuid: string; disks: { path: string; format: string }[]; metadata: string[] }): string {
  if (input.disks.length > 26) throw new Error('at most 26 disks');
  const disks = input.disks.map(
    (d, i) => `    <disk type="file" device="disk"><driver name="qemu" type="${escape(d.format)}"/><source file="${escape(d.path)}"/><target dev="${target(i)}" bus="virtio"/></disk>\n`,
  );
  const metadata = input.metadata.length ? `  <metadata>${input.metadata.join('')}</metadata>\n` : '';
  return (
    `<domain type="qemu">\n  <name>${escape(input.name)}</name>\n  <uuid>${escape(input.uuid)}</uuid>\n${metadata}` +
    `  <memory unit="MiB">1024</memory>\n  <vcpu>1</vcpu>\n  <os><type arch="x86_64">hvm</type><boot dev="hd"/></os>\n` +
    `  <devices>\n${disks.join('')}  </devices>\n</domain>\n`
  );
}
