// The one wrapper of `virsh` (libvirt's own client): no well-kept Node binding of libvirt
// exists (docs/engine-decisions.md). Typed options -> a pure argv builder -> one spawn site
// (shared/tools/exec.ts run: argv array, no shell, own process group, timeout) -> typed
// errors:
//   * libvirtd not reachable (no socket, refused, bad URI), or no answer in time:
//     503 LIBVIRT_UNREACHABLE;
//   * a domain that does not exist: 404 LIBVIRT_DOMAIN_NOT_FOUND;
//   * an action libvirt refuses in the domain's state (start a running one, ...): 409
//     LIBVIRT_INVALID_STATE;
//   * anything else: VIRSH_FAILED with virsh's own message.
// Read commands connect read-only (`-r`: libvirt-sock-ro, no write right needed); the
// actions (start, shutdown, destroy, undefine, define, metadata, snapshot changes) connect
// read-write. A definition is written to a file in a private temporary directory (0700,
// removed at once): virsh reads it and sends the XML to the daemon. (Not stdin: Node's
// pipes are sockets, which /dev/stdin cannot open.) Domain arguments come after `--`, and
// only UUIDs read from libvirt itself are passed (never a name from a request), so a value
// is never taken for a flag or for a domain id. Snapshot names and descriptions go in
// virsh's `--option=VALUE` form, which virsh never reads as another option whatever VALUE
// holds.
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ConflictError, NotFoundError, SysprepError, UnavailableError } from '../../shared/errors';
import { CommandError, run } from '../../shared/tools/exec';
import { snapshotExists } from '../inventory/VmSnapshots';

