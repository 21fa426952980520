// Users of the oVirt UI plugin: authenticated and authorized by oVirt itself.
//
// The UI plugin sends the user's own oVirt SSO token as the bearer token. Protocol:
//  1. authenticate: a token that is none of engine.conf's [tokens] is asked of oVirt:
//     GET /ovirt-engine/api with that token (Filter: true) -> authenticated_user; a 401
//     is a 401 here. The caller gets the engine role user_role (default operator) and
//     is remembered for user_token_ttl_sec (by the token's SHA-256, never the token);
//  2. authorize, before any job of that caller is created, for EACH VM / template:
//     a. visible: GET /vms/{id} with the USER's token and `Filter: true` (what the
//        user sees in the VM portal); not found -> 403;
//     b. permitted: the object's permissions (GET /vms/{id}/permissions: the engine adds
//        the inherited ones, of the cluster, data center and system) held by the user,
//        by Everyone, or by an engine group that is one of the user's directory groups,
//        whose role has one of required_permits (GET /roles/{id}/permits) -> else 403.
//        A permission names an engine group id; GET /users/{id}/groups lists directory
//        groups by their encoded directory id: the two meet through GET /groups/{id}
//        and its domain_entry_id (ovirtModel.isDirectoryGroup). Groups, directory
//        memberships and permits are cached for cache_ttl_sec.
//  Callers with a configured token (admins, automation, auto-reset) are not asked.
//  For every caller, a template that VMs are based on is never sealed (409).
//  The same check guards the inventory's actions on oVirt (power, snapshots, delete: the
//  VM; a clone: its template, only read): the routes ask it before acting, because those
//  calls run with the plugin's own account.
import { createHash } from 'node:crypto';
import { inject, injectable } from 'tsyringe';
import { ConflictError, PermissionError } from '../../shared/errors';
import type { JobAuthorizer, JobTargetRef } from '../jobs/JobAuthorizer';
import type { Caller } from '../jobs/Caller';
import { Logger } from '../logger';
import { OvirtClient } from './OvirtClient';
import { OvirtConfig } from './OvirtConfig';
import { EVERYONE_GROUP_ID, isDirectoryGroup, items, OvApi, OvGroup, OvPermission, OvPermit, Ref, searchValue } from './ovirtModel';

const CONCURRENCY = 8;
const digest = (s: string) => createHash('sha256').update(s).digest('hex');

/** An oVirt answer kept for cache_ttl_sec; the promise, so concurrent checks share one call. */
interface Cached<T> {
  at: number;
  value: Promise<T>;
}

@injectable()
export class OvirtAuthorizer implements JobAuthorizer {
  private readonly users = new Map<string, { at: number; caller: Caller }>();
  private readonly directoryGroups = new Map<string, Cached<OvGroup[]>>();
  private readonly engineGroups = new Map<string, Cached<OvGroup | undefined>>();
  private readonly permits = new Map<string, Cached<Set<string>>>();

  constructor(
    @inject(OvirtClient) private readonly client: OvirtClient,
    @inject(OvirtConfig) private readonly config: OvirtConfig,
    @inject(Logger) private readonly log: Logger,
  ) {}

  /** A caller for a user's oVirt SSO token; AuthError (401) when oVirt refuses it. */
  authenticate = async (token: string): Promise<Caller> => {
    const key = digest(token);
    const known = this.users.get(key);
    const ttl = this.config.userTokenTtlSec * 1000;
    if (known && Date.now() - known.at < ttl) return known.caller;
    const api = await this.client.get<OvApi>('', { userToken: token, filter: true });
    const user = api?.authenticated_user ?? api?.effective_user;
    if (!user?.id) throw new PermissionError('OVIRT_NO_USER', 'oVirt did not say who this token belongs to');
    const details = await this.client.find<Ref & { user_name?: string; principal?: string }>(`/users/${user.id}`);
    const name = details?.user_name ?? details?.principal ?? details?.name ?? user.id;
    const caller: Caller = { name: `ovirt:${name}`, role: this.config.userRole, ovirt: { userId: user.id, token } };
    if (this.users.size > 10_000) this.users.clear();
    this.users.set(key, { at: Date.now(), caller });
    return caller;
  };

