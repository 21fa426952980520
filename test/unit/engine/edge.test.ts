// The typed API edge (issue 10, items 1-4), over real HTTP in front of a FAKE agent
// (test/unit/engine/fakeAgent.ts): a body that is not JSON never runs anything, reserved
// keys and deep nesting are refused naming the field, encodings and charsets get a 415
// after authentication, and every 400 names its field. The pure checks of body.ts are
// tested as tables below.
import { gzipSync } from 'node:zlib';
import { checkContentEncoding, checkContentType, checkShape, parseJson } from '../../../engine-plugin/api/body';
import { rawRequest } from '../../helpers/rawHttp';
import { harness, Harness, TOKENS } from './harness';

jest.setTimeout(60_000);

const ADMIN = `Bearer ${TOKENS.admin.token}`;
const OPERATOR = `Bearer ${TOKENS.operator.token}`;
const deep = (n: number, leaf: unknown = 'x'): unknown => {
  let v = leaf;
  for (let i = 0; i < n; i++) v = { a: v };
  return v;
};

describe('the API edge', () => {
  let h: Harness;
  let vm: string;
  const send = (method: string, path: string, body?: string | Buffer, headers: Record<string, string> = {}, auth: string | null = ADMIN) =>
    rawRequest(h.engine.url, { method, path: `/api/v1${path}`, body, headers: { ...(auth ? { authorization: auth } : {}), ...headers } });

  beforeAll(async () => {
    h = await harness({ config: { autoReset: { clone: { enabled: false, profile: 'clone-reset' }, import: { enabled: false, profile: 'clone-reset' }, pool: { enabled: false, profile: 'clone-reset' } } } });
    vm = (await h.api('POST', '/vms', { name: 'edge1', disks: [{ path: h.image('edge1.qcow2') }] })).body.vm.id;
    const tpl = await h.api('POST', '/templates', { name: 'gold', disks: [{ path: h.image('gold.qcow2') }] });
    expect(tpl.status).toBe(201);
    expect((await h.api('POST', '/pools', { name: 'lab', template: 'gold', size: 2 })).status).toBe(201);
    expect((await h.api('PUT', '/profiles/mine', { description: 'kept', operations: { only: ['machine-id'] } })).status).toBe(201);
  });
  afterAll(() => h.close());
  afterEach(() => expect(h.agents[0].startCalls).toEqual([]));

  describe('item 1: a body that is not JSON is refused and nothing runs', () => {
    const body = JSON.stringify({ params: { hostname: '-x' } });
    it.each([
      ['text/plain'],
      ['application/x-www-form-urlencoded'],
      ['multipart/form-data; boundary=x'],
      ['application/xml'],
      ['*/*'],
      ['application/vnd.api+json'],
    ])('POST /vms/ID/sysprep with %s: 415 naming Content-Type', async (type) => {
      const r = await send('POST', `/vms/${vm}/sysprep`, body, { 'content-type': type });
      expect(r.status).toBe(415);
      expect(r.body.error).toMatchObject({ code: 'UNSUPPORTED_MEDIA_TYPE', details: { field: 'Content-Type' } });
    });

    it('POST /pools/ID/sysprep with text/plain: 415, no job', async () => {
      const r = await send('POST', '/pools/lab/sysprep', body, { 'content-type': 'text/plain' });
      expect(r.status).toBe(415);
      expect((await h.api('GET', '/jobs')).body.items).toEqual([]);
    });

    it('a body without any Content-Type: 415', async () => {
      const r = await send('POST', `/vms/${vm}/sysprep`, body);
      expect(r.status).toBe(415);
    });

    it('PUT /profiles/NAME with text/plain leaves the profile as it was', async () => {
      const r = await send('PUT', '/profiles/mine', '{}', { 'content-type': 'text/plain' });
      expect(r.status).toBe(415);
      expect((await h.api('GET', '/profiles/mine')).body).toMatchObject({ description: 'kept', operations: { only: ['machine-id'] } });
    });

    it('PUT /profiles/NAME without a body is refused (400 BODY_REQUIRED), the profile kept', async () => {
      const r = await send('PUT', '/profiles/mine');
      expect(r.status).toBe(400);
      expect(r.body.error).toMatchObject({ code: 'BODY_REQUIRED', details: { field: 'body' } });
      expect((await h.api('GET', '/profiles/mine')).body.description).toBe('kept');
    });
  });

  describe('item 2: reserved keys are refused naming the field', () => {
    it.each([
      ['{"params":{"__proto__":{"hostname":"x"}}}', 'params.__proto__'],
      ['{"__proto__":{"dryRun":true}}', '__proto__'],
      ['{"params":{"constructor":{"prototype":1}}}', 'params.constructor'],
      ['{"operations":{"enable":[{"prototype":1}]}}', 'operations.enable[0].prototype'],
    ])('%s -> 400 %s', async (text, field) => {
      const r = await send('POST', `/vms/${vm}/sysprep`, text, { 'content-type': 'application/json' });
      expect(r.status).toBe(400);
      expect(r.body.error).toMatchObject({ code: 'RESERVED_KEY', details: { field } });
    });

    it("an operator's params.__proto__.scripts is refused (never passes the role check by hiding)", async () => {
      const r = await send('POST', `/vms/${vm}/sysprep`, '{"params":{"__proto__":{"scripts":["#!/bin/sh\\nid"]}}}', { 'content-type': 'application/json' }, OPERATOR);
      expect(r.status).toBe(400);
      expect(r.body.error).toMatchObject({ code: 'RESERVED_KEY', details: { field: 'params.__proto__' } });
    });
  });

  describe('item 3: deep nesting, encodings and charsets are 4xx, after authentication', () => {
    it('nesting 2000 levels under params.hostname: 400 TOO_DEEP', async () => {
      const r = await send('POST', `/vms/${vm}/sysprep`, JSON.stringify({ params: { hostname: deep(2000) } }), { 'content-type': 'application/json' });
      expect(r.status).toBe(400);
      expect(r.body.error.code).toBe('TOO_DEEP');
      expect(r.body.error.details.field).toMatch(/^params\.hostname(\.a)+$/);
    });

    it.each([
      ['gzip', gzipSync('{}').subarray(0, 8)],
      ['br', Buffer.from([0xff, 0x00, 0x13])],
      ['compress', Buffer.from('{}')],
      ['x-custom', Buffer.from('{}')],
      ['gzip', gzipSync('{}')],
    ])('Content-Encoding %s: 415 naming Content-Encoding', async (encoding, bytes) => {
      const r = await send('POST', `/vms/${vm}/sysprep`, bytes, { 'content-type': 'application/json', 'content-encoding': encoding });
      expect(r.status).toBe(415);
      expect(r.body.error).toMatchObject({ code: 'UNSUPPORTED_ENCODING', details: { field: 'Content-Encoding' } });
    });

    it.each(['latin1', 'utf-16', 'iso-8859-1'])('charset=%s: 415 UNSUPPORTED_CHARSET', async (charset) => {
      const r = await send('POST', `/vms/${vm}/sysprep`, '{}', { 'content-type': `application/json; charset=${charset}` });
      expect(r.status).toBe(415);
      expect(r.body.error.code).toBe('UNSUPPORTED_CHARSET');
    });

    it('a bad encoding without a token is 401: the body is never looked at', async () => {
      const r = await send('POST', `/vms/${vm}/sysprep`, Buffer.from([1, 2, 3]), { 'content-type': 'application/json', 'content-encoding': 'gzip' }, null);
      expect(r.status).toBe(401);
      expect(r.body.error.code).toBe('UNAUTHENTICATED');
    });

    it('a bad body from a viewer is 403: the role is checked first', async () => {
      const r = await send('POST', `/vms/${vm}/sysprep`, '{', { 'content-type': 'application/json' }, `Bearer ${TOKENS.viewer.token}`);
      expect(r.status).toBe(403);
    });

    it('a body over 4 MiB: 413', async () => {
      const r = await send('POST', `/vms/${vm}/sysprep`, JSON.stringify({ params: { hostname: 'x'.repeat(5 << 20) } }), { 'content-type': 'application/json' });
      expect(r.status).toBe(413);
      expect(r.body.error).toMatchObject({ code: 'BODY_TOO_LARGE', details: { field: 'body' } });
    });

    it('a path that is not valid percent-encoding: 400, not 500', async () => {
      const r = await send('POST', '/vms/%E0%A4%A/sysprep', '{}', { 'content-type': 'application/json' });
      expect(r.status).toBe(400);
      expect(r.body.error.details.field).toBe('path');
    });
  });

  describe('item 4: every 400 names its field', () => {
    it.each([
      ['POST', '/sysprep', '[]', 'body'],
      ['POST', `/vms/ID/sysprep`, '[{"profile":"x"}]', 'body'],
      ['POST', '/vms', '{"name":"x"}', 'template'],
      ['POST', '/vms', '{"name":"x","template":"gold","disks":[{"path":"/x"}]}', 'disks'],
      ['POST', '/vms', '{"name":"x","template":"gold","host":"h"}', 'host'],
      ['POST', '/templates', '[]', 'body'],
      ['PUT', '/profiles/p2', '[]', 'body'],
      ['POST', '/pools', '{"name":"p","template":"gold","size":"3"}', 'size'],
      ['POST', '/vms/ID/sysprep', '{"bogus":1}', 'bogus'],
      ['POST', '/vms/ID/sysprep', '{', 'body'],
    ])('%s %s %s -> field %s', async (method, path, body, field) => {
      const r = await send(method, path.replace('ID', vm), body, { 'content-type': 'application/json' });
      expect(r.status).toBe(400);
      expect(r.body.error.details.field).toBe(field);
    });
  });

  it('an empty sysprep body is still the profile defaults (the CLI and web page send none for a plain seal)', async () => {
    // Refused for another reason (the template backs clones), after the body was accepted.
    const r = await send('POST', '/templates/gold/sysprep');
    expect(r.status).toBe(409);
    expect(r.body.error.code).toBe('TEMPLATE_IN_USE');
  });
});