/** A domain as `virsh list --all --uuid --name` prints it. */
export interface DomainId {
  uuid: string;
  name: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export const isDomainUuid = (v: string): boolean => UUID.test(v);

/** The argv of one virsh command on `uri`; `readonly` connects through libvirt's read-only socket. */
export function virshArgv(uri: string, command: string[], opts: { readonly?: boolean } = {}): string[] {
  return [...(opts.readonly ? ['-r'] : []), '-q', '-c', uri, ...command];
}

/**
 * Several `dumpxml` in ONE virsh process (virsh runs `;`-separated commands given as its
 * argument): a listing of N domains costs one spawn, not N. Only UUIDs are allowed in,
 * so the command string holds nothing virsh's own parser could read otherwise.
 */
export function dumpXmlBatch(uuids: readonly string[]): string {
  for (const u of uuids) if (!isDomainUuid(u)) throw new Error(`not a domain UUID: ${JSON.stringify(u)}`);
  return uuids.map((u) => `dumpxml --domain ${u}`).join(' ; ');
}

/**
 * The command of an action on one domain (power, undefine), by UUID only (read from libvirt). Shutdown
 * names its mode: ACPI only, never the guest agent, which a template's clone may not run.
 */
export function powerArgv(action: 'start' | 'shutdown' | 'destroy' | 'undefine', uuid: string): string[] {
  if (!isDomainUuid(uuid)) throw new Error(`not a domain UUID: ${JSON.stringify(uuid)}`);
  return [action, ...(action === 'shutdown' ? ['--mode', 'acpi'] : []), '--', uuid];
}

/**
 * `metadata` on our namespace `ns` of a shut-off domain's definition: set `xml` (an
 * element without prefix: libvirt adds `--key`'s), or remove the element (xml undefined).
 */
export function metadataArgv(uuid: string, ns: string, key: string, xml?: string): string[] {
  if (!isDomainUuid(uuid)) throw new Error(`not a domain UUID: ${JSON.stringify(uuid)}`);
  return ['metadata', '--domain', uuid, '--uri', ns, '--key', key, '--config', ...(xml === undefined ? ['--remove'] : ['--set', xml])];
}

/** `define` of an XML file (--validate: libvirt checks it against its schema first). */
export function defineArgv(file: string): string[] {
  return ['define', '--validate', '--file', file];
}

/** `list --all --uuid --name`: "UUID NAME" lines (a name may hold spaces, never a newline). */
export function parseDomainList(stdout: string): DomainId[] {
  const out: DomainId[] = [];
  for (const line of stdout.split('\n')) {
    const m = /^([0-9a-f-]{36}) (.+)$/.exec(line.trim());
    if (m && isDomainUuid(m[1])) out.push({ uuid: m[1], name: m[2] });
  }
  return out;
}

/**
 * `domstats --state`: blocks of "Domain: 'NAME'" then "  state.state=N" (libvirt's
 * virDomainState number). Libvirt refuses a newline in a domain name, so the name line is
 * unambiguous.
 */
export function parseDomainStates(stdout: string): Map<string, number> {
  const states = new Map<string, number>();
  let current: string | undefined;
  for (const line of stdout.split('\n')) {
    const dom = /^Domain: '(.*)'$/.exec(line);
    if (dom) {
      current = dom[1];
      continue;
    }
    const st = /^\s+state\.state=(\d+)$/.exec(line);
    if (st && current !== undefined) states.set(current, Number(st[1]));
  }
  return states;
}

/** Splits the output of several dumpxml into their documents. */
export function splitDomainXml(stdout: string): string[] {
  return stdout
    .split(/(?<=<\/domain>)\s*/)
    .map((s) => s.trim())
    .filter((s) => s.startsWith('<domain'));
}

/** virsh's `'...'` quoting inside a `;`-separated command string (as a POSIX shell's: `'` is `'\''`). */
export function virshQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** `snapshot-create-as` of one domain: internal snapshots of its disks when it is shut off. */
export function snapshotCreateArgv(uuid: string, name: string, description?: string): string[] {
  if (!isDomainUuid(uuid)) throw new Error(`not a domain UUID: ${JSON.stringify(uuid)}`);
  return ['snapshot-create-as', '--domain', uuid, `--name=${name}`, ...(description ? [`--description=${description}`] : []), '--atomic'];
}

/** A command on one snapshot of one domain. */
export function snapshotArgv(action: 'snapshot-revert' | 'snapshot-delete' | 'snapshot-dumpxml', uuid: string, name: string): string[] {
  if (!isDomainUuid(uuid)) throw new Error(`not a domain UUID: ${JSON.stringify(uuid)}`);
  return [action, '--domain', uuid, `--snapshotname=${name}`];
}

/** Several `snapshot-dumpxml` in ONE virsh process, each name quoted for virsh's own parser. */
export function snapshotXmlBatch(uuid: string, names: readonly string[]): string {
  if (!isDomainUuid(uuid)) throw new Error(`not a domain UUID: ${JSON.stringify(uuid)}`);
  return names.map((n) => `snapshot-dumpxml --domain ${uuid} --snapshotname=${virshQuote(n)}`).join(' ; ');
}

/** `snapshot-list --name`: one name a line (a name may hold spaces; libvirt refuses none but the empty one). */
export function parseSnapshotNames(stdout: string): string[] {
  return stdout.split('\n').filter((l) => l !== '');
}

/** Splits the output of several snapshot-dumpxml into their documents. */
export function splitSnapshotXml(stdout: string): string[] {
  return stdout
    .split(/(?<=<\/domainsnapshot>)\s*/)
    .map((s) => s.trim())
    .filter((s) => s.startsWith('<domainsnapshot'));
}

/** virsh's words for a snapshot that does not exist (any more). */
const SNAPSHOT_GONE = /Domain snapshot not found|no domain snapshot with matching name/i;

/** virsh's words for a domain that does not exist (any more). */
const GONE = /failed to get domain|Domain not found/i;

/** The typed error of a failed virsh run. */
export function virshError(err: unknown, uri: string): SysprepError {
  if (!(err instanceof CommandError)) return new SysprepError('failed', 'VIRSH_FAILED', `virsh: ${(err as Error).message}`, { uri });
  const message = err.stderr
    .split('\n')
    .map((l) => l.replace(/^error: /, '').trim())
    .filter(Boolean)
    .join(': ');
  if (err.timedOut) return new UnavailableError('LIBVIRT_UNREACHABLE', `libvirt at ${uri} did not answer in time`, { uri, reason: 'timeout' });
  if (err.exitCode === null) return new UnavailableError('LIBVIRT_UNREACHABLE', `virsh could not be run: ${message} (is libvirt-clients installed?)`, { uri });
  // Unreachable: virsh could not connect (its first line), or the daemon went away mid-call.
  // A socket refused AFTER the connection (a start whose virtlogd does not run) is the
  // action's failure, told in libvirt's words below.
  const first = err.stderr.split('\n').find((l) => l.trim()) ?? '';
  if (/failed to connect to the hypervisor|Failed to connect socket|Connection refused/i.test(first) || /End of file while reading data/i.test(err.stderr)) {
    return new UnavailableError('LIBVIRT_UNREACHABLE', `libvirt at ${uri} is unreachable: ${message}`, { uri });
  }
  if (GONE.test(err.stderr)) return new NotFoundError('LIBVIRT_DOMAIN_NOT_FOUND', message, { uri });
  if (SNAPSHOT_GONE.test(err.stderr)) return new NotFoundError('SNAPSHOT_NOT_FOUND', message, { uri, field: 'sid' });
  // libvirt's VIR_ERR_OPERATION_INVALID ("domain is not running"), and virsh's own check
  // before a start ("Domain is already active").
  if (/Requested operation is not valid|Domain is already active/i.test(err.stderr)) return new ConflictError('LIBVIRT_INVALID_STATE', message, { uri });
  return new SysprepError('failed', 'VIRSH_FAILED', `virsh: ${message || `exit code ${err.exitCode}`}`, { uri });
}

/** virsh on one libvirt URI. */
export class Virsh {
  constructor(
    readonly uri: string,
    private readonly timeoutMs: number,
    private readonly bin = 'virsh',
  ) {}

