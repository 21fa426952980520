// The bad-input corpus (issue 10): hundreds of malformed requests across every route that
// takes input, against a real engine and a REAL agent over mutual TLS. For each: a 4xx
// with a code and a named field. For the whole run: the engine stays alive, nothing is
// spawned for a refused request (virt-sysprep and qemu-img are wrappers on PATH that log
// every run before exec'ing the real tool), no file outside the engine's and agent's own
// state changes (the storage root included), no job, VM, template, pool or profile appears.
// It runs no virt-sysprep job, so it is fast. The figures are printed at the end.
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { AgentClient } from '../../../shared/agentClient';
import { rawRequest } from '../../helpers/rawHttp';
import { ADMIN, OPERATOR, Stack, startStack, VIEWER } from './stack';

jest.setTimeout(10 * 60_000);

interface Case {
  name: string;
  method: string;
  path: string;
  body?: string | Buffer;
  headers?: Record<string, string>;
  /** Bearer token; null: none. Default admin. */
  token?: string | null;
  status?: number;
  code?: string;
  field?: string | RegExp;
}

const JSON_TYPE = { 'content-type': 'application/json' };

/** Wrappers of the tools the engine and the agent run: each run is logged, then the real tool runs. */
function toolSpy(dir: string): { log: string; runs(): string[] } {
  const bin = path.join(dir, 'spy-bin');
  const log = path.join(dir, 'spawned.log');
  mkdirSync(bin, { recursive: true });
  for (const tool of ['virt-sysprep', 'qemu-img', 'virt-inspector', 'guestfish']) {
    const real = execFileSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).trim();
    writeFileSync(path.join(bin, tool), `#!/bin/sh\nprintf '%s\\n' "${tool} $*" >> '${log}'\nexec '${real}' "$@"\n`);
    chmodSync(path.join(bin, tool), 0o755);
  }
  process.env.PATH = `${bin}:${process.env.PATH}`;
  writeFileSync(log, '');
  return { log, runs: () => readFileSync(log, 'utf8').split('\n').filter(Boolean) };
}

/** Every file and directory under `dir` (minus `skip`) with its size, mtime and mode. */
function snapshot(dir: string, skip: string[]): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = path.join(d, name);
      if (skip.some((s) => p === s || p.startsWith(`${s}/`))) continue;
      const st = lstatSync(p);
      out.set(p, `${st.size}:${st.mtimeMs}:${st.mode}`);
      if (st.isDirectory()) walk(p);
    }
  };
  walk(dir);
  return out;
}

function firstBlockDevice(): string | undefined {
  for (const name of readdirSync('/dev')) {
    try {
      if (statSync(`/dev/${name}`).isBlockDevice()) return `/dev/${name}`;
    } catch {
      /* vanished */
    }
  }
  return undefined;
}

