// The embedded inventory's DiskChecker (inventory/DiskChecker.ts): CheckDisks asked of an
// agent whose storage roots, as the engine configures them per host, hold every disk.
// 1. Candidates: the hosts whose roots hold disks[0..i], for each i in turn (only the
//    named host, for an import with `host`). A disk that no candidate holds is refused
//    there, naming its field (400 PATH_OUTSIDE_ROOTS), and no agent is asked anything.
// 2. The healthy candidates (HostSelector.reachable) are asked in turn; one that cannot be reached passes the
//    call to the next. None answers: 503, as for a sysprep.
// 3. An agent's refusal is the caller's bad input: its code and field are kept, with a
//    4xx status (the agent's PERMISSION_DENIED for a path outside its roots is a 400
//    here: the caller may register disks, this path is wrong).
// 4. The reply is checked too: every real path must lie under the roots configured for
//    that host, or the disk would be recorded and then served by no agent.
import * as path from 'node:path';
import { delay, inject, injectable } from 'tsyringe';
import { DISK_FORMATS_TEXT, isDiskFormat } from '../../shared/diskFormats';
import { asSysprepError, InputError, NotFoundError, SysprepError, UnavailableError } from '../../shared/errors';
import type { CheckDisksResult } from '../../shared/wireTypes';
import type { CheckedDisk, DiskChecker } from '../inventory/DiskChecker';
import type { DiskInput } from '../inventory/InventoryActions';
import { underRoot } from '../inventory/storageRoots';
import { AgentPool, AgentState } from './AgentPool';
import { HostSelector } from './HostSelector';

@injectable()
export class AgentDiskChecker implements DiskChecker {
  // delay: the pool reads its hosts from the inventory, and the inventory asks this checker.
  constructor(
    @inject(delay(() => AgentPool)) private readonly agents: AgentPool,
    @inject(delay(() => HostSelector)) private readonly hosts: HostSelector,
  ) {}

  async check(disks: DiskInput[], opts: { hostId?: string } = {}): Promise<CheckedDisk[]> {
    const candidates = this.candidates(disks, opts.hostId);
    const healthy = this.hosts.reachable(candidates);
    const hosts = candidates.map((a) => a.host.id);
    let last: SysprepError | undefined;
    for (const a of healthy) {
      let reply: CheckDisksResult;
      try {
        reply = await a.client.checkDisks(disks.map((d) => ({ path: d.path, format: d.format ?? '' })));
      } catch (err) {
        last = asSysprepError(err);
        if (last.kind === 'unavailable') continue;
        throw refusal(last);
      }
      return accept(reply, disks, a);
    }
    throw new UnavailableError('AGENT_UNAVAILABLE', `no host agent that sees these disks could check them (${hosts.join(', ')}): ${last?.message}`, { hosts });
  }

  private candidates(disks: DiskInput[], hostId: string | undefined): AgentState[] {
    if (hostId !== undefined && !this.agents.get(hostId)) throw new NotFoundError('HOST_NOT_FOUND', `no host "${hostId}"`, { field: 'host' });
    let serving: AgentState[] = [];
    disks.forEach((d, i) => {
      serving = this.agents.servingAgents(disks.slice(0, i + 1), hostId).filter((a) => hostId === undefined || a.host.id === hostId);
      if (serving.length === 0) {
        const where = hostId !== undefined ? `host "${hostId}"` : i > 0 ? 'any host that also holds the disks before it' : 'any host';
        throw new InputError(`disks[${i}].path`, `${d.path} is in no storage root configured for ${where}`, 'PATH_OUTSIDE_ROOTS', { path: d.path });
      }
    });
    return serving;
  }
}

/** An agent's refusal of a disk, as the caller's bad input: same code, message and field; 400, 404 or 409. */
function refusal(e: SysprepError): SysprepError {
  if (typeof e.details.field !== 'string' || ['invalid', 'not-found', 'conflict'].includes(e.kind)) return e;
  return new SysprepError('invalid', e.code, e.message, e.details);
}

function accept(reply: CheckDisksResult, disks: DiskInput[], a: AgentState): CheckedDisk[] {
  if (reply.disks.length !== disks.length) {
    throw new SysprepError('internal', 'BAD_AGENT_REPLY', `host "${a.host.id}" checked ${reply.disks.length} of ${disks.length} disks`);
  }
  const roots = a.host.storageRoots;
  return reply.disks.map((c, i): CheckedDisk => {
    const field = `disks[${i}].path`;
    const asked = disks[i];
    if (!isDiskFormat(c.format)) {
      throw new InputError(field, `${asked.path} is a ${c.format || 'unknown'} image: accepted formats are ${DISK_FORMATS_TEXT}`, 'UNSUPPORTED_FORMAT', { path: asked.path });
    }
    if (asked.format && asked.format !== c.format) {
      throw new InputError(`disks[${i}].format`, `is "${asked.format}" but ${asked.path} is a ${c.format} image`, 'FORMAT_MISMATCH', { path: asked.path });
    }
    if (!path.isAbsolute(c.realPath) || !roots.some((r) => underRoot(c.realPath, r))) {
      throw new InputError(field, `${asked.path} resolves to ${c.realPath}, outside the storage roots configured for host "${a.host.id}" (${roots.join(', ')}; configure them by their real path)`, 'PATH_OUTSIDE_ROOTS', { path: asked.path, realPath: c.realPath });
    }
    return { path: asked.path, realPath: c.realPath, storageRoot: c.storageRoot, format: c.format, hostId: a.host.id, inUse: c.inUse, backingFile: c.backingFile };
  });
}
