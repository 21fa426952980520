// Users of the UI plugin allowed through groups, against the oVirt API test server whose
// users and groups carry oVirt's real ids (ovirt-engine 0111fc6):
//  * GET /users/{id}/groups: directory groups, id = hex of the directory id
//    (restapi/types/GroupMapper.map(AuthzGroup), utils/DirectoryEntryIdUtils.encode);
//  * a permission names the ENGINE group id; GET /groups/{id} gives its domain_entry_id
//    (GroupMapper.map(DbGroup));
//  * GET /vms/{id}/permissions includes the cluster's, data center's and system's
//    (BackendAssignedPermissionsResource.getInheritedPermissions, fn_get_entity_parents).
// erin and frank are LDAP users (test/fixtures/ovirt/users.json, groups.json,
// permissions.json): erin holds UserVmManager on web-01 only through her group
// vm-operators, granted on web-01's cluster.
import { IDS } from '../../helpers/ovirtApiServer';
import { ovirtHarness, OvirtHarness } from './ovirtHarness';

jest.setTimeout(60_000);

const USER_VM_MANAGER = IDS.roleUserVmManager; // permits.json: holds edit_vm_properties
const USER_ROLE = '00000000-0000-0000-0001-000000000001'; // permits.json: does not

describe('OvirtAuthorizer: permissions through groups (oVirt API test server)', () => {
  let h: OvirtHarness;
  beforeEach(async () => {
    h = await ovirtHarness();
  });
  afterEach(() => h?.close());

  it('lets an LDAP user allowed only through his group, granted on the VM\'s cluster, run a job', async () => {
    const erin = h.ovirt.tokenFor('erin@example.com');
    const r = await h.api('POST', `/vms/${IDS.web01}/sysprep`, { dryRun: true }, erin);
    expect(r.status).toBe(202);
    expect(r.body.job.requestedBy).toBe('ovirt:erin@example.com-authz');
    // The permission's engine group was looked up, and matched against her directory groups.
    expect(h.ovirt.calls.some((c) => c.path === '/groups/6f6f6f6f-0000-4000-8000-00000000aa02')).toBe(true);
    expect(h.ovirt.calls.some((c) => c.path === `/users/${IDS.erin}/groups`)).toBe(true);
  });

  it('refuses (403) a user of the same directory who is not in the group', async () => {
    // frank sees web-01 through a role without the permit; vm-operators is not his group.
    h.ovirt.permissions[IDS.web01].permission.push({
      id: 'e1e1e1e1-0000-4000-8000-0000000000f1',
      role: { id: USER_ROLE },
      user: { id: IDS.frank },
      vm: { id: IDS.web01 },
    });
    const frank = h.ovirt.tokenFor('frank@example.com');
    const r = await h.api('POST', `/vms/${IDS.web01}/sysprep`, { dryRun: true }, frank);
    expect(r).toMatchObject({ status: 403, body: { error: { code: 'OVIRT_NOT_PERMITTED' } } });
    expect(h.agent.startCalls).toEqual([]);
  });

  it('does not take a group of another authz domain with the same directory id for the user\'s', async () => {
    // db-01: erin holds UserRole (she sees it); UserVmManager is held by vm-operators of
    // internal-authz, whose external id equals her LDAP group's.
    const erin = h.ovirt.tokenFor('erin@example.com');
    const r = await h.api('POST', `/vms/${IDS.db01}/sysprep`, { dryRun: true }, erin);
    expect(r).toMatchObject({ status: 403, body: { error: { code: 'OVIRT_NOT_PERMITTED' } } });
  });

  it('still lets anyone run a VM on which Everyone holds the role', async () => {
    const vm = h.ovirt.addVm({ name: 'open-01' });
    // Guid.EVERYONE: every session holds it (engine_session_user_flat_groups).
    h.ovirt.permissions[vm.id] = { permission: [{ id: 'e1e1e1e1-0000-4000-8000-0000000000e1', role: { id: USER_VM_MANAGER }, group: { id: 'eee00000-0000-0000-0000-123456789eee' }, vm: { id: vm.id } }] };
    const bob = h.ovirt.tokenFor('bob@internal');
    const r = await h.api('POST', `/vms/${vm.id}/sysprep`, { dryRun: true }, bob);
    expect(r.status).toBe(202);
    // Everyone needs no group lookup.
    expect(h.ovirt.calls.some((c) => c.path.startsWith('/groups/') || c.path.endsWith('/groups'))).toBe(false);
  });

  it('lets a user allowed through his group on the System object seal a template (inherited permission)', async () => {
    h.ovirt.vms = []; // no VM is based on golden-el9: the seal is allowed for any caller
    h.ovirt.objectPermissions['aaa00000-0000-0000-0000-123456789aaa'].permission.push({
      id: 'e1e1e1e1-0000-4000-8000-0000000000a1',
      role: { id: USER_VM_MANAGER },
      group: { id: '6f6f6f6f-0000-4000-8000-00000000aa02' }, // vm-operators of example.com-authz
    });
    const erin = h.ovirt.tokenFor('erin@example.com');
    const r = await h.api('POST', `/templates/${IDS.golden}/sysprep`, { dryRun: true }, erin);
    expect(r.status).toBe(202);
    expect(h.ovirt.calls.some((c) => c.path === `/templates/${IDS.golden}/permissions`)).toBe(true);
    const frank = h.ovirt.tokenFor('frank@example.com');
    expect((await h.api('POST', `/templates/${IDS.golden}/sysprep`, { dryRun: true }, frank))).toMatchObject({ status: 403, body: { error: { code: 'OVIRT_NOT_PERMITTED' } } });
  });
});