  /** Every domain, defined or transient, running or not. */
  async list(): Promise<DomainId[]> {
    return parseDomainList(await this.read(['list', '--all', '--uuid', '--name']));
  }

  /** virDomainState number by domain name, read now (never cached: it changes behind our back). */
  async states(uuids?: readonly string[]): Promise<Map<string, number>> {
    for (const u of uuids ?? []) if (!isDomainUuid(u)) throw new Error(`not a domain UUID: ${JSON.stringify(u)}`);
    return parseDomainStates(await this.read(['domstats', '--state', ...(uuids?.length ? ['--', ...uuids] : [])]));
  }

  /** The XML of these domains (live definition of a running one); a domain gone meanwhile is left out. */
  async dumpXml(uuids: readonly string[]): Promise<string[]> {
    if (uuids.length === 0) return [];
    if (uuids.length === 1) {
      try {
        return [await this.read(['dumpxml', '--', uuids[0]])];
      } catch (err) {
        if (err instanceof NotFoundError) return [];
        throw err;
      }
    }
    // virsh goes on after a failed command of a batch and exits with the LAST command's
    // status: a closing `echo` makes that 0, and stderr tells the domains gone meanwhile
    // (tolerated) from anything else (a lost connection fails every command: thrown).
    const { stdout, stderr } = await this.exec([`${dumpXmlBatch(uuids)} ; echo`]);
    const errors = stderr.split('\n').filter((l) => l.trim() && !GONE.test(l));
    if (errors.length) throw virshError(new CommandError(['virsh'], 1, errors.join('\n')), this.uri);
    return splitDomainXml(stdout);
  }

  /** Boots a shut-off domain (`virsh start`); resolves once libvirt reports it running. */
  async start(uuid: string): Promise<void> {
    await this.exec(powerArgv('start', uuid), false);
  }

  /** Asks the guest to power off through an ACPI power-button event; returns at once (the guest decides). */
  async shutdown(uuid: string): Promise<void> {
    await this.exec(powerArgv('shutdown', uuid), false);
  }

  /** Stops a domain at once (`virsh destroy`: QEMU is killed, as pulling the plug). */
  async destroy(uuid: string): Promise<void> {
    await this.exec(powerArgv('destroy', uuid), false);
  }

