// Power actions on the libvirt inventory against a REAL libvirtd (qemu:///system, started
// by helpers/libvirtd.ts when it is not running), through the real HTTP API and the real
// CLI: start boots the domain (libvirt reports it running), a sysprep is then refused 409
// VM_NOT_DOWN, an ACPI shutdown that the guest ignores answers the VM still up after its
// timeout, stop destroys it (shut off). The domain is of type qemu with no OS (it sits in
// the firmware, which holds its disk like a real guest and ignores the ACPI power button)
// and NO network interface; it is named `lvpow-<pid>-*` and afterAll destroys and
// undefines it. No virt-sysprep runs here (the refusal comes before any job).
import 'reflect-metadata';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { cli as cliOf, removeDomains, startLibvirtEngine, startLibvirtStack, virsh } from './libvirtStack';
import { OPERATOR, Stack, VIEWER } from '../engine/stack';

jest.setTimeout(4 * 60_000);

const execFileAsync = promisify(execFile);

const PREFIX = `lvpow-${process.pid}-`;
const VM = `${PREFIX}a`;

describe('libvirt power actions against a real libvirtd', () => {
  let s: Stack;
  let uuid: string;
  /** libvirt's own word on the domain's state, not the engine's. */
  const domstate = async () => (await virsh('domstate', '--domain', uuid)).trim();
  const cli = (args: string[]) => cliOf(s, args);

  beforeAll(async () => {
    s = await startLibvirtStack();
    const disk = path.join(s.storage, `${VM}.qcow2`);
    await execFileAsync('qemu-img', ['create', '-q', '-f', 'qcow2', disk, '16M']);
    const xml = path.join(s.dir, `${VM}.xml`);
    writeFileSync(xml, `<domain type='qemu'>
  <name>${VM}</name>
  <memory unit='MiB'>64</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64'>hvm</type></os>
  <features><acpi/></features>
  <devices><disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='${disk}'/><target dev='vda' bus='virtio'/></disk></devices>
</domain>`);
    await virsh('define', '--file', xml);
    uuid = (await virsh('domuuid', '--domain', VM)).trim();
    await startLibvirtEngine(s);
  });

  afterAll(async () => {
    await removeDomains(PREFIX); // by prefix, not by the names above: whatever happened
    await s?.close();
  });

  it('starts the domain through the API; sysprep is then refused 409 VM_NOT_DOWN; stop destroys it', async () => {
    expect(await domstate()).toBe('shut off');
    const started = await s.api('POST', `/vms/${VM}/start`, undefined, OPERATOR);
    expect(started).toMatchObject({ status: 200, body: { id: uuid, name: VM, status: 'up' } });
    expect(await domstate()).toBe('running');
    // Again: answered as it is, not an error.
    expect(await s.api('POST', `/vms/${uuid}/start`, undefined, OPERATOR)).toMatchObject({ status: 200, body: { status: 'up' } });

    const refused = await s.api('POST', `/vms/${VM}/sysprep`, { profile: 'clone-reset' });
    expect(refused).toMatchObject({ status: 409, body: { error: { code: 'VM_NOT_DOWN', details: { vm: VM, status: 'up' } } } });
    expect((await s.api('GET', `/jobs?vm=${uuid}`)).body.items).toEqual([]);

    const stopped = await s.api('POST', `/vms/${VM}/stop`, undefined, OPERATOR);
    expect(stopped).toMatchObject({ status: 200, body: { id: uuid, status: 'down' } });
    expect(await domstate()).toBe('shut off');
    expect(await s.api('POST', `/vms/${VM}/stop`, undefined, OPERATOR)).toMatchObject({ status: 200, body: { status: 'down' } });
    // A viewer may not act.
    expect((await s.api('POST', `/vms/${VM}/start`, undefined, VIEWER)).status).toBe(403);
    expect(await domstate()).toBe('shut off');
  });

  it('shutdown sends ACPI and answers the VM as it is after timeoutSec; a guest that ignores it stays up', async () => {
    await virsh('start', '--domain', VM);
    const t0 = Date.now();
    const answer = await s.api('POST', `/vms/${VM}/shutdown`, { timeoutSec: 2 }, OPERATOR);
    const took = Date.now() - t0;
    // The firmware has no ACPI handler: the request was delivered, nothing powered off.
    expect(answer).toMatchObject({ status: 200, body: { id: uuid, status: 'up' } });
    expect(took).toBeGreaterThanOrEqual(2_000);
    expect(took).toBeLessThan(15_000);
    expect(await domstate()).toBe('running');
    expect(await s.api('POST', `/vms/${VM}/shutdown`, { timeoutSec: 'soon' }, OPERATOR)).toMatchObject({ status: 400, body: { error: { details: { field: 'timeoutSec' } } } });
    expect(await s.api('POST', `/vms/${VM}/shutdown`, { timeoutSec: 601 }, OPERATOR)).toMatchObject({ status: 400, body: { error: { details: { field: 'timeoutSec' } } } });
  });

  it('vm start | shutdown | stop from the CLI', async () => {
    // Running from the test before: start is harmless, shutdown times out (exit 1 with the hint), stop works.
    expect(await cli(['vm', 'start', VM])).toEqual({ code: 0, out: `VM ${VM} is up\n`, err: '' });
    const shutdown = await cli(['vm', 'shutdown', VM, '--timeout', '1']);
    expect(shutdown).toMatchObject({ code: 1, out: `VM ${VM} is up\n` });
    expect(shutdown.err).toMatch(new RegExp(`did not power off within 1 s.*ovirt-sysprep vm stop ${VM}`));
    expect(await cli(['vm', 'stop', VM, '-o', 'json'])).toMatchObject({ code: 0, out: expect.stringContaining('"status": "down"') });
    expect(await domstate()).toBe('shut off');
    // A shut-off VM: shutdown answers at once, exit 0.
    expect(await cli(['vm', 'shutdown', VM])).toEqual({ code: 0, out: `VM ${VM} is down\n`, err: '' });
    expect(await cli(['vm', 'shutdown', VM, '--timeout', 'x'])).toMatchObject({ code: 2, err: expect.stringMatching(/--timeout must be/) });
  });
});
