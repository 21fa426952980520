// health, operations catalog, identity catalogue, profiles, hosts.
import { describeCustomizations } from '../../shared/catalog/customizations';
import { UnavailableError } from '../../shared/errors';
import { describeIdentityItems } from '../../shared/identity/describeIdentityItems';
import { resolveSpec } from '../../shared/spec';
import { profileBodySchema } from '../profiles/ProfileStore';
import type { ApiDeps } from './deps';
import type { RouteTable } from './RouteTable';
import { VERSION } from '../../shared/version';

export const ENGINE_VERSION = VERSION;

export function catalogRoutes(t: RouteTable, d: ApiDeps): void {
  t.add({ method: 'get', path: '/health', tag: 'engine', summary: 'Liveness and agent reachability (no token needed)', role: null, status: 200 }, () => {
    const agents = d.agents.all();
    return {
      status: 'ok',
      version: ENGINE_VERSION,
      // leader: this engine dispatches; standby: it forwards changes to the one that does.
      role: d.leadership?.role ?? 'leader',
      agents: { total: agents.length, healthy: agents.filter((a) => a.healthy).length },
    };
  });

  // The web page asks who it signed in as, to show only the actions the role may take.
  t.add({ method: 'get', path: '/whoami', tag: 'engine', summary: 'The caller: name and role of the token', role: 'viewer', status: 200 }, ({ caller }) => ({ name: caller.name, role: caller.role }));

  t.add({ method: 'get', path: '/operations', tag: 'catalog', summary: "Operations of the agents' installed virt-sysprep (those every reachable agent knows) and the customisation catalog", role: 'viewer', status: 200 }, () => {
    const ops = d.agents.operations();
    const versions = [...new Set(d.agents.all().filter((a) => a.healthy).map((a) => a.capabilities?.virtSysprepVersion).filter(Boolean))];
    return { items: ops, customizations: describeCustomizations(), virtSysprepVersions: versions };
  });

  // Without a reachable agent the catalogue is still listed; installedToolCovers is null (unknown).
  t.add({ method: 'get', path: '/identity-items', tag: 'catalog', summary: "The identity catalogue: each item's families, action, paths, reason, source, virt-sysprep's coverage per version, and whether the agents' installed tool has the covering operation", role: 'viewer', status: 200 }, () => {
    let installed: string[] | undefined;
    try {
      installed = d.agents.operations().map((o) => o.name);
    } catch (e) {
      if (!(e instanceof UnavailableError)) throw e;
    }
    return { items: describeIdentityItems(installed) };
  });

  t.add({ method: 'get', path: '/profiles', tag: 'profiles', summary: 'Built-in and user profiles', role: 'viewer', status: 200 }, () => ({ items: d.profiles.list() }));
  t.add({ method: 'get', path: '/profiles/:name', tag: 'profiles', summary: 'One profile', role: 'viewer', status: 200 }, ({ params }) => d.profiles.get(params.name, 'name'));
  t.add({ method: 'put', path: '/profiles/:name', tag: 'profiles', summary: 'Create or replace a user profile (no secrets: they travel with each request)', role: 'admin', body: profileBodySchema, status: 200 }, ({ params, body, res }) => {
    const { profile, created } = d.profiles.put(params.name, body, (operations) => {
      resolveSpec({ operations }, d.agents.operations());
    });
    if (created) res.locals.status = 201;
    return profile;
  });
  t.add({ method: 'delete', path: '/profiles/:name', tag: 'profiles', summary: 'Delete a user profile', role: 'admin', status: 204 }, ({ params, res }) => {
    d.profiles.delete(params.name);
    res.status(204).end();
    return undefined;
  });

  t.add({ method: 'get', path: '/hosts', tag: 'hosts', summary: 'Host agents: health, versions, storage, running and queued jobs', role: 'viewer', status: 200 }, () => ({
    items: d.agents.all().map((a) => ({
      id: a.host.id,
      name: a.host.name,
      agentAddress: a.host.agentAddress,
      storageRoots: a.host.storageRoots,
      healthy: a.healthy,
      lastError: a.lastError,
      checkedAt: a.checkedAt,
      versions: a.capabilities && { agent: a.capabilities.agentVersion, virtSysprep: a.capabilities.virtSysprepVersion, qemuImg: a.capabilities.qemuImgVersion },
      hypervisor: a.capabilities?.hypervisor,
      maxConcurrentJobs: d.agents.limit(a.host.id),
      storage: a.capabilities?.storageRoots.map((r) => ({ path: r.path, freeBytes: Number(r.freeBytes), totalBytes: Number(r.totalBytes) })),
      jobs: { ...d.dispatcher.load(a.host.id), onAgent: a.capabilities?.runningJobs ?? 0 },
    })),
    // Beside the hosts: the oVirt event watcher that feeds the automatic resets.
    ...(d.ovirtEvents ? { ovirtEvents: d.ovirtEvents() } : {}),
  }));
}