  async authorize(caller: Caller, targets: JobTargetRef[]): Promise<void> {
    for (const t of targets) if (t.type === 'template' && !t.readOnly) await this.checkTemplateUnused(t);
    const who = caller.ovirt;
    if (!who) return;
    for (let i = 0; i < targets.length; i += CONCURRENCY) {
      await Promise.all(targets.slice(i, i + CONCURRENCY).map((t) => this.check(caller.name, who, t)));
    }
  }

  private async check(name: string, who: { userId: string; token: string }, t: JobTargetRef): Promise<void> {
    const collection = t.type === 'template' ? 'templates' : 'vms';
    const what = `${t.type === 'template' ? 'template' : 'VM'} "${t.name}"`;
    const visible = await this.client.find<Ref>(`/${collection}/${t.id}`, { userToken: who.token, filter: true });
    if (!visible) {
      throw new PermissionError('OVIRT_NOT_VISIBLE', `${name} does not see ${what} in oVirt`, { [t.type]: t.name });
    }
    const perms = items<OvPermission>(await this.client.get(`/${collection}/${t.id}/permissions`), 'permission');
    const roles = new Set<string>();
    for (const p of perms) if (p.role?.id && !roles.has(p.role.id) && (await this.holds(who.userId, p))) roles.add(p.role.id);
    for (const role of roles) {
      const names = await this.permitsOf(role);
      if (this.config.requiredPermits.some((n) => names.has(n))) return;
    }
    this.log.info('oVirt user lacks the permit', { user: name, target: t.id, required: this.config.requiredPermits });
    throw new PermissionError('OVIRT_NOT_PERMITTED', `${name} holds no role on ${what} with the permit ${this.config.requiredPermits.join(' or ')}`, { [t.type]: t.name, required: this.config.requiredPermits });
  }

  /**
   * oVirt's thin VMs use a template's volumes as their base: writing them (a seal) would
   * corrupt every such VM, for any caller. Asked with search "template.name=<name>";
   * when oVirt cannot answer, the seal is refused rather than risked.
   */
  private async checkTemplateUnused(t: JobTargetRef): Promise<void> {
    let users: Ref[];
    try {
      users = items<Ref>(await this.client.get('/vms', { query: { search: `template.name=${searchValue(t.name, 'template')}`, max: 20 } }), 'vm');
    } catch (err) {
      throw new ConflictError('TEMPLATE_CHECK_FAILED', `could not ask oVirt which VMs use template "${t.name}": not sealing it (${(err as Error).message})`, { template: t.name });
    }
    if (users.length) {
      throw new ConflictError('TEMPLATE_IN_USE', `template "${t.name}" is the base of VMs in oVirt: writing it would corrupt them`, { vms: users.map((v) => v.name ?? v.id) });
    }
  }

  /** The permission is the user's own, Everyone's, or one of his directory groups'. */
  private async holds(userId: string, p: OvPermission): Promise<boolean> {
    if (p.user?.id) return p.user.id === userId;
    const groupId = p.group?.id;
    if (!groupId) return false;
    if (groupId.toLowerCase() === EVERYONE_GROUP_ID) return true;
    const group = await this.cached(this.engineGroups, groupId, () => this.client.find<OvGroup>(`/groups/${groupId}`));
    if (!group) return false;
    const mine = await this.cached(this.directoryGroups, userId, async () => items<OvGroup>(await this.client.find(`/users/${userId}/groups`), 'group'));
    return mine.some((d) => isDirectoryGroup(group, d));
  }

  /** One oVirt call per key and cache_ttl_sec, shared by concurrent checks; a failure is not kept. */
  private cached<T>(cache: Map<string, Cached<T>>, key: string, load: () => Promise<T>): Promise<T> {
    const known = cache.get(key);
    if (known && Date.now() - known.at < this.config.cacheTtlSec * 1000) return known.value;
    if (cache.size > 10_000) cache.clear();
    const value = load();
    cache.set(key, { at: Date.now(), value });
    value.catch(() => cache.get(key)?.value === value && cache.delete(key));
    return value;
  }

  private permitsOf(roleId: string): Promise<Set<string>> {
    return this.cached(this.permits, roleId, async () => new Set(items<OvPermit>(await this.client.get(`/roles/${roleId}/permits`), 'permit').map((p) => p.name ?? '')));
  }
}
