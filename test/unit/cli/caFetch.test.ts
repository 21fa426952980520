// The CLI's https transport (engine-plugin/cli/caFetch.ts) and its connection errors
// (ApiClient's unreachable()) against a REAL engine with a certificate from a test CA,
// in front of a FAKE agent (test/unit/engine/harness.ts). Loopback only.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ApiClient } from '../../../engine-plugin/cli/ApiClient';
import { caFetch } from '../../../engine-plugin/cli/caFetch';
import { ConnectionError } from '../../../engine-plugin/cli/exitCodes';
import { httpsHarness } from '../../helpers/httpsEngine';
import type { TestPki } from '../../helpers/tls';
import { harness, Harness, TOKENS } from '../engine/harness';

jest.setTimeout(60_000);

describe('caFetch against an https engine', () => {
  let dir: string;
  let pki: TestPki;
  let ca: string;
  let h: Harness;
  const token = TOKENS.admin.token;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'cli-https-'));
    ({ pki, h } = await httpsHarness(dir, { jobMs: 300 }));
    ca = readFileSync(pki.caCert, 'utf8');
  });
  afterAll(async () => {
    await h?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('sends JSON requests and reads answers and API errors', async () => {
    const api = new ApiClient(h.engine.url, token, caFetch(ca));
    expect(await api.get('/health')).toMatchObject({ status: 'ok' });
    await expect(api.get('/vms/no-such-vm')).rejects.toMatchObject({ status: 404, code: 'VM_NOT_FOUND' });
    const created = await api.post<{ vm: { id: string } }>('/vms', { name: 'sse-vm', disks: [{ path: h.image('sse.qcow2') }] });
    expect(created.vm.id).toEqual(expect.any(String));
  });

  it("streams a job's Server-Sent Events as they come, up to the final state", async () => {
    const api = new ApiClient(h.engine.url, token, caFetch(ca));
    const { job } = await api.post<{ job: { id: string } }>('/vms/sse-vm/sysprep', { profile: 'clone-reset' });
    const seen: string[] = [];
    const arrivals: number[] = [];
    for await (const ev of api.events(job.id)) {
      seen.push(ev.event === 'state' ? `state:${JSON.parse(ev.data).state}` : ev.event);
      arrivals.push(Date.now());
      if (/^state:(succeeded|failed)$/.test(seen.at(-1)!)) break;
    }
    expect(seen[0]).toBe('snapshot');
    expect(seen.at(-1)).toBe('state:succeeded');
    // The fake job runs 300 ms: the events did not all come at once at the end.
    expect(arrivals.at(-1)! - arrivals[0]).toBeGreaterThan(150);
  });

  it('stops a stream when its signal aborts', async () => {
    const api = new ApiClient(h.engine.url, token, caFetch(ca));
    const { job } = await api.post<{ job: { id: string } }>('/vms/sse-vm/sysprep', { profile: 'clone-reset' });
    const abort = new AbortController();
    const reading = (async () => {
      for await (const ev of api.events(job.id, abort.signal)) if (ev.event === 'snapshot') abort.abort();
    })();
    await expect(reading).rejects.toMatchObject({ name: 'AbortError' });
    await h.waitJob(job.id);
  });

  it.each<[string, () => [string, typeof fetch], RegExp]>([
    ['no CA given (system CAs)', () => [h.engine.url, fetch], /its TLS certificate is not trusted \(UNABLE_TO_VERIFY_LEAF_SIGNATURE: .*\); give the CA that signed it with --ca-file FILE/],
    ['another CA given', () => [h.engine.url, caFetch(readFileSync(pki.otherCaCert, 'utf8'))], /its TLS certificate is not trusted \(UNABLE_TO_VERIFY_LEAF_SIGNATURE/],
    ['http:// to the https port', () => [h.engine.url.replace('https:', 'http:'), fetch], /closed without an answer .*; if the engine serves HTTPS, use an https:\/\/ URL/],
  ])('explains a failure: %s', async (_name, setup, message) => {
    const [url, f] = setup();
    const err = await new ApiClient(url, token, f).get('/health').catch((e: Error) => e);
    expect(err).toBeInstanceOf(ConnectionError);
    expect((err as Error).message).toMatch(message);
  });

  it('explains https:// to a plain HTTP engine and a certificate for another name', async () => {
    const plain = await harness();
    try {
      const err = await new ApiClient(plain.engine.url.replace('http:', 'https:'), token, caFetch(ca)).get('/health').catch((e: Error) => e);
      expect((err as Error).message).toMatch(/TLS handshake failed \(\w+: wrong version number\); does the engine serve http:\/\/ on this port\?/);
    } finally {
      await plain.close();
    }
    // 127.0.0.2 is loopback too, and not a name in the server certificate.
    const other = h.engine.url.replace('127.0.0.1', '127.0.0.2');
    await h.restart({ tlsCert: pki.serverCert, tlsKey: pki.serverKey, listen: `127.0.0.2:${new URL(h.engine.url).port}` });
    const err = await new ApiClient(other, token, caFetch(ca)).get('/health').catch((e: Error) => e);
    expect((err as Error).message).toMatch(/its TLS certificate is for another name \(ERR_TLS_CERT_ALTNAME_INVALID: .*127\.0\.0\.2/);
  });
});
