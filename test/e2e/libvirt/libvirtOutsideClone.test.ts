// Clones made OUTSIDE the product, against a REAL libvirtd (qemu:///system) and the real
// virt-sysprep: a template domain on a copy of the fixture guest image; then, as an
// administrator would without the product, `qemu-img create -b TEMPLATE` + `virsh define`
// of an XML using the overlay. The engine's libvirt event watcher sees the definition,
// finds the template's disk in the overlay's backing chain and resets the domain (a job of
// kind auto-reset, succeeded: hostname from the domain name, a new machine-id, the
// template's file unchanged); the template's seal is refused 409 TEMPLATE_IN_USE while that
// clone exists. A second outside clone, started at once (define and start in one virsh
// run), gets a failed auto-reset job VM_NOT_DOWN and its overlay is untouched. Domains are
// of type qemu with no network interface, named `lvout-<pid>-*`; afterAll undefines all.
import 'reflect-metadata';
import { execFile } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { METADATA_NS } from '../../../engine-plugin/libvirt/libvirtModel';
import { guestRead, sha256File } from '../../helpers/disk';
import { copyGuestImage, GOLDEN_HOSTNAME, GOLDEN_MACHINE_ID, IDENTITY_PATHS } from '../../helpers/guestImage';
import { LIBVIRT_URI } from '../../helpers/libvirtd';
import type { Stack } from '../engine/stack';
import { domainXml, fileDisk, removeDomains, startLibvirtEngine, startLibvirtStack, virsh } from './libvirtStack';

jest.setTimeout(10 * 60_000);

const execFileAsync = promisify(execFile);
const PREFIX = `lvout-${process.pid}-`;
const TPL = `${PREFIX}tpl`;
const CLONE = `${PREFIX}clone`;
const EARLY = `${PREFIX}early`;

interface JobRow {
  id: string;
  kind: string;
  state: string;
  target: { id: string; name: string };
  error?: { code: string; message: string };
}

describe('clones made outside the product on libvirt (events, backing chains, automatic reset)', () => {
  let s: Stack;
  const f: Record<string, string> = {};

  const jobsOf = async (name: string): Promise<JobRow[]> => ((await s.api('GET', '/jobs?limit=200')).body.items as JobRow[]).filter((j) => j.target.name === name);
  /** The first job of kind auto-reset on `name`, waited for. */
  const autoResetOf = async (name: string, withinMs: number): Promise<JobRow> => {
    const end = Date.now() + withinMs;
    for (;;) {
      const job = (await jobsOf(name)).find((j) => j.kind === 'auto-reset');
      if (job) return job;
      if (Date.now() > end) throw new Error(`no auto-reset job for ${name} after ${withinMs} ms`);
      await new Promise((r) => setTimeout(r, 250));
    }
  };
  const overlay = async (name: string) => {
    const file = path.join(s.storage, `${name}.qcow2`);
    await execFileAsync('qemu-img', ['create', '-q', '-f', 'qcow2', '-b', f.tpl, '-F', 'qcow2', file]);
    chmodSync(file, 0o644);
    const xml = path.join(s.dir, `${name}.xml`);
    writeFileSync(xml, domainXml(name, fileDisk(file)));
    return { file, xml };
  };

  beforeAll(async () => {
    s = await startLibvirtStack();
    f.tpl = path.join(s.storage, `${TPL}.qcow2`);
    await copyGuestImage(f.tpl);
    const xml = path.join(s.dir, `${TPL}.xml`);
    writeFileSync(xml, domainXml(TPL, fileDisk(f.tpl)));
    await virsh('define', '--file', xml);
    await virsh('metadata', '--domain', TPL, '--uri', METADATA_NS.template, '--key', 'ovirt-sysprep', '--set', '<template/>');
    f.tplSum = await sha256File(f.tpl);
    await startLibvirtEngine(s);
    // The watcher's child is up once it has been spawned and virsh has connected.
    await new Promise((r) => setTimeout(r, 1500));
  });

  afterAll(async () => {
    await removeDomains(PREFIX);
    await s?.close();
  });

  it('resets an overlay of the template defined with virsh behind the engine\'s back, before anyone starts it', async () => {
    const c = await overlay(CLONE);
    await virsh('define', '--file', c.xml);
    const uuid = (await virsh('domuuid', '--domain', CLONE)).trim();
    const row = await autoResetOf(CLONE, 90_000);
    expect(row.target.id).toBe(uuid);
    const job = await s.waitJob(row.id, 8 * 60_000);
    expect(job).toMatchObject({ kind: 'auto-reset', state: 'succeeded', profile: 'clone-reset', host: s.agent.hostId });
    expect(job.requestedBy).toContain('libvirt_defined');
    expect(s.engine!.libvirtEvents!.status.triggered).toBeGreaterThanOrEqual(1);
    // The new domain shows at once (its XML cache dropped on the event) and is down.
    expect((await s.api('GET', `/vms/${CLONE}`)).body).toMatchObject({ id: uuid, status: 'down' });

    const files = await guestRead(c.file, [IDENTITY_PATHS.hostname, '/etc/machine-id']);
    expect(files[IDENTITY_PATHS.hostname]?.trim()).toBe(CLONE);
    expect(files[IDENTITY_PATHS.hostname]?.trim()).not.toBe(GOLDEN_HOSTNAME);
    expect(files['/etc/machine-id']?.trim()).toMatch(/^[0-9a-f]{32}$/);
    expect(files['/etc/machine-id']?.trim()).not.toBe(GOLDEN_MACHINE_ID);
    expect(await sha256File(f.tpl)).toBe(f.tplSum);
    expect((await jobsOf(CLONE)).filter((j) => j.kind === 'auto-reset')).toHaveLength(1);
  });

  it('refuses to seal the template while that clone (no clone metadata, only its backing chain) exists: 409 TEMPLATE_IN_USE', async () => {
    const before = (await s.api('GET', '/jobs?limit=200')).body.items.length;
    expect(await s.api('POST', `/templates/${TPL}/sysprep`, {})).toMatchObject({ status: 409, body: { error: { code: 'TEMPLATE_IN_USE', details: { vms: [CLONE] } } } });
    expect((await s.api('GET', '/jobs?limit=200')).body.items).toHaveLength(before);
    expect(await sha256File(f.tpl)).toBe(f.tplSum);
  });

  it('skips the reset of an outside clone started before it could run: a failed auto-reset job VM_NOT_DOWN, its disk untouched', async () => {
    const c = await overlay(EARLY);
    const sum = await sha256File(c.file);
    // define and start in one virsh run: the domain runs before the engine looks at it.
    await execFileAsync('virsh', ['-q', '-c', LIBVIRT_URI, `define --file ${c.xml} ; start --domain ${EARLY}`], { timeout: 120_000 });
    expect((await virsh('domstate', '--domain', EARLY)).trim()).toBe('running');
    const row = await autoResetOf(EARLY, 90_000);
    expect(row).toMatchObject({ kind: 'auto-reset', state: 'failed', error: { code: 'VM_NOT_DOWN' } });
    expect(row.error!.message).toMatch(/started before its automatic reset/);
    expect(s.engine!.libvirtEvents!.status.skipped).toBeGreaterThanOrEqual(1);
    await virsh('destroy', '--domain', EARLY);
    // Nothing else was started on it, and nothing wrote its overlay.
    await new Promise((r) => setTimeout(r, 3000));
    expect((await jobsOf(EARLY)).map((j) => j.state)).toEqual(['failed']);
    expect(await sha256File(c.file)).toBe(sum);
    expect(await sha256File(f.tpl)).toBe(f.tplSum);
  });
});
