// The API's refusals in front of a REAL agent (nothing is spawned for any of them):
// running VM -> 409 VM_NOT_DOWN; unknown VM -> 404; bad body -> 400 naming the field;
// no token -> 401; viewer posting a sysprep -> 403; operator sending a script -> 403.
import * as path from 'node:path';
import { AgentClient } from '../../../shared/agentClient';
import { copyGuestImage } from '../../helpers/guestImage';
import { OPERATOR, Stack, startStack, VIEWER } from './stack';

jest.setTimeout(5 * 60_000);

describe('API refusals with a real agent', () => {
  let s: Stack;
  let vmId: string;
  beforeAll(async () => {
    s = await startStack();
    const disk = path.join(s.storage, 'vm1.qcow2');
    await copyGuestImage(disk);
    vmId = (await s.api('POST', '/vms', { name: 'vm1', disks: [{ path: disk }] })).body.vm.id;
  });
  afterAll(() => s?.close());

  it('answers 409 VM_NOT_DOWN for a running VM', async () => {
    await s.api('POST', `/vms/${vmId}/start`);
    const r = await s.api('POST', `/vms/${vmId}/sysprep`, { profile: 'clone-reset' });
    expect(r.status).toBe(409);
    expect(r.body.error.code).toBe('VM_NOT_DOWN');
    await s.api('POST', `/vms/${vmId}/stop`);
  });

  it('answers 404 for an unknown VM', async () => {
    const r = await s.api('POST', '/vms/nope/sysprep', {});
    expect(r.status).toBe(404);
    expect(r.body.error.code).toBe('VM_NOT_FOUND');
  });

  it('answers 400 naming the field for a bad body', async () => {
    const r = await s.api('POST', `/vms/${vmId}/sysprep`, { operations: { enable: ['ssh-hostkeys', 'teleport'] } });
    expect(r.status).toBe(400);
    expect(r.body.error).toMatchObject({ code: 'UNKNOWN_OPERATION', details: { field: 'operations.enable[1]' } });
  });

  it('answers 401 without a token', async () => {
    expect((await s.api('POST', `/vms/${vmId}/sysprep`, {}, null)).status).toBe(401);
  });

  it('answers 403 to a viewer posting a sysprep', async () => {
    const r = await s.api('POST', `/vms/${vmId}/sysprep`, {}, VIEWER);
    expect(r.status).toBe(403);
  });

  it('answers 403 naming params.scripts to an operator sending a script', async () => {
    const r = await s.api('POST', `/vms/${vmId}/sysprep`, { params: { scripts: ['#!/bin/sh\nrm -rf /srv\n'] } }, OPERATOR);
    expect(r.status).toBe(403);
    expect(r.body.error.details.field).toBe('params.scripts');
  });

  it('sent nothing to the agent for any of them', async () => {
    const client = new AgentClient({ address: s.agent.address, tls: { caFile: s.pki.caCert, certFile: s.pki.clientCert, keyFile: s.pki.clientKey } });
    try {
      expect(await client.listJobs()).toHaveLength(0);
    } finally {
      client.close();
    }
  });

  it('lists the operations of the installed virt-sysprep and the agent as healthy', async () => {
    const ops = (await s.api('GET', '/operations', undefined, VIEWER)).body.items.map((o: { name: string }) => o.name);
    expect(ops).toEqual(expect.arrayContaining(['machine-id', 'ssh-hostkeys', 'customize', 'net-nmconn']));
    const hosts = (await s.api('GET', '/hosts', undefined, VIEWER)).body.items;
    expect(hosts[0]).toMatchObject({ id: 'e2e-host', healthy: true, hypervisor: 'tcg' });
  });
});