describe('body checks (pure)', () => {
  it.each([
    ['application/json', true],
    ['application/json; charset=utf-8', true],
    ['Application/JSON; charset="UTF-8"', true],
    ['application/json;charset=utf8', true],
    [undefined, false],
    ['', false],
    ['text/json', false],
    ['application/json-patch+json', false],
    ['application/json; charset=latin1', false],
  ])('Content-Type %j accepted: %s', (header, ok) => {
    if (ok) expect(() => checkContentType(header)).not.toThrow();
    else expect(() => checkContentType(header)).toThrow(expect.objectContaining({ details: expect.objectContaining({ field: 'Content-Type' }) }));
  });

  it.each([[undefined, true], ['identity', true], [' Identity ', true], ['gzip', false], ['deflate', false], ['', false]])('Content-Encoding %j accepted: %s', (header, ok) => {
    if (ok) expect(() => checkContentEncoding(header)).not.toThrow();
    else expect(() => checkContentEncoding(header)).toThrow(/Content-Encoding/);
  });

  it.each([
    ['{"a":1}', undefined],
    ['[1,2]', undefined],
    ['"x"', 'body'],
    ['1', 'body'],
    ['null', 'body'],
    ['{"a":', 'body'],
    ['{"a":{"__proto__":1}}', 'a.__proto__'],
    ['[{"constructor":1}]', '[0].constructor'],
  ])('parseJson(%s) field at fault: %s', (text, field) => {
    if (!field) expect(() => parseJson(Buffer.from(text))).not.toThrow();
    else expect(() => parseJson(Buffer.from(text))).toThrow(expect.objectContaining({ details: expect.objectContaining({ field }) }));
  });

  it('refuses invalid UTF-8', () => {
    expect(() => parseJson(Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d]))).toThrow(/UTF-8/);
  });

  it('accepts 32 levels and refuses 33, without recursion even at 100,000', () => {
    expect(() => checkShape(deep(32))).not.toThrow();
    expect(() => checkShape(deep(33))).toThrow(/deeper than 32/);
    expect(() => checkShape(deep(100_000))).toThrow(expect.objectContaining({ code: 'TOO_DEEP' }));
  });
});
