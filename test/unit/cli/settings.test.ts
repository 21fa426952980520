// Engine URL, token and CA file: flags > environment > config file > default URL.
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { UsageError } from '../../../engine-plugin/cli/exitCodes';
import { DEFAULT_URL, normalizeUrl, parseCliConf, resolveConnection } from '../../../engine-plugin/cli/settings';
import { writeLocalEngineFile } from '../../../engine-plugin/localEngineFile';
import { makeTestPki, TestPki } from '../../helpers/tls';

describe('resolveConnection', () => {
  let dir: string;
  let home: string;
  const file = (name: string, text: string, mode = 0o600) => {
    const p = path.join(dir, name);
    writeFileSync(p, text);
    chmodSync(p, mode);
    return p;
  };
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'cli-settings-'));
    home = path.join(dir, 'home');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('uses flags first, with a warning for a token on argv', () => {
    const c = resolveConnection({ engine: 'http://e.example:8080/api/v1/', token: 'flagtoken' }, { HOME: home, OVIRT_SYSPREP_URL: 'http://env', OVIRT_SYSPREP_TOKEN: 'envtoken' });
    expect(c).toEqual({ url: 'http://e.example:8080', token: 'flagtoken', warnings: [expect.stringMatching(/visible to other users/)] });
  });

  it('reads a token file given as a flag', () => {
    const t = file('token', 'filetoken\n');
    expect(resolveConnection({ tokenFile: t }, { HOME: home, OVIRT_SYSPREP_TOKEN: 'envtoken' })).toEqual({ url: DEFAULT_URL, token: 'filetoken', warnings: [] });
  });

  it('uses the environment before the config file', () => {
    const conf = file('cli.conf', 'url = http://conf:1\ntoken = conftoken\n');
    expect(resolveConnection({ config: conf }, { HOME: home, OVIRT_SYSPREP_URL: 'http://env:2', OVIRT_SYSPREP_TOKEN: 'envtoken' })).toMatchObject({ url: 'http://env:2', token: 'envtoken' });
  });

  it('reads ~/.config/ovirt-sysprep/cli.conf (XDG_CONFIG_HOME), keys at the top or under [cli]', () => {
    const t = file('tok', 'tok-from-file\n');
    const xdg = path.join(dir, 'xdg');
    require('node:fs').mkdirSync(path.join(xdg, 'ovirt-sysprep'), { recursive: true });
    writeFileSync(path.join(xdg, 'ovirt-sysprep', 'cli.conf'), `# mine\nurl = http://conf:3\n[cli]\ntoken_file = ${t}\n`);
    expect(resolveConnection({}, { HOME: home, XDG_CONFIG_HOME: xdg })).toEqual({ url: 'http://conf:3', token: 'tok-from-file', warnings: [] });
  });

  describe('an engine started with --local by this user (npm start)', () => {
    const pointTo = (url: string) => {
      const tokenFile = file('admin.token', 'local-admin-token\n');
      const forget = writeLocalEngineFile({ XDG_STATE_HOME: path.join(dir, 'state') }, { url, tokenFile });
      return { env: { HOME: home, XDG_STATE_HOME: path.join(dir, 'state') }, forget };
    };

    it('is found with no flags: its URL and <data dir>/admin.token', () => {
      const { env } = pointTo('http://127.0.0.1:8384');
      expect(readFileSync(path.join(dir, 'state', 'ovirt-sysprep', 'local-engine.conf'), 'utf8')).not.toContain('local-admin-token');
      expect(resolveConnection({}, env)).toEqual({ url: 'http://127.0.0.1:8384', token: 'local-admin-token', warnings: [] });
    });

    it('comes after flags, environment and cli.conf, and gives its token only to its own URL', () => {
      const { env } = pointTo('http://127.0.0.1:8384');
      expect(resolveConnection({}, { ...env, OVIRT_SYSPREP_TOKEN: 'envtoken' }).token).toBe('envtoken');
      expect(() => resolveConnection({ engine: 'https://prod.example:8443' }, env)).toThrow(/no API token/);
      expect(resolveConnection({ engine: 'http://127.0.0.1:8384/api/v1' }, env).token).toBe('local-admin-token');
    });

    it('is forgotten when that engine stops', () => {
      const { env, forget } = pointTo('http://127.0.0.1:8384');
      forget();
      expect(() => resolveConnection({}, env)).toThrow(/no API token/);
    });
  });

  it('warns when a config file holding a token is readable by others', () => {
    const conf = file('cli.conf', 'token = conftoken\n', 0o644);
    expect(resolveConnection({ config: conf }, { HOME: home }).warnings).toEqual([expect.stringMatching(/cli.conf is readable by other users/)]);
  });

  describe('the CA file (--ca-file > OVIRT_SYSPREP_CA_FILE > ca_file)', () => {
    // Any well-formed certificate will do for reading; trust is tested against an engine (caFetch.test.ts).
    let pki: TestPki;
    beforeAll(async () => {
      pki = await makeTestPki(mkdtempSync(path.join(os.tmpdir(), 'cli-ca-')));
    });
    const pem = (f: string) => readFileSync(f, 'utf8');

    it('takes the flag first, then the environment, then cli.conf', () => {
      const conf = file('cli.conf', `url = https://conf:1\ntoken = t\nca_file = ${pki.caCert}\n`);
      const https = { HOME: home, OVIRT_SYSPREP_URL: 'https://e.example:8443' };
      expect(resolveConnection({ config: conf }, { HOME: home })).toMatchObject({ url: 'https://conf:1', ca: pem(pki.caCert) });
      expect(resolveConnection({ config: conf }, { ...https, OVIRT_SYSPREP_CA_FILE: pki.otherCaCert }).ca).toBe(pem(pki.otherCaCert));
      expect(resolveConnection({ config: conf, caFile: pki.serverCert }, { ...https, OVIRT_SYSPREP_CA_FILE: pki.otherCaCert }).ca).toBe(pem(pki.serverCert));
      expect(resolveConnection({ token: 't' }, https)).not.toHaveProperty('ca');
    });

    it('keeps every certificate of a bundle, and says it is unused for an http:// URL', () => {
      const bundle = file('bundle.pem', pem(pki.caCert) + pem(pki.otherCaCert));
      const c = resolveConnection({ tokenFile: file('token', 't\n'), caFile: bundle, engine: 'http://127.0.0.1:8080' }, { HOME: home });
      expect(c.ca).toBe(pem(bundle));
      expect(c.warnings).toEqual(['--ca-file is not used: http://127.0.0.1:8080 is not an https URL']);
    });

    it.each<[string, () => string, RegExp]>([
      ['a missing file', () => path.join(dir, 'nope.pem'), /--ca-file: cannot read .*nope\.pem: ENOENT/],
      ['a private key', () => pki.serverKey, /--ca-file: .*server\.key holds no PEM certificate/],
      ['a damaged certificate', () => file('bad.pem', pem(pki.caCert).replace(/\n[A-Za-z0-9+/]{20}/, '\nAAAAAAAAAAAAAAAAAAAA')), /--ca-file: .*bad\.pem: a certificate in it does not parse/],
    ])('refuses %s as a usage error', (_n, caFile, message) => {
      const call = () => resolveConnection({ token: 't', caFile: caFile() }, { HOME: home });
      expect(call).toThrow(UsageError);
      expect(call).toThrow(message);
    });
  });

  it.each<[string, () => [object, NodeJS.ProcessEnv], RegExp]>([
    ['no token anywhere', () => [{}, { HOME: path.join(os.tmpdir(), 'no-such-home') }], /no API token/],
    ['both --token and --token-file', () => [{ token: 'a', tokenFile: '/x' }, {}], /give one of them/],
    ['a missing token file', () => [{ tokenFile: '/no/such/file' }, {}], /cannot read \/no\/such\/file: ENOENT/],
    ['a missing explicit config', () => [{ config: '/no/such.conf', token: 't' }, {}], /config file: cannot read/],
    ['a bad URL', () => [{ engine: 'engine:8080', token: 't' }, {}], /must be http/],
  ])('refuses %s as a usage error', (_n, args, message) => {
    const [flags, env] = args();
    expect(() => resolveConnection(flags, env)).toThrow(UsageError);
    expect(() => resolveConnection(flags, env)).toThrow(message);
  });
});

describe('parseCliConf and normalizeUrl', () => {
  it('refuses unknown keys and reports the line of the file', () => {
    expect(() => parseCliConf('url = http://x\ntokne = y\n', 'cli.conf')).toThrow(/unknown key "tokne"/);
    expect(() => parseCliConf('url = http://x\nnot a line\n', 'cli.conf')).toThrow(/cli.conf: line 2/);
  });
  it.each([
    ['http://e:8080', 'http://e:8080'],
    ['http://e:8080/', 'http://e:8080'],
    ['https://e.example/api/v1', 'https://e.example'],
    ['https://e.example/prefix/', 'https://e.example/prefix'],
  ])('normalises %s', (raw, url) => expect(normalizeUrl(raw)).toBe(url));
});
