// Contract tests of the oVirt client and inventory adapter against the oVirt API test
// server (fixtures of oVirt 4.5's JSON): SSO login and renewal on 401, TLS against the
// engine CA, the mapping of disks to vdsm drive paths, statuses, pools, hosts, and
// paging through a 10,000-VM inventory one oVirt request per page.
import 'reflect-metadata';
import * as os from 'node:os';
import * as path from 'node:path';
import { withDefaults } from '../../../engine-plugin/config';
import { createLogger } from '../../../engine-plugin/logger';
import { OvirtClient } from '../../../engine-plugin/ovirt/OvirtClient';
import { OvirtConfig, ovirtWithDefaults } from '../../../engine-plugin/ovirt/OvirtConfig';
import { OvirtInventory } from '../../../engine-plugin/ovirt/OvirtInventory';
import { IDS, OvirtApiServer, PASSWORDS, vdsmVolumePath } from '../../helpers/ovirtApiServer';
import { makeTestPki, TestPki } from '../../helpers/tls';

const MNT = '/rhev/data-center/mnt';
const log = createLogger('error', '');

describe('oVirt client and inventory (contract, oVirt API test server)', () => {
  let server: OvirtApiServer;
  let pki: TestPki;
  let config: OvirtConfig;
  const clients: OvirtClient[] = [];
  const client = (extra: Partial<OvirtConfig> = {}) => {
    const c = new OvirtClient({ ...config, ...extra }, log);
    clients.push(c);
    return c;
  };
  const inventory = (c = client(), extra: Partial<OvirtConfig> = {}) => new OvirtInventory(c, { ...config, ...extra }, withDefaults({}), log);

  beforeAll(async () => {
    pki = await makeTestPki(path.join(os.tmpdir(), `ovirt-inv-pki-${process.pid}`));
  });
  beforeEach(async () => {
    server = new OvirtApiServer();
    await server.start({ cert: pki.serverCert, key: pki.serverKey });
    config = ovirtWithDefaults({ url: server.url, caFile: pki.caCert, username: 'admin@internal', password: PASSWORDS['admin@internal'], mountRoot: MNT, agentPort: 54323 });
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    await server.stop();
  });

  describe('SSO', () => {
    it('logs in once with the password grant and scope ovirt-app-api, shared by concurrent calls', async () => {
      const c = client();
      await Promise.all([c.get('/hosts'), c.get('/storagedomains'), c.get('/vms')]);
      expect(server.logins).toEqual(['admin@internal']);
      expect(server.calls.every((x) => x.user === 'admin@internal')).toBe(true);
    });

    it('renews an expired token on 401 once and repeats the call', async () => {
      const c = client();
      await c.get('/hosts');
      server.expireTokens();
      const hosts = await c.get<{ host: unknown[] }>('/hosts');
      expect(hosts.host).toHaveLength(2);
      expect(server.logins).toEqual(['admin@internal', 'admin@internal']);
      expect(server.calls.map((x) => x.path)).toEqual(['/hosts', '/hosts', '/hosts']);
      expect(c.stats.renewals).toBe(1);
    });

    it('reports a refused login without the password', async () => {
      const c = client({ password: 'wrong-password' });
      const err = (await c.get('/hosts').catch((e: unknown) => e)) as Error;
      expect(err).toMatchObject({ code: 'OVIRT_LOGIN_FAILED', kind: 'unavailable' });
      expect(err.message).toContain('admin@internal');
      expect(err.message).not.toContain('wrong-password');
    });

    it('verifies TLS against the engine CA file: another CA is refused', async () => {
      const err = await client({ caFile: pki.otherCaCert }).get('/hosts').catch((e) => e);
      expect(err).toMatchObject({ code: 'OVIRT_UNREACHABLE' });
      expect(server.logins).toEqual([]);
    });

    it('sends Accept: application/json, Correlation-Id and Filter when asked', async () => {
      const c = client();
      await c.get(`/vms/${IDS.web01}`, { correlationId: 'job-123' });
      expect(server.calls.at(-1)).toMatchObject({ path: `/vms/${IDS.web01}`, correlationId: 'job-123', filter: false });
      // A user's token is never renewed: its 401 is the user's problem.
      const token = server.tokenFor('alice@internal');
      server.expireTokens();
      await expect(c.get('', { userToken: token, filter: true })).rejects.toMatchObject({ kind: 'unauthenticated' });
      expect(server.calls.at(-1)).toMatchObject({ filter: true });
    });
  });

  describe('mapping to drive paths', () => {
    // Mount directories as vdsm makes them (oVirt/vdsm fd4b0df, lib/vdsm/storage/storageServer.py
    // MountConnection._getLocalPath / LocalDirectoryConnection._getLocalPath with
    // fileUtils.transformPath(normalize_path(...)); test/unit/ovirt/ovirtModel.test.ts has the rules).
    it.each([
      ['NFS', IDS.sdNfs, 'nfs.example.com:_exports_data'],
      ['NFS, "_" in the path', IDS.sdVmData, 'nfs.example.com:_exports_vm__data'],
      ['local', IDS.sdLocal, '_data_images'],
      ['Gluster "server:vol"', IDS.sdGluster, 'glusterSD/gluster.example.com:vmstore'],
      ['POSIX (CephFS), trailing "/"', IDS.sdCephfs, 'ceph.example.com:_vm__store'],
    ])('%s domain %s -> <mount root>/%s/<sd>/images/<disk>/<volume>', async (_kind, sd, dir) => {
      const vm = server.addVm({ name: `vm-${sd.slice(-2)}`, sd, diskId: 'dddddddd-0000-4000-8000-000000000001', volumeId: 'eeeeeeee-0000-4000-8000-000000000001', format: 'raw' });
      const got = await inventory().getVm(vm.id);
      expect(got?.disks).toEqual([{ path: `${MNT}/${dir}/${sd}/images/dddddddd-0000-4000-8000-000000000001/eeeeeeee-0000-4000-8000-000000000001`, format: 'raw', storageDomain: sd, status: 'ok' }]);
    });

    it('agrees with the simulator\'s own model of vdsm on every file domain of the fixtures', async () => {
      // Two readings of vdsm written apart (ovirtModel.domainDir, helpers vdsmVolumePath): the
      // e2e tests lay disks out with the second, so they only pass if both agree.
      const files = server.storageDomains.filter((sd) => ['nfs', 'posixfs', 'glusterfs', 'localfs'].includes(sd.storage.type));
      expect(files.length).toBeGreaterThanOrEqual(5);
      for (const sd of files) {
        const vm = server.addVm({ name: `agree-${sd.id.slice(-2)}`, sd: sd.id, diskId: 'dddddddd-0000-4000-8000-000000000003', volumeId: 'eeeeeeee-0000-4000-8000-000000000003' });
        const got = await inventory().getVm(vm.id);
        expect(got?.disks[0].path).toBe(vdsmVolumePath(MNT, sd, 'dddddddd-0000-4000-8000-000000000003', 'eeeeeeee-0000-4000-8000-000000000003'));
      }
    });

    it.each([
      ['iSCSI', IDS.sdIscsi, /block storage domain data-iscsi \(iscsi\)/],
      ['FC', IDS.sdFc, /block storage domain data-fc \(fcp\)/],
    ])('marks a disk on a %s (block) domain unsupported, on a path no agent serves', async (_kind, sd, why) => {
      const vm = server.addVm({ name: `blk-${sd.slice(-2)}`, sd, diskId: 'dddddddd-0000-4000-8000-000000000002', format: 'raw' });
      const got = await inventory().getVm(vm.id);
      expect(got?.disks).toEqual([{ path: 'ovirt-disk:dddddddd-0000-4000-8000-000000000002', format: 'raw', storageDomain: sd, status: 'ok', unsupported: expect.stringMatching(why) }]);
    });

    it('marks a direct LUN unsupported', async () => {
      const vm = server.addVm({ name: 'lun-vm' });
      // A direct LUN disk as the API shows it (ovirt-engine-api-model types/Disk.java:
      // storage_type "lun", lun_storage with logical units, no image_id, no storage domain).
      const att = vm.disk_attachments.disk_attachment[0];
      att.disk = { href: att.disk.href, id: att.disk.id, alias: 'lun-vm_Disk1', status: 'ok', storage_type: 'lun', lun_storage: { type: 'iscsi', logical_units: { logical_unit: [{ id: '36001405f00dcafe' }] } } };
      const got = await inventory().getVm(vm.id);
      expect(got?.disks).toEqual([{ path: `ovirt-disk:${att.disk.id}`, format: 'raw', status: 'ok', unsupported: expect.stringMatching(/direct LUN \(36001405f00dcafe\)/) }]);
    });

    it('maps a VM: status, host, template, pool, active disks only, cow -> qcow2', async () => {
      const inv = inventory();
      const web = await inv.getVm('web-01');
      expect(web).toMatchObject({
        id: IDS.web01, name: 'web-01', status: 'down', hostId: IDS.host1, templateId: IDS.golden,
        disks: [{ path: `${MNT}/nfs.example.com:_exports_data/${IDS.sdNfs}/images/a0a0a0a0-1111-4222-8333-444455556601/b1b1b1b1-2222-4333-8444-555566667701`, format: 'qcow2', storageDomain: IDS.sdNfs }],
      });
      const db = await inv.getVm(IDS.db01);
      expect(db?.status).toBe('up');
      expect(db?.templateId).toBeUndefined(); // Blank
      expect(db?.disks.map((d) => d.path)).toEqual([
        `${MNT}/glusterSD/gluster.example.com:vmstore/${IDS.sdGluster}/images/a0a0a0a0-1111-4222-8333-444455556602/b1b1b1b1-2222-4333-8444-555566667702`,
        `${MNT}/_data_images/${IDS.sdLocal}/images/a0a0a0a0-1111-4222-8333-444455556603/b1b1b1b1-2222-4333-8444-555566667703`,
      ]);
      expect((await inv.getVm(IDS.lab1))?.poolId).toBe(IDS.poolLab);
      expect(await inv.getVm('no-such-vm')).toBeUndefined();
      expect(await inv.getVm('99999999-0000-4000-8000-000000000000')).toBeUndefined();
    });

    it.each([
      ['down', 'down'], ['up', 'up'], ['paused', 'up'], ['migrating', 'up'], ['powering_up', 'powering_up'], ['wait_for_launch', 'powering_up'],
      ['powering_down', 'powering_down'], ['image_locked', 'image_locked'], ['suspended', 'unknown'], ['unknown', 'unknown'],
    ])('oVirt status %s -> %s', async (ovirtStatus, status) => {
      const vm = server.addVm({ name: `s-${ovirtStatus}`, status: ovirtStatus });
      expect((await inventory().getVm(vm.id))?.status).toBe(status);
    });

    it('maps templates, pools (with their VMs) and hosts (agent = host address : agent_port)', async () => {
      const inv = inventory();
      expect(await inv.getTemplate('golden-el9')).toMatchObject({ id: IDS.golden, disks: [{ format: 'qcow2' }] });
      expect(await inv.getPool('lab')).toEqual({ id: IDS.poolLab, name: 'lab', templateId: IDS.golden, vmIds: [IDS.lab1] });
      expect(await inv.listHosts()).toEqual([
        { id: IDS.host1, name: 'host-01', agentAddress: '127.0.0.1:54323', storageRoots: [MNT] },
        { id: IDS.host2, name: 'host-02', agentAddress: 'host-02.example.com:54323', storageRoots: [MNT] },
      ]);
      // A [host:ID] section overrides one host's agent (by oVirt id or name).
      const over = new OvirtInventory(client(), config, withDefaults({ hosts: [{ id: 'host-02', address: '10.0.0.2:6000', storageRoots: ['/srv/mnt'] }] }), log);
      expect((await over.listHosts())[1]).toMatchObject({ agentAddress: '10.0.0.2:6000', storageRoots: ['/srv/mnt'] });
    });

    it('keeps the hosts it knows when oVirt is unreachable (the agent pool refreshes on a timer)', async () => {
      const inv = inventory(client(), { cacheTtlSec: 1 });
      expect(await inv.listHosts()).toHaveLength(2);
      await new Promise((r) => setTimeout(r, 1100));
      server.down = 503;
      expect(await inv.listHosts()).toHaveLength(2);
    });
  });

  describe('large inventories', () => {
    beforeEach(() => {
      for (let i = 0; i < 10_000; i++) server.addVm({ name: `pool-vm-${String(i).padStart(5, '0')}` });
    });

    it('pages through 10,000 VMs: one oVirt request per page, max=<limit>, "sortby name asc page N"', async () => {
      const inv = inventory();
      const first = await inv.listVms({ limit: 100 });
      expect(first.items).toHaveLength(100);
      expect(first.next).toBe('2');
      const vmCalls = () => server.calls.filter((c) => c.path === '/vms');
      expect(vmCalls()).toHaveLength(1);
      expect(vmCalls()[0].query).toMatchObject({ max: '100', search: 'sortby name asc page 1', follow: 'disk_attachments.disk' });
      const later = await inv.listVms({ limit: 100, cursor: '51' });
      expect(later.items[0].name).toBe('pool-vm-04998'); // db-01 and lab-1 sort first
      expect(vmCalls()).toHaveLength(2);
      // The last page has no next cursor; a filtered listing pages the same way.
      const last = await inv.listVms({ limit: 1000, cursor: '11' });
      expect(last.items.map((v) => v.name)).toEqual(['pool-vm-09998', 'pool-vm-09999', 'web-01']);
      expect(last.next).toBeUndefined();
      const filtered = await inv.listVms({ search: 'vm-0999', limit: 5 });
      expect(filtered.items.map((v) => v.name)).toEqual(['pool-vm-09990', 'pool-vm-09991', 'pool-vm-09992', 'pool-vm-09993', 'pool-vm-09994']);
      expect(vmCalls().at(-1)?.query.search).toBe('name=*vm-0999* sortby name asc page 1');
    });

    it('serves a repeated page from the cache within cache_ttl_sec; getVm always asks oVirt', async () => {
      const inv = inventory();
      await inv.listVms({ limit: 100 });
      await inv.listVms({ limit: 100 });
      expect(server.calls.filter((c) => c.path === '/vms')).toHaveLength(1);
      await inv.getVm(IDS.web01);
      await inv.getVm(IDS.web01);
      expect(server.calls.filter((c) => c.path === `/vms/${IDS.web01}`)).toHaveLength(2);
    });

    it('refuses a search oVirt could misread', async () => {
      await expect(inventory().listVms({ search: 'a" or name=*' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', details: { field: 'search' } });
    });
  });
});
