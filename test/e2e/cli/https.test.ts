// The built `ovirt-sysprep` CLI against an engine that serves HTTPS with a certificate
// from a test CA (test/helpers/tls.ts), in front of a FAKE agent (no virt-sysprep run is
// needed here: the point is TLS). The CA comes from --ca-file, OVIRT_SYSPREP_CA_FILE or
// ca_file in cli.conf; without it the CLI fails with a certificate message, not a stack.
// A sysprep is followed to its end: the job's Server-Sent Events come over HTTPS too.
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { httpsHarness } from '../../helpers/httpsEngine';
import type { TestPki } from '../../helpers/tls';
import { Harness, TOKENS } from '../../unit/engine/harness';
import { assertCliBuilt, runCli } from './runCli';

jest.setTimeout(120_000);

describe('ovirt-sysprep CLI over HTTPS', () => {
  let dir: string;
  let pki: TestPki;
  let h: Harness;
  let tokenFile: string;
  let bare: NodeJS.ProcessEnv;
  /** Engine URL and token from the environment, the CA from --ca-file. */
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    await assertCliBuilt();
    dir = mkdtempSync(path.join(os.tmpdir(), 'cli-https-e2e-'));
    ({ pki, h } = await httpsHarness(dir, { jobMs: 400 }));
    expect(h.engine.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    for (const name of ['tls-web1', 'tls-web2']) expect((await h.api('POST', '/vms', { name, disks: [{ path: h.image(`${name}.qcow2`) }] })).status).toBe(201);
    tokenFile = path.join(dir, 'token');
    writeFileSync(tokenFile, `${TOKENS.admin.token}\n`);
    chmodSync(tokenFile, 0o600);
    bare = { PATH: process.env.PATH, HOME: dir };
    env = { ...bare, OVIRT_SYSPREP_URL: h.engine.url, OVIRT_SYSPREP_TOKEN_FILE: tokenFile };
  });
  afterAll(async () => {
    await h?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('lists VMs and shows the agents\' health with --ca-file', async () => {
    const vms = await runCli(['--ca-file', pki.caCert, 'vms'], env);
    expect(vms).toMatchObject({ code: 0, err: '' });
    expect(vms.out).toMatch(/^NAME +ID +STATUS +HOST +DISKS\n(.*\n)*tls-web1 +\S+ +down /m);
    const hosts = await runCli(['hosts', '--ca-file', pki.caCert, '--json'], env);
    expect(hosts).toMatchObject({ code: 0, err: '' });
    expect(JSON.parse(hosts.out)).toEqual([expect.objectContaining({ id: 'host1', healthy: true })]);
  });

  it('takes the CA from OVIRT_SYSPREP_CA_FILE and from ca_file in cli.conf', async () => {
    const viaEnv = await runCli(['vms', '--json'], { ...env, OVIRT_SYSPREP_CA_FILE: pki.caCert });
    expect(viaEnv).toMatchObject({ code: 0, err: '' });
    const conf = path.join(dir, 'cli.conf');
    writeFileSync(conf, `url = ${h.engine.url}\ntoken_file = ${tokenFile}\nca_file = ${pki.caCert}\n`);
    const viaConf = await runCli(['vms', '--json'], { ...bare, OVIRT_SYSPREP_CONFIG: conf });
    expect(viaConf).toMatchObject({ code: 0, err: '' });
    expect(JSON.parse(viaConf.out)).toEqual(JSON.parse(viaEnv.out));
    expect(JSON.parse(viaConf.out).map((v: { name: string }) => v.name).sort()).toEqual(['tls-web1', 'tls-web2']);
  });

  it('follows a sysprep to its end over HTTPS (the job\'s event stream)', async () => {
    const r = await runCli(['vm', 'sysprep', 'tls-web1', '--profile', 'clone-reset', '--ca-file', pki.caCert], env);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const lines = r.out.trim().split('\n');
    expect(lines[0]).toMatch(/^job \S+ \(vm tls-web1\) submitted$/);
    // Lines come from the SSE events: the run on the host and the final state.
    expect(lines).toEqual(expect.arrayContaining([expect.stringMatching(/^\d\d:\d\d:\d\d tls-web1 running on host1$/)]));
    expect(lines.at(-1)).toMatch(/^job \S+ \(vm tls-web1\): succeeded/);
  });

  it('fails with a certificate message, not a stack trace, without the CA (or with another one)', async () => {
    for (const args of [['vms'], ['--ca-file', pki.otherCaCert, 'vms']]) {
      const r = await runCli(args, env);
      expect({ args, code: r.code, out: r.out }).toEqual({ args, code: 1, out: '' });
      expect(r.err).toMatch(/^ovirt-sysprep: cannot reach the engine at https:\/\/127\.0\.0\.1:\d+: its TLS certificate is not trusted \(UNABLE_TO_VERIFY_LEAF_SIGNATURE: unable to verify the first certificate\); give the CA that signed it with --ca-file FILE/);
      expect(r.err.trim().split('\n')).toHaveLength(1);
      expect(r.err).not.toMatch(/\n\s+at /);
    }
  });

  it('says what is wrong with http:// to the HTTPS port, and with a CA file that holds no certificate', async () => {
    const http = await runCli(['vms'], { ...env, OVIRT_SYSPREP_URL: h.engine.url.replace('https:', 'http:') });
    expect(http.code).toBe(1);
    expect(http.err).toMatch(/closed without an answer .*if the engine serves HTTPS, use an https:\/\/ URL/);
    const notPem = await runCli(['vms', '--ca-file', tokenFile], env);
    expect(notPem.code).toBe(2);
    expect(notPem.err).toMatch(/--ca-file: .*token holds no PEM certificate/);
  });
});
