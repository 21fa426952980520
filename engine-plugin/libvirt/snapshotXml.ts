// A libvirt snapshot's XML (virsh snapshot-dumpxml) in the snapshot port's terms. Pure,
// so the mapping has a table test. The copy of the domain's XML that libvirt keeps in
// each snapshot is not read (a stop node: it can be large and nothing of it is used).
import { XMLParser } from 'fast-xml-parser';
import type { Snapshot } from '../inventory/VmSnapshots';

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@',
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: false,
  stopNodes: ['domainsnapshot.domain', 'domainsnapshot.disks', 'domainsnapshot.inactiveDomain'],
});

type Node = Record<string, unknown>;
const asNode = (v: unknown): Node => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Node) : {});
/** An element's text, as written (a name may start or end with spaces). */
const text = (v: unknown): string | undefined => (typeof v === 'string' ? v : typeof asNode(v)['#text'] === 'string' ? (asNode(v)['#text'] as string) : undefined);

/** A snapshot's XML as the port answers it (`current` is the caller's: libvirt keeps it apart). */
export function parseSnapshotXml(xml: string): Omit<Snapshot, 'current'> {
  const snap = asNode(parser.parse(xml).domainsnapshot);
  const name = text(snap.name);
  if (!name) throw new Error('not a libvirt snapshot XML (no <name>)');
  const out: Omit<Snapshot, 'current'> = { id: name, name, description: text(snap.description) ?? '' };
  const created = Number(text(snap.creationTime)?.trim());
  if (Number.isFinite(created) && created > 0) out.date = new Date(created * 1000).toISOString();
  const state = text(snap.state)?.trim();
  if (state) out.vmState = state;
  const parent = text(asNode(snap.parent).name);
  if (parent) out.parent = parent;
  return out;
}
