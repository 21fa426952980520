// The shape of one catalog entry: everything each surface needs to know about one
// customisation, so that a new one is added in one place (customizations.ts) and the
// agent's argv, the REST listing, the OpenAPI document, the CLI flags, the web form and
// the role check follow from it.
import type { z } from 'zod';
import type { CliBinding } from './cliBinding';
import type { WindowsStep } from './windows/steps';

/** Files the argv builder asks for: secrets and scripts never travel in argv. */
export interface FilePlanner {
  /** Plans a 0600 file with this content and returns its absolute path. */
  file(content: string): string;
}

/** The roles that may send a sysprep request, least first. */
export type SenderRole = 'operator' | 'admin';

/**
 * The web form's widget. `text`, `list` (one value per line), `checkbox` fit any entry of
 * that value type; the others are made for one kind of value (a password selector, the
 * user rows, a hostname with its per-VM preview, a time zone with its list, a script,
 * `yaml` for structured values such as files and services).
 */
export type Widget = 'text' | 'list' | 'checkbox' | 'hostname' | 'password' | 'users' | 'timezone' | 'script' | 'yaml';

/** What a render hook knows of the VM a value is rendered for (a PatternContext fits). */
export interface RenderContext {
  vm: string;
  /** 1-based position of the VM in its pool, room or the request's list. */
  index: number;
}

/** A part of a value no two VMs of one request may share (a static address). */
export interface UniqueValue {
  /** Path below `params.KEY`, e.g. `[0].address`. */
  field: string;
  /** What must differ, as the message shows it: `address 192.0.2.101`. */
  key: string;
}

/** A part of a value that needs a higher role than the entry itself (a user's password). */
export interface RestrictedPart {
  /** Path below `params.KEY`, e.g. `[0].password`. */
  path: string;
  role: SenderRole;
  /** What the caller may not send, for the message ("passwords"). */
  what: string;
}

export interface Customization<T = any> {
  /** The request's `params` key: lowerCamelCase. */
  key: string;
  /** The virt-sysprep option(s) it becomes (shown beside the field). */
  flag: string;
  /** Short name of the field, as a form label (no final period). */
  label: string;
  /** One sentence for the help text, the CLI help and the listing (no final period). */
  help: string;
  /** Its value is a secret: never in argv, logs, job records or responses. */
  secret: boolean;
  /** Needs the guest network (`--network`) when it produces any argument. */
  needsNetwork: boolean;
  /**
   * The virt-sysprep operation it runs inside; `windows`: none, the agent's guestfish
   * session does it (host-agent/windows/guestfishPlan.ts, entries with a `windows` hook).
   */
  operation: 'customize' | 'user-account' | 'windows';
  /** The guest OS it works on (default linux): the OS guard refuses it on another (422). */
  os?: 'linux' | 'windows' | 'any';
  /** The least role that may send it. */
  role: SenderRole;
  /** Parts of a value that need more than `role` (checked by checkSenderRole). */
  restricted?(value: T): RestrictedPart[];
  widget: Widget;
  /** An example shown in the empty web field. */
  placeholder?: string;
  cli: CliBinding<T>;
  schema: z.ZodType<T>;
  /**
   * Per-VM forms beyond `${...}` patterns (which are rendered before): turns the value
   * into the one VM's plain value (an `ipFromIndex` address into an address). Gets the
   * value unchecked: shapes it does not know are returned as they are, for the schema.
   */
  render?(value: unknown, ctx: RenderContext, field: string): unknown;
  /** Parts of one VM's rendered value that no other VM of the request may hold (checkAcrossVms). */
  uniqueAcrossVms?(value: T): UniqueValue[];
  toArgs(value: T, files: FilePlanner): string[];
  /**
   * How a request's value combines with its profile's (mergeParams.ts): `append` (the
   * default) adds a list's items to the profile's, an item of the same name or path
   * replacing the profile's; `replace` takes the request's value whole. Scalars always
   * replace; an object of scalars (a keyboard) says `replace`.
   */
  merge?: 'append' | 'replace';
  /** Windows entries: the steps of the guestfish session; `params` are the VM's rendered params. */
  windows?(value: T, files: FilePlanner, params: Readonly<Record<string, unknown>>): WindowsStep[];
}

/** The guest OS an entry works on. */
export const osOf = (c: Pick<Customization, 'os'>): 'linux' | 'windows' | 'any' => c.os ?? 'linux';

/** Types one entry (its value type follows from its schema). */
export const entry = <T>(c: Customization<T>): Customization<T> => c;

/** The tool and option(s) an entry becomes, as listings show it: "virt-sysprep --hostname", "guestfish upload". */
export const toolFlagOf = (c: Pick<Customization, 'flag' | 'operation'>): string => `${c.operation === 'windows' ? 'guestfish' : 'virt-sysprep'} ${c.flag}`;
