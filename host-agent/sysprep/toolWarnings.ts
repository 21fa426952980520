// Which warnings of a run mean that something the job asked for was not applied: a table
// of the messages virt-sysprep 1.48 (its customize module) and our guest scripts print
// when a requested customisation or operation cannot be done on this guest, and what
// each means. A job with such a warning ends INCOMPLETE (shared/jobStates.ts) instead of
// SUCCEEDED; any other warning is recorded and changes nothing.
//
// Messages seen in the installed tool (`strings virt-sysprep`): "hostname could not be
// set for this type of guest", "timezone ...", "passwords ...", "random seed ...",
// "SSH key could be injected for this type of guest" (sic: 1.48's text lacks "not"),
// "cannot set random UUID on filesystem DEV type T: ...". A Windows guest gets the first
// four (the phony Windows image: hostname and random seed).

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
  { pattern: /^hostname could not be set\b/, params: ['hostname'] },
  { pattern: /^timezone could not be set\b/, params: ['timezone'] },
  { pattern: /^passwords could not be set\b/, params: ['rootPassword', 'users'] },
  { pattern: /^SSH key could (?:not )?be injected\b/, params: ['users'] },
  // virt-customize seeds the guest's random number generator whenever it runs (the
  // `customize` operation): clones would otherwise share the template's seed.
  { pattern: /^random seed could not be set\b/, operations: ['customize'] },
  { pattern: /^cannot set random UUID on filesystem\b/, operations: ['fs-uuids'] },
  // shared/catalog/guest/firewall.ts
  { pattern: /^the guest has neither firewalld\b.*\bnot opened\b/, params: ['firewall'] },
];

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
