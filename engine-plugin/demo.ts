// `npm run demo`: a single-machine engine (local agent, embedded inventory) on a
// temporary data dir; registers the fixture guest image as a template, clones three VMs
// and follows their automatic resets over the API's Server-Sent Events to the end.
// `npm run demo -- --libvirt`: the same on a real libvirtd (inventory = libvirt, started
// when not running): a template domain, three clones held until their resets end, one
// started (a sysprep on it is refused), stopped, then reset; every domain removed at
// the end. Domains are of type qemu with no network interface.
import 'reflect-metadata';
import { chmodSync, copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { cachedGuestImage } from '../test/helpers/guestImage';
import { ensureLibvirtd } from '../test/helpers/libvirtd';
import { withDefaults } from './config';
import { libvirtWithDefaults } from './libvirt/LibvirtConfig';
import { startLocalStack } from './local';

const say = (s: string) => process.stdout.write(`${s}\n`);

/** A call of the API; answers are read loosely: a demo prints them. */
type Call = (method: string, p: string, body?: unknown) => Promise<any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** The API with the stack's token; throws with the answer on a non-2xx status. */
function apiOf(base: string, token: string): Call {
  return async (method, p, body) => {
    const res = await fetch(`${base}${p}`, { method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
    const json = res.status === 204 ? {} : await res.json();
    if (!res.ok) throw new Error(`${method} ${p}: ${JSON.stringify(json)}`);
    return json;
  };
}

/** Follows jobs over Server-Sent Events to their end, printing operations and states. */
async function follow(base: string, token: string, jobs: { vmName: string; jobId: string }[], started: number): Promise<void> {
  await Promise.all(jobs.map(async ({ vmName, jobId }) => {
    const res = await fetch(`${base}/jobs/${jobId}/events`, { headers: { authorization: `Bearer ${token}` } });
    const decoder = new TextDecoder();
    let buf = '';
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      buf += decoder.decode(chunk, { stream: true });
      let i: number;
      while ((i = buf.indexOf('\n\n')) >= 0) {
        const block = buf.slice(0, i);
        buf = buf.slice(i + 2);
        const type = /^event: (\w+)/m.exec(block)?.[1];
        const data = JSON.parse(/^data: (.*)$/m.exec(block)?.[1] ?? 'null');
        const secs = ((Date.now() - started) / 1000).toFixed(1).padStart(5);
        if (type === 'operation') say(`[${secs}] ${vmName.padEnd(6)} ${String(data.progress?.done ?? '').padStart(2)}/${data.progress?.total ?? ''} ${data.operation}`);
        if (type === 'state') say(`[${secs}] ${vmName.padEnd(6)} ${data.state}${data.error ? `: ${data.error.code} ${data.error.message}` : ''}`);
      }
    }
  }));
}

async function main(): Promise<void> {
  if (process.argv.includes('--libvirt')) return libvirtDemo();
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'ovirt-sysprep-demo-'));
  say(`data dir: ${dataDir}`);
  say('preparing the fixture guest image (Debian-like, built once and cached) ...');
  const image = await cachedGuestImage();
  const stack = await startLocalStack(withDefaults({ dataDir, listen: '127.0.0.1:0', logLevel: 'warn' }), { max_jobs: '2', hypervisor: 'auto' });
  const base = `${stack.engine.url}/api/v1`;
  const call = apiOf(base, stack.token);
  try {
    say(`engine: ${base}`);
    const disk = path.join(stack.imagesDir, 'golden.qcow2');
    copyFileSync(image, disk);
    const tpl = await call('POST', '/templates', { name: 'golden', disks: [{ path: disk }] });
    say(`template "golden" registered (${tpl.id})`);
    const started = Date.now();
    const vms = [];
    for (const name of ['web-1', 'web-2', 'db_1']) {
      const r = await call('POST', '/vms', { name, template: 'golden' });
      say(`cloned ${name}: status ${r.vm.status}, automatic reset job ${r.job.id}`);
      vms.push(r);
    }
    await follow(base, stack.token, vms.map(({ vm, job }) => ({ vmName: vm.name, jobId: job.id })), started);
    say('');
    for (const { vm, job } of vms) {
      const j = await call('GET', `/jobs/${job.id}`);
      const v = await call('GET', `/vms/${vm.id}`);
      say(`${vm.name.padEnd(6)} job ${j.state.padEnd(9)} hostname=${j.request.params.hostname}  VM status now: ${v.status}`);
    }
    const inspected = await call('GET', `/vms/${vms[0].vm.id}/inspection`);
    say(`inspection of ${vms[0].vm.name}: ${inspected.productName}, hostname "${inspected.hostname}"`);
  } finally {
    await stack.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** The libvirt variant (header comment). */
async function libvirtDemo(): Promise<void> {
  say('starting libvirtd when it is not running (root) ...');
  await ensureLibvirtd();
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'ovirt-sysprep-demo-'));
  say(`data dir: ${dataDir}`);
  say('preparing the fixture guest image (Debian-like, built once and cached) ...');
  const image = await cachedGuestImage();
  const prefix = `demo${process.pid}-`;
  const stack = await startLocalStack(withDefaults({ dataDir, listen: '127.0.0.1:0', logLevel: 'warn', inventory: 'libvirt', libvirt: libvirtWithDefaults() }), { max_jobs: '2', hypervisor: 'auto' });
  // QEMU runs as libvirt-qemu: a started domain's disks must be reachable.
  for (const d of [dataDir, stack.imagesDir]) chmodSync(d, 0o755);
  const base = `${stack.engine.url}/api/v1`;
  const call = apiOf(base, stack.token);
  const created: string[] = [];
  let template: string | undefined;
  const waitStatus = async (id: string, status: string) => {
    for (let i = 0; i < 120; i++) {
      if ((await call('GET', `/vms/${id}`)).status === status) return;
      await new Promise((r) => setTimeout(r, 500));
    }
  };
  try {
    say(`engine: ${base} (inventory = libvirt, qemu:///system)`);
    const disk = path.join(stack.imagesDir, 'golden.qcow2');
    copyFileSync(image, disk);
    chmodSync(disk, 0o644);
    const tpl = await call('POST', '/templates', { name: `${prefix}golden`, disks: [{ path: disk }] });
    template = tpl.id;
    say(`template domain "${tpl.name}" defined (${tpl.id}): virsh list --all shows it`);
    const started = Date.now();
    const vms = [];
    for (const n of ['web-1', 'web-2', 'db-1']) {
      const r = await call('POST', '/vms', { name: `${prefix}${n}`, template: tpl.name });
      created.push(r.vm.id);
      say(`cloned ${r.vm.name}: status ${r.vm.status} (held: its disk file appears when the reset ends), reset job ${r.job.id}`);
      vms.push(r);
    }
    const refused = await call('POST', `/vms/${vms[0].vm.id}/start`).catch((e: Error) => e.message);
    say(`start while held -> ${String(refused).slice(0, 160)}`);
    await follow(base, stack.token, vms.map(({ vm, job }) => ({ vmName: vm.name, jobId: job.id })), started);
    for (const { vm } of vms) await waitStatus(vm.id, 'down');
    say('');
    const web = vms[0].vm;
    say(`start ${web.name} -> ${(await call('POST', `/vms/${web.id}/start`)).status}`);
    const busy = await call('POST', `/vms/${web.id}/sysprep`, { profile: 'clone-reset' }).catch((e: Error) => e.message);
    say(`sysprep while it runs -> ${String(busy).slice(0, 160)}`);
    say(`stop ${web.name} -> ${(await call('POST', `/vms/${web.id}/stop`)).status}`);
    const job = (await call('POST', `/vms/${web.id}/sysprep`, { profile: 'clone-reset' })).job;
    await follow(base, stack.token, [{ vmName: web.name, jobId: job.id }], Date.now());
    say(`sysprep of the stopped ${web.name}: ${(await call('GET', `/jobs/${job.id}`)).state}`);
  } finally {
    // Every domain the demo made goes, its overlays with it; the template's disk is in the data dir.
    for (const id of created) await call('POST', `/vms/${id}/stop`).catch(() => undefined);
    for (const id of created) await call('DELETE', `/vms/${id}`).catch((e: Error) => say(`could not delete ${id}: ${e.message}`));
    if (template) await call('DELETE', `/templates/${template}`).catch((e: Error) => say(`could not delete the template: ${e.message}`));
    await stack.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  process.stderr.write(`demo failed: ${(err as Error).message}\n`);
  process.exit(1);
});
