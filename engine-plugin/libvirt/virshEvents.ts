// libvirt's domain lifecycle events as `virsh event --loop --event lifecycle` prints them
// (virsh 9.0, tools/virsh-domain-event.c): one line per event,
//   event 'lifecycle' for domain 'NAME': EVENT DETAIL
// EVENT and DETAIL are the words of virshDomainEventToString and
// virshDomainEventDetailToString (e.g. "Defined Added", "Started Booted", "Undefined
// Removed", "Shutdown Finished after host request"). Events name the domain, not its
// UUID. Pure: the argv and the parser, so both have table tests; VirshEventStream.ts runs
// the child.
import { virshArgv } from './Virsh';

/** virDomainEventType, as virsh words it. */
export const LIFECYCLE_EVENTS = ['Defined', 'Undefined', 'Started', 'Suspended', 'Resumed', 'Stopped', 'Shutdown', 'PMSuspended', 'Crashed'] as const;
export type LifecycleEventType = (typeof LIFECYCLE_EVENTS)[number];

export interface LifecycleEvent {
  domain: string;
  event: LifecycleEventType;
  /** virsh's detail words ("Added", "Booted", "Finished after host request"...). */
  detail: string;
}

/**
 * The long-lived event child on `uri`: read-only (events need no write right), every
 * domain (no --domain), lifecycle events only, until killed. (`--all` would ask for every
 * event kind and virsh refuses it together with `--event`.)
 */
export function eventArgv(uri: string): string[] {
  return virshArgv(uri, ['event', '--loop', '--event', 'lifecycle'], { readonly: true });
}

// A domain name may hold quotes and spaces, never a newline: the known event word at
// the end anchors the split, whatever the name holds.
const LINE = new RegExp(`^event 'lifecycle' for domain '(.+)': (${LIFECYCLE_EVENTS.join('|')})(?: (.*))?$`);

/** One output line of the event child; undefined for anything else (blank lines, other events). */
export function parseLifecycleEvent(line: string): LifecycleEvent | undefined {
  const m = LINE.exec(line.trim());
  if (!m) return undefined;
  return { domain: m[1], event: m[2] as LifecycleEventType, detail: (m[3] ?? '').trim() };
}
