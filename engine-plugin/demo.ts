// `npm run demo`: a single-machine engine (local agent, embedded inventory) on a
// temporary data dir; registers the fixture guest image as a template, clones three VMs
// and follows their automatic resets over the API's Server-Sent Events to the end.
import 'reflect-metadata';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { cachedGuestImage } from '../test/helpers/guestImage';
import { withDefaults } from './config';
import { startLocalStack } from './local';

async function main(): Promise<void> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'ovirt-sysprep-demo-'));
  const say = (s: string) => process.stdout.write(`${s}\n`);
  say(`data dir: ${dataDir}`);
  say('preparing the fixture guest image (Debian-like, built once and cached) ...');
  const image = await cachedGuestImage();
  const stack = await startLocalStack(withDefaults({ dataDir, listen: '127.0.0.1:0', logLevel: 'warn' }), { max_jobs: '2', hypervisor: 'auto' });
  const base = `${stack.engine.url}/api/v1`;
  const call = async (method: string, p: string, body?: unknown) => {
    const res = await fetch(`${base}${p}`, { method, headers: { authorization: `Bearer ${stack.token}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
    const json = await res.json();
    if (!res.ok) throw new Error(`${method} ${p}: ${JSON.stringify(json)}`);
    return json;
  };
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
    await Promise.all(vms.map(async ({ vm, job }) => {
      const res = await fetch(`${base}/jobs/${job.id}/events`, { headers: { authorization: `Bearer ${stack.token}` } });
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
          if (type === 'operation') say(`[${secs}] ${vm.name.padEnd(6)} ${String(data.progress?.done ?? '').padStart(2)}/${data.progress?.total ?? ''} ${data.operation}`);
          if (type === 'state') say(`[${secs}] ${vm.name.padEnd(6)} ${data.state}${data.error ? `: ${data.error.code} ${data.error.message}` : ''}`);
        }
      }
    }));
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

main().catch((err) => {
  process.stderr.write(`demo failed: ${(err as Error).message}\n`);
  process.exit(1);
});
