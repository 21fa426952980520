// Which warnings of a run mean that something the job asked for was not applied: a table
// of the messages virt-sysprep 1.48 (its customize module) and our guest scripts print
// when a requested customisation or operation cannot be done on this guest, and what
// each means. A job with such a warning ends INCOMPLETE (shared/jobStates.ts) instead of
// SUCCEEDED; any other warning is recorded and changes nothing.
//
// The tool's "hostname could not be set for this type of guest" is NOT in the table: the
// `hostname` entry's own script runs after it, writes /etc/hostname where the tool could
// not, and prints HOSTNAME_NOT_SET only when the guest has no place it knows
// (shared/catalog/guest/hostname.ts); the tool's line stays on the job as a plain warning.
//
// Messages seen in the installed tool (`strings virt-sysprep`): "hostname could not be
// set for this type of guest", "timezone ...", "passwords ...", "random seed ...",
// "SSH key could be injected for this type of guest" (sic: 1.48's text lacks "not"),
// "cannot set random UUID on filesystem DEV type T: ...". A Windows guest gets the
// hostname, timezone and password ones for what it was asked.
//
// "random seed could not be set for this type of guest" is NOT in the table: virt-customize
// prints it whenever the guest has none of the seed files it knows (measured: the Debian
// ifupdown fixture, which has none, so no seed is shared between clones either); it is
// recorded as a plain warning.

import { HOSTNAME_NOT_SET } from '../../shared/catalog/guest/hostname';

/** What a run was asked for: the customisation keys and the operations it runs. */
export interface Requested {
  params: readonly string[];
  operations: readonly string[];
}

interface UnappliedPattern {
  pattern: RegExp;
  /** The params keys it means (the first one requested is named) ... */
  params?: readonly string[];
  /** ... or the operations. */
  operations?: readonly string[];
}

export const UNAPPLIED: readonly UnappliedPattern[] = [
  { pattern: new RegExp(`^${HOSTNAME_NOT_SET}`), params: ['hostname'] },
  { pattern: /^timezone could not be set\b/, params: ['timezone'] },
  { pattern: /^passwords could not be set\b/, params: ['rootPassword', 'users'] },
  { pattern: /^SSH key could (?:not )?be injected\b/, params: ['users'] },
  { pattern: /^cannot set random UUID on filesystem\b/, operations: ['fs-uuids'] },
  // shared/catalog/guest/firewall.ts
  { pattern: /^the guest has neither firewalld\b.*\bnot opened\b/, params: ['firewall'] },
];

/**
 * Warnings our own `-v -x` flags cause on every run, about the tool's debug output and not
 * the guest (measured with 1.48: `Guestfs.Error("debug: ") (ignored)` at the end of each
 * customize): left in the job log, not put on the job.
 */
const TRACE_ARTIFACTS: readonly RegExp[] = [/^Guestfs\.Error\("debug: [^"]*"\) \(ignored\)$/];

export const isTraceArtifact = (message: string): boolean => TRACE_ARTIFACTS.some((p) => p.test(message));

/** `params.KEY` / `operations.NAME` of what a warning says was not applied, or undefined. */
export function unappliedField(message: string, requested: Requested): string | undefined {
  for (const u of UNAPPLIED) {
    if (!u.pattern.test(message)) continue;
    const param = u.params?.find((k) => requested.params.includes(k));
    if (param) return `params.${param}`;
    const op = u.operations?.find((o) => requested.operations.includes(o));
    if (op) return `operations.${op}`;
  }
  return undefined;
}