  /** The persistent definition of a domain (`dumpxml --inactive`): what a clone copies. */
  async definitionXml(uuid: string): Promise<string> {
    if (!isDomainUuid(uuid)) throw new Error(`not a domain UUID: ${JSON.stringify(uuid)}`);
    return this.read(['dumpxml', '--inactive', '--', uuid]);
  }

  /** Defines a domain from `xml` (through a file in a private temporary directory, removed after). */
  async define(xml: string): Promise<void> {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ovirt-sysprep-define-'));
    try {
      const file = path.join(dir, 'domain.xml');
      await fs.writeFile(file, xml, { mode: 0o600 });
      await this.exec(defineArgv(file), false);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  }

  /** Sets (xml) or removes (undefined) our metadata element of namespace `ns`. */
  async setMetadata(uuid: string, ns: string, key: string, xml?: string): Promise<void> {
    await this.exec(metadataArgv(uuid, ns, key, xml), false);
  }

  /** Removes a shut-off domain's definition (its disk files stay: removing ours is the caller's). */
  async undefine(uuid: string): Promise<void> {
    await this.exec(powerArgv('undefine', uuid), false);
  }

  // ---- snapshots (LibvirtSnapshots) ----

  /** The domain's snapshot names, parents before their children. */
  async snapshotNames(uuid: string): Promise<string[]> {
    if (!isDomainUuid(uuid)) throw new Error(`not a domain UUID: ${JSON.stringify(uuid)}`);
    return parseSnapshotNames(await this.read(['snapshot-list', '--domain', uuid, '--name', '--topological']));
  }

  /** The XML of these snapshots, in one virsh process; a snapshot deleted meanwhile is left out. */
  async snapshotXml(uuid: string, names: readonly string[]): Promise<string[]> {
    if (names.length === 0) return [];
    // As dumpXml: the closing `echo` makes the exit status 0, stderr tells what failed.
    const { stdout, stderr } = await this.exec([`${snapshotXmlBatch(uuid, names)} ; echo`]);
    const errors = stderr.split('\n').filter((l) => l.trim() && !SNAPSHOT_GONE.test(l));
    if (errors.length) throw virshError(new CommandError(['virsh'], 1, errors.join('\n')), this.uri);
    return splitSnapshotXml(stdout);
  }

  /** The name of the domain's current snapshot; undefined when it has none. */
  async currentSnapshot(uuid: string): Promise<string | undefined> {
    if (!isDomainUuid(uuid)) throw new Error(`not a domain UUID: ${JSON.stringify(uuid)}`);
    try {
      return (await this.read(['snapshot-current', '--domain', uuid, '--name'])).replace(/\n$/, '');
    } catch (err) {
      if (err instanceof SysprepError && /has no current snapshot/i.test(err.message)) return undefined;
      throw err;
    }
  }

  /** A snapshot of a shut-off domain: internal qcow2 snapshots of its disks (all or none: --atomic). */
  async snapshotCreate(uuid: string, name: string, description?: string): Promise<void> {
    try {
      await this.exec(snapshotCreateArgv(uuid, name, description), false);
    } catch (err) {
      if (err instanceof SysprepError && err.code === 'VIRSH_FAILED' && /already exists/i.test(err.message)) {
        throw snapshotExists(name, { uri: this.uri });
      }
      throw err;
    }
  }

  /** Puts the domain's disks back as they were in the snapshot. */
  async snapshotRevert(uuid: string, name: string): Promise<void> {
    await this.exec(snapshotArgv('snapshot-revert', uuid, name), false);
  }

  /** Removes the snapshot (its children are kept, re-parented by libvirt). */
  async snapshotDelete(uuid: string, name: string): Promise<void> {
    await this.exec(snapshotArgv('snapshot-delete', uuid, name), false);
  }

  private async read(command: string[]): Promise<string> {
    return (await this.exec(command)).stdout;
  }

  private async exec(command: string[], readonly = true): Promise<{ stdout: string; stderr: string }> {
    try {
      return await run(this.bin, virshArgv(this.uri, command, { readonly }), { timeoutMs: this.timeoutMs });
    } catch (err) {
      throw virshError(err, this.uri);
    }
  }
}