describe('bad-input corpus', () => {
  let s: Stack;
  let spy: ReturnType<typeof toolSpy>;
  let vm: string;
  let before: Map<string, string>;
  let skip: string[];
  const systemFiles = ['/etc/shadow', '/etc/passwd', '/etc/hostname'];
  let systemBefore: string[];
  const cases: Case[] = [];
  const results: { c: Case; status: number; code?: string; field?: string }[] = [];

  beforeAll(async () => {
    s = await startStack({ engine: false });
    spy = toolSpy(s.dir);
    const { startEngine } = await import('../../../engine-plugin/engine');
    s.engine = await startEngine(s.engineConfig);
    s.url = s.engine.url;
    const img = (name: string) => {
      const p = path.join(s.storage, name);
      execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', p, '64M']);
      return p;
    };
    const gold = img('gold.qcow2');
    vm = (await s.api('POST', '/vms', { name: 'vm1', disks: [{ path: img('vm1.qcow2') }] })).body.vm.id;
    expect((await s.api('POST', '/templates', { name: 'gold', disks: [{ path: gold }] })).status).toBe(201);
    expect((await s.api('POST', '/pools', { name: 'lab', template: 'gold', size: 2 })).status).toBe(201);
    expect((await s.api('PUT', '/profiles/kept', { description: 'kept', operations: { only: ['machine-id'] } })).status).toBe(201);

    // Traps: paths that must never be registered, opened for writing or probed by the engine.
    const outside = path.join(s.dir, 'outside');
    mkdirSync(outside);
    execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', path.join(outside, 'x.qcow2'), '16M']);
    writeFileSync(path.join(s.storage, 'notes.txt'), 'this is a text file, not a disk\n'.repeat(40));
    mkdirSync(path.join(s.storage, 'adir'));
    symlinkSync('/etc/shadow', path.join(s.storage, 'shadow-link.qcow2'));
    symlinkSync(path.join(outside, 'x.qcow2'), path.join(s.storage, 'escape-link.qcow2'));

    buildCases(s, vm, gold, outside, cases);
    skip = [s.engineConfig.dataDir!, path.join(s.dir, 'agent'), path.join(s.dir, 'agent-logs'), spy.log];
    before = snapshot(s.dir, skip);
    systemBefore = systemFiles.map((f) => (existsSync(f) ? `${statSync(f).mtimeMs}:${statSync(f).size}` : 'none'));
    writeFileSync(spy.log, '');
  });
  afterAll(async () => {
    const total = results.length;
    const named = results.filter((r) => r.status >= 400 && r.status < 500 && r.code && r.field).length;
    process.stdout.write(`\nbad-input corpus: ${total} requests, ${named} answered 4xx with a code and a named field (${total ? ((100 * named) / total).toFixed(1) : 0} %), ${spy ? spy.runs().length : '?'} tools spawned\n`);
    await s?.close();
  });

  it('has at least 300 cases', () => {
    expect(cases.length).toBeGreaterThanOrEqual(300);
  });

  it('answers every case 4xx with a code and a named field', async () => {
    const wrong: string[] = [];
    for (const [i, c] of cases.entries()) {
      const token = c.token === undefined ? ADMIN : c.token;
      const r = await rawRequest(s.url, { method: c.method, path: `/api/v1${c.path}`, body: c.body, headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...c.headers } });
      const code: string | undefined = r.body?.error?.code;
      const field: string | undefined = r.body?.error?.details?.field;
      results.push({ c, status: r.status, code, field });
      const bad =
        r.status < 400 || r.status > 499 || !code || typeof field !== 'string' || field === '' ||
        (c.status !== undefined && r.status !== c.status) ||
        (c.code !== undefined && code !== c.code) ||
        (c.field !== undefined && !(typeof c.field === 'string' ? field === c.field : c.field.test(field)));
      if (bad) wrong.push(`${c.name}: ${c.method} ${c.path} -> ${r.status} ${code} field=${JSON.stringify(field)} (wanted ${c.status ?? '4xx'} ${c.code ?? ''} ${c.field ?? ''}) ${r.text.slice(0, 200)}`);
      if (i % 50 === 0) expect((await s.api('GET', '/health', undefined, null)).status).toBe(200);
    }
    expect(wrong).toEqual([]);
  });

  it("stayed alive and spawned nothing but the agent's read-only probes of disks inside the storage root", async () => {
    expect((await s.api('GET', '/health', undefined, null)).body.status).toBe('ok');
    // CheckDisks: the agent reads a file it confined to its root (qemu-img info) to tell it is no disk image.
    const root = s.storage.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const probe = new RegExp(`^qemu-img info --output=json (-U )?(-f (qcow2|raw) )?-- ${root}/[^/]+$`);
    expect(spy.runs().filter((run) => !probe.test(run))).toEqual([]);
  });

  it('created or changed no file outside its own state (storage root included), nor a system file', () => {
    const after = snapshot(s.dir, skip);
    const changed = [...new Set([...before.keys(), ...after.keys()])].filter((p) => before.get(p) !== after.get(p));
    expect(changed).toEqual([]);
    expect(systemFiles.map((f) => (existsSync(f) ? `${statSync(f).mtimeMs}:${statSync(f).size}` : 'none'))).toEqual(systemBefore);
  });

  it('recorded no job, VM, template, pool or profile for a refused request', async () => {
    expect((await s.api('GET', '/jobs')).body.items).toEqual([]);
    expect((await s.api('GET', '/vms')).body.total).toBe(3);
    expect((await s.api('GET', '/templates')).body.total).toBe(1);
    expect((await s.api('GET', '/pools')).body.total).toBe(1);
    expect((await s.api('GET', '/profiles/kept')).body).toMatchObject({ description: 'kept', operations: { only: ['machine-id'] } });
    expect((await s.api('GET', '/profiles')).body.items.filter((p: { builtIn: boolean }) => !p.builtIn)).toHaveLength(1);
    const client = new AgentClient({ address: s.agent.address, tls: { caFile: s.pki.caCert, certFile: s.pki.clientCert, keyFile: s.pki.clientKey } });
    try {
      expect(await client.listJobs()).toEqual([]);
    } finally {
      client.close();
    }
  });
});

