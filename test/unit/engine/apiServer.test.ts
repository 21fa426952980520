// HTTPS on the REST API (engine-plugin/apiServer.ts): the settings the engine refuses to
// start with, and a real engine with a certificate from a test CA (test/helpers/tls.ts)
// in front of a FAKE agent: https only, TLS 1.2 at least, plain HTTP to its port gets no
// answer. Loopback only. The CLI and the web page over HTTPS: test/e2e/cli/https.test.ts,
// test/e2e/web/https.test.ts.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tls from 'node:tls';
import { apiTransport } from '../../../engine-plugin/apiServer';
import { caFetch } from '../../../engine-plugin/cli/caFetch';
import { ConfigError, defaultConfig, EngineConfig, parseEngineConfig } from '../../../engine-plugin/config';
import { startEngine } from '../../../engine-plugin/engine';
import { makeTestPki, TestPki } from '../../helpers/tls';
import { harness, Harness, TOKENS } from './harness';

jest.setTimeout(60_000);

let pki: TestPki;
let dir: string;
beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'engine-https-'));
  pki = await makeTestPki(path.join(dir, 'pki'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const transport = (c: Partial<EngineConfig>) => apiTransport({ ...defaultConfig(), ...c });

describe('which transport the API gets', () => {
  it.each(['127.0.0.1:8080', '127.3.2.1:0', 'localhost:8080', '[::1]:8080', '::1:8080'])('plain HTTP on loopback %s', (listen) => {
    expect(transport({ listen })).toEqual({ scheme: 'http' });
  });

  it.each(['0.0.0.0:8080', '[::]:8080', '192.0.2.10:8080', 'sysprep.example.org:8080', ':8080'])(
    'refuses plain HTTP on %s, naming the keys that fix it',
    (listen) => {
      expect(() => transport({ listen })).toThrow(ConfigError);
      expect(() => transport({ listen })).toThrow(/not a loopback address.*clear text.*Set \[engine\] tls_cert and tls_key.*allow_insecure_http = true/);
    },
  );

  it('serves plain HTTP on the network only when told to, with a warning for the log', () => {
    expect(transport({ listen: '0.0.0.0:8080', allowInsecureHttp: true })).toEqual({ scheme: 'http', warning: expect.stringMatching(/clear text/) });
  });

  it('serves HTTPS with a certificate and its key', () => {
    const t = transport({ listen: '0.0.0.0:8443', tlsCert: pki.serverCert, tlsKey: pki.serverKey });
    expect(t).toMatchObject({ scheme: 'https', cert: readFileSync(pki.serverCert), key: readFileSync(pki.serverKey), warning: undefined });
  });

  it('warns about an expired certificate (clients will refuse it)', () => {
    const t = transport({ listen: '0.0.0.0:8443', tlsCert: pki.expiredServerCert, tlsKey: pki.expiredServerKey });
    expect(t).toMatchObject({ scheme: 'https', warning: expect.stringMatching(/expired-server\.crt expired on .*: clients will refuse it/) });
  });

  it.each<[string, () => Partial<EngineConfig>, RegExp]>([
    ['tls_cert without tls_key', () => ({ tlsCert: pki.serverCert }), /tls_cert is set but tls_key is not: HTTPS needs both/],
    ['tls_key without tls_cert', () => ({ tlsKey: pki.serverKey }), /tls_key is set but tls_cert is not: HTTPS needs both/],
    ['a certificate and allow_insecure_http', () => ({ tlsCert: pki.serverCert, tlsKey: pki.serverKey, allowInsecureHttp: true }), /contradict.*remove allow_insecure_http/],
    ['a missing certificate file', () => ({ tlsCert: path.join(dir, 'nope.pem'), tlsKey: pki.serverKey }), /tls_cert = .*nope\.pem: cannot read it: ENOENT/],
    ['a missing key file', () => ({ tlsCert: pki.serverCert, tlsKey: path.join(dir, 'nope.key') }), /tls_key = .*nope\.key: cannot read it: ENOENT/],
    ['a key where the certificate should be', () => ({ tlsCert: pki.serverKey, tlsKey: pki.serverKey }), /tls_cert = .*server\.key: not a PEM certificate/],
    ['a certificate where the key should be', () => ({ tlsCert: pki.serverCert, tlsKey: pki.serverCert }), /tls_key = .*server\.crt: not an unencrypted PEM private key/],
    ['the key of another certificate', () => ({ tlsCert: pki.serverCert, tlsKey: pki.clientKey }), /tls_key = .*client\.key is not the private key of tls_cert = .*server\.crt/],
  ])('refuses %s with a clear message', (_name, config, message) => {
    const c = { listen: '0.0.0.0:8443', ...config() };
    expect(() => transport(c)).toThrow(ConfigError);
    expect(() => transport(c)).toThrow(message);
  });

  it('reads tls_cert, tls_key and allow_insecure_http from [engine]', () => {
    const { config } = parseEngineConfig('[engine]\nlisten = 0.0.0.0:8443\ntls_cert = /pki/api.pem\ntls_key = /pki/api.key\nallow_insecure_http = no\n');
    expect(config).toMatchObject({ listen: '0.0.0.0:8443', tlsCert: '/pki/api.pem', tlsKey: '/pki/api.key', allowInsecureHttp: false });
    expect(parseEngineConfig('[engine]\nallow_insecure_http = true\n').config.allowInsecureHttp).toBe(true);
    expect(() => parseEngineConfig('[engine]\nallow_insecure_http = maybe\n', 'e.conf')).toThrow(/e\.conf: allow_insecure_http: expected true or false/);
  });

  it('stops startEngine before anything starts (no database is created)', async () => {
    const dataDir = path.join(dir, 'refused');
    const base = { dataDir, logLevel: 'error', tokens: [TOKENS.admin] };
    await expect(startEngine({ ...base, listen: '0.0.0.0:0' })).rejects.toThrow(/not a loopback address/);
    await expect(startEngine({ ...base, listen: '127.0.0.1:0', tlsCert: pki.serverCert })).rejects.toThrow(/tls_cert is set but tls_key is not/);
    expect(existsSync(dataDir)).toBe(false);
  });
});

describe('an engine with tls_cert and tls_key', () => {
  let h: Harness;
  let port: number;
  beforeAll(async () => {
    h = await harness({ config: { tlsCert: pki.serverCert, tlsKey: pki.serverKey }, fetch: caFetch(readFileSync(pki.caCert, 'utf8')) });
    port = Number(new URL(h.engine.url).port);
  });
  afterAll(() => h?.close());

  it('serves the API over HTTPS to a client that trusts its CA', async () => {
    expect(h.engine.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const health = await h.api('GET', '/health', undefined, null);
    expect(health).toMatchObject({ status: 200, body: { status: 'ok' } });
    const vm = await h.api('POST', '/vms', { name: 'tls-vm', disks: [{ path: h.image('tls.qcow2') }] });
    expect(vm.status).toBe(201);
    expect((await h.api('GET', '/vms')).body.items.map((v: { name: string }) => v.name)).toContain('tls-vm');
  });

  it('is refused by a client that does not trust its CA', async () => {
    const err = await fetch(`${h.engine.url}/api/v1/health`).then(() => undefined, (e: Error & { cause?: { code?: string } }) => e);
    expect(err?.cause?.code).toBe('UNABLE_TO_VERIFY_LEAF_SIGNATURE');
  });

  it('gives no answer to plain HTTP on its port', async () => {
    // A raw HTTP request: the TLS server takes it for a broken handshake and closes.
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = net.connect(port, '127.0.0.1', () => socket.write(`GET /api/v1/health HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\n\r\n`));
      let data = '';
      socket.on('data', (b) => (data += b.toString('latin1')));
      socket.on('close', () => resolve(data));
      socket.on('error', reject);
      socket.setTimeout(10_000, () => reject(new Error('the engine kept a plain HTTP connection open for 10 s')));
    });
    expect(answer).not.toMatch(/HTTP\/1\.[01]/);
    expect(answer).not.toContain('"status"');
    // And fetch over http:// fails rather than getting any response.
    await expect(fetch(`http://127.0.0.1:${port}/api/v1/health`)).rejects.toThrow(/fetch failed/);
  });

  it('refuses TLS 1.1 even when Node would allow it (--tls-min-v1.0)', async () => {
    // Lower Node's own floor (and OpenSSL's security level) in this process, as
    // --tls-min-v1.0 would: a server that relied on the defaults would now accept TLS 1.1.
    // The module object itself (an `import * as` binding is a copy under the test transform).
    const defaults = require('node:tls') as { DEFAULT_MIN_VERSION: tls.SecureVersion; DEFAULT_CIPHERS: string };
    const saved = { min: defaults.DEFAULT_MIN_VERSION, ciphers: defaults.DEFAULT_CIPHERS };
    defaults.DEFAULT_MIN_VERSION = 'TLSv1';
    defaults.DEFAULT_CIPHERS = `${saved.ciphers}:@SECLEVEL=0`;
    const connect = (maxVersion: tls.SecureVersion) => new Promise<string>((resolve) => {
      const s = tls.connect({ host: '127.0.0.1', port, servername: 'localhost', ca: readFileSync(pki.caCert), minVersion: 'TLSv1', maxVersion }, () => {
        resolve(s.getProtocol() ?? '?');
        s.end();
      });
      s.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
    });
    try {
      await h.restart({ tlsCert: pki.serverCert, tlsKey: pki.serverKey, listen: `127.0.0.1:${port}` });
      expect(await connect('TLSv1.1')).toBe('ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION');
      expect(await connect('TLSv1.2')).toBe('TLSv1.2');
    } finally {
      defaults.DEFAULT_MIN_VERSION = saved.min;
      defaults.DEFAULT_CIPHERS = saved.ciphers;
    }
  });
});

describe('the engine on plain HTTP', () => {
  it('keeps http:// on loopback, the single-machine default', async () => {
    const h = await harness();
    try {
      expect(h.engine.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect((await h.api('GET', '/health', undefined, null)).status).toBe(200);
    } finally {
      await h.close();
    }
  });
});

// A config file written like an administrator's, through the same parse as main.ts.
it('starts from an engine.conf with tls_cert and tls_key', async () => {
  const file = path.join(dir, 'engine.conf');
  writeFileSync(file, `[engine]\nlisten = 127.0.0.1:0\ndata_dir = ${path.join(dir, 'conf-engine')}\nlog_level = error\ntls_cert = ${pki.serverCert}\ntls_key = ${pki.serverKey}\n[tokens]\nalice = admin:${TOKENS.admin.token}\n`);
  const engine = await startEngine(parseEngineConfig(readFileSync(file, 'utf8'), file).config);
  try {
    expect(engine.url).toMatch(/^https:/);
    const res = await caFetch(readFileSync(pki.caCert, 'utf8'))(`${engine.url}/api/v1/health`);
    expect(res.status).toBe(200);
  } finally {
    await engine.stop();
  }
});
