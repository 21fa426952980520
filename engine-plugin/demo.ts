// `npm run demo`: a single-machine engine (local agent) on a temporary data dir, on the
// fixture guest image. It registers the image as a template, clones three VMs and follows
// their automatic resets over the API's Server-Sent Events to the end; then starts one
// clone, shows that a sysprep is refused while it runs (409 VM_NOT_DOWN), stops it and
// syspreps it. `npm run demo -- --libvirt` does the same on this machine's libvirtd
// (qemu:///system, started if no service manager runs it): the template and the clones
// are real domains (type qemu, no network interface), started and stopped for real; every
// domain the demo made is undefined at the end.
import 'reflect-metadata';
import { chmodSync, copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { cachedGuestImage } from '../test/helpers/guestImage';
import { ensureLibvirtd } from '../test/helpers/libvirtd';
import { withDefaults } from './config';
import { libvirtWithDefaults } from './libvirt/LibvirtConfig';
import { startLocalStack } from './local';
import { VERSION } from '../shared/version';

const USAGE = `Usage: npm run demo [-- --libvirt]

  (no flag)   embedded inventory: VMs are qcow2 files in a temporary data dir
  --libvirt   libvirt inventory on qemu:///system (as root): real domains, started and
              stopped for real, undefined at the end
  --help, --version
`;

type Call = (method: string, p: string, body?: unknown) => Promise<any>;

async function main(argv: string[]): Promise<void> {
  if (argv.includes('--help')) return void process.stdout.write(USAGE);
  if (argv.includes('--version')) return void process.stdout.write(`${VERSION}\n`);
  const unknown = argv.filter((a) => a !== '--libvirt');
  if (unknown.length) throw new Error(`unknown argument ${unknown[0]}\n${USAGE}`);
  const libvirt = argv.includes('--libvirt');

  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'ovirt-sysprep-demo-'));
  const say = (s: string) => process.stdout.write(`${s}\n`);
  say(`data dir: ${dataDir}`);
  if (libvirt) {
    say('libvirt: qemu:///system (starting virtlogd and libvirtd if nothing runs them) ...');
    await ensureLibvirtd();
    chmodSync(dataDir, 0o755); // QEMU runs as libvirt-qemu: it must reach the disks in <data dir>/images
  }
  say('preparing the fixture guest image (Debian-like, built once and cached) ...');
  const image = await cachedGuestImage();
  const config = withDefaults({ dataDir, listen: '127.0.0.1:0', logLevel: 'warn' });
  if (libvirt) Object.assign(config, { inventory: 'libvirt', libvirt: libvirtWithDefaults({}) });
  const stack = await startLocalStack(config, { max_jobs: '2', hypervisor: 'auto' });
  const base = `${stack.engine.url}/api/v1`;
  const call: Call = async (method, p, body) => {
    const res = await fetch(`${base}${p}`, { method, headers: { authorization: `Bearer ${stack.token}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
    const json = res.status === 204 ? {} : await res.json();
    if (!res.ok) throw Object.assign(new Error(`${method} ${p}: ${JSON.stringify(json)}`), { status: res.status, body: json });
    return json;
  };
  const started = Date.now();
  const follow = (name: string, jobId: string) => followJob(base, stack.token, name, jobId, started, say);
  // Names on a real libvirtd are the host's: a prefix of ours, a suffix against a rerun's leftovers.
  const prefix = libvirt ? `demo${process.pid % 10_000}-` : '';
  const made: { vms: string[]; template?: string } = { vms: [] };
  chmodSync(stack.imagesDir, 0o755);
  try {
    say(`engine: ${base}`);
    const disk = path.join(stack.imagesDir, 'golden.qcow2');
    copyFileSync(image, disk);
    chmodSync(disk, 0o644); // libvirt: QEMU (libvirt-qemu) reads the template's disk under the clones' overlays
    const tpl = await call('POST', '/templates', { name: `${prefix}golden`, disks: [{ path: disk }] });
    made.template = tpl.id;
    say(`template "${tpl.name}" registered (${tpl.id})${libvirt ? ': a domain marked as template' : ''}`);
    const vms = [];
    for (const name of ['web-1', 'web-2', 'db_1'].map((n) => `${prefix}${n}`)) {
      const r = await call('POST', '/vms', { name, template: tpl.id });
      made.vms.push(r.vm.id);
      say(`cloned ${name}: status ${r.vm.status}, automatic reset job ${r.job.id}`);
      vms.push(r);
    }
    const held = await call('POST', `/vms/${vms[0].vm.id}/start`).then(() => undefined, (e) => e);
    if (!held) throw new Error(`${vms[0].vm.name} could be started before its automatic reset`);
    say(`start ${vms[0].vm.name} while its reset runs: HTTP ${held.status} ${held.body.error.code}${libvirt ? ' (and virsh start fails: its disk file appears when the reset ends)' : ''}`);
    await Promise.all(vms.map(({ vm, job }) => follow(vm.name, job.id)));
    say('');
    for (const { vm, job } of vms) {
      const j = await call('GET', `/jobs/${job.id}`);
      const v = await untilReleased(call, vm.id);
      say(`${vm.name.padEnd(prefix.length + 6)} job ${j.state.padEnd(9)} hostname=${j.request.params.hostname}  VM status now: ${v.status}`);
    }
    const first = vms[0].vm;
    const inspected = await call('GET', `/vms/${first.id}/inspection`);
    say(`inspection of ${first.name}: ${inspected.productName}, hostname "${inspected.hostname}"`);

    say('');
    say(`start ${first.name}: status ${(await call('POST', `/vms/${first.id}/start`)).status}`);
    const refused = await call('POST', `/vms/${first.id}/sysprep`, { profile: 'clone-reset' }).then(() => undefined, (e) => e);
    if (!refused) throw new Error(`a sysprep of the running ${first.name} was accepted`);
    say(`sysprep while it runs: HTTP ${refused.status} ${refused.body.error.code}: ${refused.body.error.message}`);
    say(`stop ${first.name}: status ${(await call('POST', `/vms/${first.id}/stop`)).status}`);
    const again = await call('POST', `/vms/${first.id}/sysprep`, { profile: 'clone-reset', params: { hostname: `${first.name}-again` } });
    say(`sysprep after the stop: job ${again.job.id}`);
    await follow(first.name, again.job.id);
    const inspectedAgain = await call('GET', `/vms/${first.id}/inspection`);
    say(`inspection of ${first.name}: hostname "${inspectedAgain.hostname}"`);
  } finally {
    // Undefine what the demo defined (libvirt: the domains; their files go with the data dir).
    for (const id of made.vms) await call('POST', `/vms/${id}/stop`).catch(() => undefined);
    for (const id of made.vms) await call('DELETE', `/vms/${id}`).catch((e) => say(`could not delete VM ${id}: ${(e as Error).message}`));
    if (made.template) await call('DELETE', `/templates/${made.template}`).catch((e) => say(`could not delete the template: ${(e as Error).message}`));
    await stack.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** The VM once its automatic reset has released it (libvirt: the held files are renamed just after the job ends). */
async function untilReleased(call: Call, id: string): Promise<any> {
  for (let i = 0; ; i++) {
    const vm = await call('GET', `/vms/${id}`);
    if (vm.status !== 'image_locked' || i >= 120) return vm;
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** Prints a job's operations and states from its Server-Sent Events until the stream ends. */
async function followJob(base: string, token: string, name: string, jobId: string, started: number, say: (s: string) => void): Promise<void> {
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
      if (type === 'operation') say(`[${secs}] ${name} ${String(data.progress?.done ?? '').padStart(2)}/${data.progress?.total ?? ''} ${data.operation}`);
      if (type === 'state') say(`[${secs}] ${name} ${data.state}${data.error ? `: ${data.error.code} ${data.error.message}` : ''}`);
    }
  }
}

main(process.argv.slice(2)).catch((err) => {
  process.stderr.write(`demo failed: ${(err as Error).message}\n`);
  process.exit(1);
});