/** The corpus. Each case has exactly one fault; the rest of its request is valid. */
function buildCases(s: Stack, vm: string, gold: string, outside: string, cases: Case[]): void {
  const sysprepRoutes: [string, object][] = [
    [`/vms/${vm}/sysprep`, {}],
    ['/pools/lab/sysprep', {}],
    ['/templates/gold/sysprep', { dryRun: true }],
    ['/sysprep', { vms: [vm] }],
  ];
  const bodyRoutes: [string, string, object][] = [
    ...sysprepRoutes.map(([p, b]): [string, string, object] => ['POST', p, b]),
    ['PUT', '/profiles/corpus', { description: 'x' }],
    ['POST', '/vms', { name: 'new1', template: 'gold' }],
    ['POST', '/templates', { name: 'gold2', disks: [{ path: gold }] }],
    ['POST', '/pools', { name: 'lab2', template: 'gold', size: 1 }],
  ];
  const add = (c: Case) => cases.push(c);
  const json = (method: string, p: string, body: unknown, extra: Partial<Case> = {}) =>
    add({ name: extra.name ?? JSON.stringify(body).slice(0, 80), method, path: p, body: JSON.stringify(body), headers: JSON_TYPE, ...extra });

  // 1. Media types, charsets, encodings: every body route (415 naming the header).
  const types = ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=zz', 'application/xml', 'text/xml', '*/*', 'application/vnd.api+json', 'application/octet-stream', 'application/json-patch+json', 'text/json'];
  const charsets = ['latin1', 'iso-8859-1', 'utf-16', 'utf-32', 'us-ascii'];
  const encodings: [string, Buffer][] = [['gzip', gzipSync('{}').subarray(0, 6)], ['br', Buffer.from([0xff, 0x13, 0x00])], ['compress', Buffer.from('{}')], ['x-custom', Buffer.from('{}')], ['deflate', Buffer.from('{}')], ['gzip', gzipSync('{}')]];
  for (const [method, p, base] of bodyRoutes) {
    const body = JSON.stringify(base);
    for (const t of types) add({ name: `content-type ${t}`, method, path: p, body, headers: { 'content-type': t }, status: 415, code: 'UNSUPPORTED_MEDIA_TYPE', field: 'Content-Type' });
    add({ name: 'no content-type', method, path: p, body, status: 415, field: 'Content-Type' });
    for (const c of charsets) add({ name: `charset ${c}`, method, path: p, body, headers: { 'content-type': `application/json; charset=${c}` }, status: 415, code: 'UNSUPPORTED_CHARSET', field: 'Content-Type' });
    for (const [e, bytes] of encodings) add({ name: `encoding ${e}`, method, path: p, body: bytes, headers: { ...JSON_TYPE, 'content-encoding': e }, status: 415, code: 'UNSUPPORTED_ENCODING', field: 'Content-Encoding' });
    // Refused before the body is looked at: no token, or a viewer.
    add({ name: 'bad encoding without a token', method, path: p, body: Buffer.from([1, 2, 3]), headers: { ...JSON_TYPE, 'content-encoding': 'gzip' }, token: null, status: 401, field: 'Authorization' });
    add({ name: 'bad JSON from a viewer', method, path: p, body: '{', headers: JSON_TYPE, token: VIEWER, status: 403 });
  }

  // 2. Not JSON, or JSON of the wrong shape at the top: every body route (400 naming body).
  const notJson = ['{', '{"a":}', '{"a":1,}', "{'a':1}", '{"a":NaN}', '{} trailing', 'undefined', '"just a string"', '42', 'null', 'true', '\u0000'];
  for (const [method, p, base] of bodyRoutes) {
    for (const text of notJson) add({ name: `not JSON ${JSON.stringify(text)}`, method, path: p, body: text, headers: JSON_TYPE, status: 400, code: 'INVALID_JSON', field: 'body' });
    add({ name: 'invalid UTF-8', method, path: p, body: Buffer.from([0x7b, 0x22, 0xc3, 0x28, 0x22, 0x3a, 0x31, 0x7d]), headers: JSON_TYPE, status: 400, code: 'INVALID_JSON', field: 'body' });
    for (const text of ['[]', '[{}]']) add({ name: `top-level array ${text}`, method, path: p, body: text, headers: JSON_TYPE, status: 400, field: 'body' });
    add({ name: 'over 4 MiB', method, path: p, body: JSON.stringify({ pad: 'x'.repeat(4 << 20) }), headers: JSON_TYPE, status: 413, code: 'BODY_TOO_LARGE', field: 'body' });
    for (const key of ['__proto__', 'constructor', 'prototype']) {
      add({ name: `reserved key ${key}`, method, path: p, body: `{"${key}":{"a":1}}`, headers: JSON_TYPE, status: 400, code: 'RESERVED_KEY', field: key });
    }
    add({ name: 'nesting 40 deep', method, path: p, body: `${'{"a":'.repeat(40)}1${'}'.repeat(40)}`, headers: JSON_TYPE, status: 400, code: 'TOO_DEEP', field: /^a(\.a)+$/ });
    add({ name: 'unknown top-level field', method, path: p, body: JSON.stringify({ ...base, bogusField: 1 }), headers: JSON_TYPE, status: 400, field: 'bogusField' });
  }

  // 3. Sysprep bodies: one bad value each, on the four sysprep routes.
  const deep = (n: number) => `${'{"a":'.repeat(n)}"x"${'}'.repeat(n)}`;
  const paramCases: [string, string, string | RegExp, number?][] = [
    ['profile number', '{"profile":1}', 'profile'],
    ['profile empty', '{"profile":""}', 'profile'],
    ['profile unknown', '{"profile":"no-such-profile"}', 'profile', 404],
    ['operations string', '{"operations":"all"}', 'operations'],
    ['operations.enable string', '{"operations":{"enable":"ssh-hostkeys"}}', 'operations.enable'],
    ['operations.enable number', '{"operations":{"enable":[1]}}', 'operations.enable[0]'],
    ['operations.enable unknown', '{"operations":{"enable":["teleport"]}}', 'operations.enable[0]'],
    ['operations.enable flag', '{"operations":{"enable":["--run=/bin/sh"]}}', 'operations.enable[0]'],
    ['operations.only unknown', '{"operations":{"only":["x; rm -rf /"]}}', 'operations.only[0]'],
    ['operations both', '{"operations":{"enable":["machine-id"],"disable":["machine-id"]}}', 'operations.enable[0]'],
    ['operations extra key', '{"operations":{"all":true}}', 'operations.all'],
    ['operations huge list', JSON.stringify({ operations: { enable: Array(200).fill('machine-id') } }), 'operations.enable'],
    ['dryRun string', '{"dryRun":"yes"}', 'dryRun'],
    ['mode unknown', '{"mode":"fast"}', 'mode'],
    ['params array', '{"params":[]}', 'params'],
    ['params string', '{"params":"hostname=x"}', 'params'],
    ['params unknown key', '{"params":{"hostnme":"x"}}', 'params.hostnme'],
    ['params __proto__', '{"params":{"__proto__":{"scripts":["#!/bin/sh"]}}}', 'params.__proto__'],
    ['params constructor', '{"params":{"constructor":{"name":"x"}}}', 'params.constructor'],
    ['hostname number', '{"params":{"hostname":1}}', 'params.hostname'],
    ['hostname flag', '{"params":{"hostname":"-x"}}', 'params.hostname'],
    ['hostname long flag', '{"params":{"hostname":"--run=/tmp/x"}}', 'params.hostname'],
    ['hostname shell', '{"params":{"hostname":"a;rm -rf /"}}', 'params.hostname'],
    ['hostname subshell', '{"params":{"hostname":"$(reboot)"}}', 'params.hostname'],
    ['hostname backticks', '{"params":{"hostname":"`id`"}}', 'params.hostname'],
    ['hostname newline', '{"params":{"hostname":"a\\nb"}}', 'params.hostname'],
    ['hostname unknown pattern', '{"params":{"hostname":"${password}"}}', 'params.hostname'],
    ['hostname nested pattern', '{"params":{"hostname":"${${vm}}"}}', 'params.hostname'],
    ['hostname huge', JSON.stringify({ params: { hostname: 'a'.repeat(100_000) } }), 'params.hostname'],
    ['hostname object', '{"params":{"hostname":{"a":1}}}', 'params.hostname'],
    ['hostname 2000 deep', `{"params":{"hostname":${deep(2000)}}}`, /^params\.hostname(\.a)+$/],
    ['timezone path', '{"params":{"timezone":"../../etc/passwd"}}', 'params.timezone'],
    ['timezone flag', '{"params":{"timezone":"-UTC"}}', 'params.timezone'],
    ['install flag', '{"params":{"install":["--force-yes"]}}', 'params.install[0]'],
    ['install shell', '{"params":{"install":["vim;reboot"]}}', 'params.install[0]'],
    ['install empty list', '{"params":{"install":[]}}', 'params.install'],
    ['install string', '{"params":{"install":"vim"}}', 'params.install'],
    ['install huge list', JSON.stringify({ params: { install: Array(300).fill('vim') } }), 'params.install'],
    ['update string', '{"params":{"update":"yes"}}', 'params.update'],
    ['removeUsers flag', '{"params":{"removeUsers":["-r"]}}', 'params.removeUsers[0]'],
    ['removeUsers shell', '{"params":{"removeUsers":["bob,root"]}}', 'params.removeUsers[0]'],
    ['removeUsers and keepUsers', '{"params":{"removeUsers":["bob"],"keepUsers":["alice"]}}', 'params.keepUsers'],
    ['users name flag', '{"params":{"users":[{"name":"-x"}]}}', 'params.users[0].name'],
    ['users unknown key', '{"params":{"users":[{"name":"bob","home":"/srv/bob"}]}}', 'params.users[0].home'],
    ['users uid without create', '{"params":{"users":[{"name":"bob","uid":2001}]}}', 'params.users[0].uid'],
    ['network overlapping interfaces', '{"params":{"network":[{"name":"eth0","address":"192.0.2.5/24"},{"name":"eth1","address":"192.0.2.5/24"}]}}', 'params.network[1].address'],
    ['network gateway outside', '{"params":{"network":[{"name":"eth0","address":"192.0.2.5/24","gateway":"198.51.100.1"}]}}', 'params.network[0].gateway'],
    ['users bad key', '{"params":{"users":[{"name":"bob","sshKeys":["ssh-rsa not-base64!"]}]}}', 'params.users[0].sshKeys[0]'],
    ['users key type lie', `{"params":{"users":[{"name":"bob","sshKeys":["ssh-ed25519 ${Buffer.from('ssh-rsa-and-more').toString('base64')}"]}]}}`, 'params.users[0].sshKeys[0]'],
    ['users password string', '{"params":{"users":[{"name":"bob","password":"plain"}]}}', 'params.users[0].password'],
    ['rootPassword string', '{"params":{"rootPassword":"hunter2"}}', 'params.rootPassword'],
    ['rootPassword empty', '{"params":{"rootPassword":{"value":""}}}', /^params\.rootPassword/],
    ['rootPassword random false', '{"params":{"rootPassword":{"random":false}}}', 'params.rootPassword'],
    ['delete relative', '{"params":{"delete":["etc/passwd"]}}', 'params.delete[0]'],
    ['delete newline', '{"params":{"delete":["/a\\nb"]}}', 'params.delete[0]'],
    ['truncate relative', '{"params":{"truncate":["machine-id"]}}', 'params.truncate[0]'],
    ['scripts string', '{"params":{"scripts":"#!/bin/sh"}}', 'params.scripts'],
    ['scripts empty', '{"params":{"scripts":[""]}}', 'params.scripts[0]'],
    ['firstboot number', '{"params":{"firstboot":[1]}}', 'params.firstboot[0]'],
    ['customize disabled with hostname', '{"operations":{"disable":["customize"]},"params":{"hostname":"x"}}', 'params.hostname'],
  ];
  for (const [p, base] of sysprepRoutes) {
    for (const [name, text, field, status] of paramCases) {
      const merged = { ...base, ...JSON.parse(text.replace('"__proto__"', '"PROTO"').replace('"constructor"', '"CTOR"')) };
      const body = JSON.stringify(merged).replace('"PROTO"', '"__proto__"').replace('"CTOR"', '"constructor"');
      add({ name, method: 'POST', path: p, body, headers: JSON_TYPE, field, status: status ?? 400 });
    }
    // An operator may not send scripts or passwords: 403 naming the field.
    json('POST', p, { ...base, params: { scripts: ['#!/bin/sh\nid\n'] } }, { name: 'operator script', token: OPERATOR, status: 403, code: 'FORBIDDEN_FIELD', field: 'params.scripts' });
    json('POST', p, { ...base, params: { rootPassword: { value: 'x' } } }, { name: 'operator password', token: OPERATOR, status: 403, code: 'FORBIDDEN_FIELD', field: 'params.rootPassword' });
  }
  // The explicit list.
  json('POST', '/sysprep', {}, { name: 'vms missing', field: 'vms', status: 400 });
  json('POST', '/sysprep', { vms: [] }, { name: 'vms empty', field: 'vms', status: 400 });
  json('POST', '/sysprep', { vms: 'vm1' }, { name: 'vms string', field: 'vms', status: 400 });
  json('POST', '/sysprep', { vms: [1] }, { name: 'vms number', field: 'vms[0]', status: 400 });
  json('POST', '/sysprep', { vms: [''] }, { name: 'vms empty id', field: 'vms[0]', status: 400 });
  json('POST', '/sysprep', { vms: ['no-such-vm'] }, { name: 'vms unknown', field: 'vms[0]', status: 404 });
  json('POST', '/sysprep', { vms: [vm, vm] }, { name: 'vms twice', field: 'vms[1]', status: 400 });
  json('POST', '/sysprep', { vms: Array(10_001).fill(vm) }, { name: 'vms too many', field: 'vms', status: 400 });

  // 4. Profiles.
  for (const name of ['Bad', 'a b', '-x', '..%2F..%2Fetc', 'x'.repeat(80), '%00']) json('PUT', `/profiles/${encodeURIComponent(decodeURIComponentSafe(name))}`, { description: 'x' }, { name: `profile name ${name}`, status: 400, field: 'name' });
  json('PUT', '/profiles/corpus', { params: { rootPassword: { random: true } } }, { name: 'secret in profile', status: 400, code: 'SECRET_IN_PROFILE', field: 'params.rootPassword' });
  json('PUT', '/profiles/corpus', { params: { scripts: ['#!/bin/sh'] } }, { name: 'script in profile', status: 400, field: 'params.scripts' });
  json('PUT', '/profiles/corpus', { description: 1 }, { name: 'description number', status: 400, field: 'description' });
  json('PUT', '/profiles/corpus', { description: 'x'.repeat(2000) }, { name: 'description huge', status: 400, field: 'description' });
  json('PUT', '/profiles/corpus', { operations: { only: ['teleport'] } }, { name: 'profile unknown op', status: 400, field: 'operations.only[0]' });
  json('PUT', '/profiles/corpus', { params: { hostname: '${nope}' } }, { name: 'profile bad pattern', status: 400, field: 'params.hostname' });
  json('PUT', '/profiles/corpus', { mode: 'yolo' }, { name: 'profile bad mode', status: 400, field: 'mode' });

  // 5. The inventory: names, templates, pools and, above all, disk paths.
  const names = ['', '-x', '../x', 'a/b', 'a b', 'x'.repeat(65), '.hidden', '$(id)'];
  for (const n of names) {
    json('POST', '/vms', { name: n, template: 'gold' }, { name: `vm name ${JSON.stringify(n)}`, field: 'name' });
    json('POST', '/templates', { name: n, disks: [{ path: gold }] }, { name: `template name ${JSON.stringify(n)}`, field: 'name' });
    json('POST', '/pools', { name: n, template: 'gold', size: 1 }, { name: `pool name ${JSON.stringify(n)}`, field: 'name' });
  }
  json('POST', '/vms', { name: 1, template: 'gold' }, { name: 'vm name number', field: 'name', status: 400 });
  json('POST', '/vms', { name: 'n1' }, { name: 'vm neither template nor disks', field: 'template', status: 400 });
  json('POST', '/vms', { name: 'n1', template: 'gold', disks: [{ path: gold }] }, { name: 'vm both', field: 'disks', status: 400 });
  json('POST', '/vms', { name: 'n1', template: 'gold', host: 'e2e-host' }, { name: 'vm clone with host', field: 'host', status: 400 });
  json('POST', '/vms', { name: 'n1', template: 'no-such-template' }, { name: 'vm unknown template', field: 'template', status: 404 });
  json('POST', '/vms', { name: 'n1', template: '' }, { name: 'vm empty template', field: 'template', status: 400 });
  json('POST', '/pools', { name: 'p1', template: 'gold', size: 0 }, { name: 'pool size 0', field: 'size', status: 400 });
  json('POST', '/pools', { name: 'p1', template: 'gold', size: -1 }, { name: 'pool size -1', field: 'size', status: 400 });
  json('POST', '/pools', { name: 'p1', template: 'gold', size: 1.5 }, { name: 'pool size 1.5', field: 'size', status: 400 });
  json('POST', '/pools', { name: 'p1', template: 'gold', size: 1e9 }, { name: 'pool size 1e9', field: 'size', status: 400 });
  json('POST', '/pools', { name: 'p1', template: 'gold', size: '3' }, { name: 'pool size string', field: 'size', status: 400 });
  json('POST', '/pools', { name: 'p1', template: 'gold', size: 2, vmNamePattern: 'same' }, { name: 'pool same names', field: 'vmNamePattern', status: 400 });
  json('POST', '/pools', { name: 'p1', template: 'gold', size: 2, vmNamePattern: '${bogus}-${index}' }, { name: 'pool unknown pattern', field: 'vmNamePattern', status: 400 });
  json('POST', '/pools', { name: 'p1', template: 'gold', size: 2, vmNamePattern: '../${index}' }, { name: 'pool pattern path', field: 'vmNamePattern', status: 400 });
  json('POST', '/pools', { name: 'p1', template: 'nope', size: 1 }, { name: 'pool unknown template', field: 'template', status: 404 });

  const root = s.storage;
  const block = firstBlockDevice();
  const badDisks: [string, unknown, string | RegExp][] = [
    ['relative path', { path: 'gold.qcow2' }, 'disks[0].path'],
    ['empty path', { path: '' }, 'disks[0].path'],
    ['path number', { path: 7 }, 'disks[0].path'],
    ['format qed', { path: gold, format: 'qed' }, 'disks[0].format'],
    ['unknown disk key', { path: gold, bus: 'virtio' }, 'disks[0].bus'],
    ['/etc/shadow', { path: '/etc/shadow' }, 'disks[0].path'],
    ['/etc/shadow as raw', { path: '/etc/shadow', format: 'raw' }, 'disks[0].path'],
    ['/proc/self/environ', { path: '/proc/self/environ' }, 'disks[0].path'],
    ['/proc/self/environ as raw', { path: '/proc/self/environ', format: 'raw' }, 'disks[0].path'],
    ['/dev/null', { path: '/dev/null', format: 'raw' }, 'disks[0].path'],
    ['/dev/zero', { path: '/dev/zero', format: 'raw' }, 'disks[0].path'],
    ['/dev/shm', { path: '/dev/shm' }, 'disks[0].path'],
    ...(block ? [[`block device ${block}`, { path: block, format: 'raw' }, 'disks[0].path'] as [string, unknown, string]] : []),
    ['dot-dot out of the root', { path: `${root}/../outside/x.qcow2` }, 'disks[0].path'],
    ['dot-dot twice', { path: `${root}/../../${path.basename(path.dirname(root))}/${path.basename(root)}/gold.qcow2` }, 'disks[0].path'],
    ['dot-dot inside the root', { path: `${root}/adir/../gold.qcow2` }, 'disks[0].path'],
    ['outside every root', { path: path.join(outside, 'x.qcow2') }, 'disks[0].path'],
    ['symlink to /etc/shadow', { path: path.join(root, 'shadow-link.qcow2') }, 'disks[0].path'],
    ['symlink out of the root', { path: path.join(root, 'escape-link.qcow2') }, 'disks[0].path'],
    ['a directory', { path: path.join(root, 'adir') }, 'disks[0].path'],
    ['the root itself', { path: root }, 'disks[0].path'],
    ['a text file', { path: path.join(root, 'notes.txt') }, 'disks[0].path'],
    ['a text file as raw', { path: path.join(root, 'notes.txt'), format: 'raw' }, 'disks[0].path'],
    ['missing file', { path: path.join(root, 'missing.qcow2') }, 'disks[0].path'],
    ['NUL in path', { path: `${root}/gold.qcow2\u0000.txt` }, 'disks[0].path'],
    ['qcow2 declared raw', { path: gold, format: 'raw' }, /^disks\[0\]/],
  ];
  for (const [name, disk, field] of badDisks) {
    json('POST', '/templates', { name: 'tpl-bad', disks: [disk] }, { name: `template disk: ${name}`, field });
    json('POST', '/vms', { name: 'vm-bad', disks: [disk] }, { name: `import disk: ${name}`, field });
  }
  json('POST', '/templates', { name: 'tpl-bad', disks: [] }, { name: 'template no disks', field: 'disks', status: 400 });
  json('POST', '/templates', { name: 'tpl-bad', disks: Array(40).fill({ path: gold }) }, { name: 'template 40 disks', field: /^disks/ });
  json('POST', '/vms', { name: 'vm-bad', disks: [{ path: gold }] }, { name: "import the template's own disk", field: 'disks[0].path' });
  json('POST', '/templates', { name: 'tpl-bad', disks: [{ path: gold }] }, { name: 'a template on a registered disk', field: 'disks[0].path' });
  json('POST', '/vms', { name: 'vm-bad', disks: [{ path: path.join(root, 'vm1.qcow2') }] }, { name: "a VM on another VM's disk", field: 'disks[0].path' });
  json('POST', '/vms', { name: 'vm-bad', disks: [{ path: gold }, { path: gold }] }, { name: 'the same disk twice', field: /^disks\[[01]\]\.path$/ });
  json('POST', '/vms', { name: 'vm-bad', disks: [{ path: path.join(root, 'notes.txt'), format: 'raw' }], host: 'no-such-host' }, { name: 'import on an unknown host', field: /^(host|disks\[0\]\.path)$/ });

  // 6. Query parameters and path parameters.
  const queries: [string, string][] = [
    ['/vms?limit=abc', 'limit'], ['/vms?limit=-1', 'limit'], ['/vms?limit=99999', 'limit'], ['/vms?limit=1e3', 'limit'],
    ['/pools?limit=x', 'limit'], ['/templates?limit=%00', 'limit'],
    ['/jobs?state=bogus', 'state'], ['/jobs?state=running&state=failed', 'state'], ['/jobs?limit=abc', 'limit'], ['/jobs?limit=9999', 'limit'],
    ['/jobs/nope?children=abc', 'children'], ['/jobs/nope?children=99999', 'children'],
    ['/jobs/nope/children?limit=abc', 'limit'], ['/jobs/nope/children?state=bogus', 'state'],
  ];
  for (const [q, field] of queries) add({ name: `query ${q}`, method: 'GET', path: q, status: 400, field });
  const unknownRefs = ['..%2F..%2Fetc%2Fshadow', '%2e%2e', 'nope', 'x'.repeat(300), '%00', '%27%20OR%201%3D1'];
  for (const ref of unknownRefs) {
    json('POST', `/vms/${ref}/sysprep`, {}, { name: `unknown VM ${ref.slice(0, 20)}`, status: 404, field: 'id' });
    json('POST', `/pools/${ref}/sysprep`, {}, { name: `unknown pool ${ref.slice(0, 20)}`, status: 404, field: 'id' });
    json('POST', `/templates/${ref}/sysprep`, {}, { name: `unknown template ${ref.slice(0, 20)}`, status: 404, field: 'id' });
    add({ name: `unknown job ${ref.slice(0, 20)}`, method: 'POST', path: `/jobs/${ref}/cancel`, status: 404, field: 'id' });
  }
  for (const bad of ['%E0%A4%A', '%', '%zz']) json('POST', `/vms/${bad}/sysprep`, {}, { name: `bad percent-encoding ${bad}`, status: 400, field: 'path' });

  // 7. Authentication.
  for (const header of ['Basic YWRtaW46YWRtaW4=', 'Bearer', 'Bearer a b', 'Token x', 'Bearer not-a-token']) {
    add({ name: `authorization ${header}`, method: 'POST', path: `/vms/${vm}/sysprep`, body: '{"params":{"hostname":"-x"}}', headers: { ...JSON_TYPE, authorization: header }, token: null, status: 401, field: 'Authorization' });
  }
}

function decodeURIComponentSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
