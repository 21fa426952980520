// The CLI's room commands against a real engine over real HTTP (test/unit/engine/harness.ts:
// embedded inventory, real SQLite and files, FAKE agents): a bad file (exit 2, file:line),
// show, a rollout's dry run, an unknown template refused before anything, delete leaving a
// VM of a planned name that the room did not create; the completion offers files after
// `room rollout`. The real rollout, reset and delete run in test/e2e/libvirt/libvirtRooms.test.ts.
import { PassThrough } from 'node:stream';
import { run } from '../../../engine-plugin/cli/main';
import { bashComplete, runCli } from '../../helpers/cliRun';
import type { CliIo } from '../../../engine-plugin/cli/CliIo';
import { harness, Harness, TOKENS } from '../engine/harness';

jest.setTimeout(60_000);

const ROOMS = `version: 1
rooms:
  lab:
    template: golden
    vms:
      - ids: "1-2"
        names: "lab-pc\${id}"
        hostname: "lab-pc\${id}"
`;

describe('room commands', () => {
  let h: Harness;
  const cli = (args: string[], files: Record<string, string> = { 'rooms.yaml': ROOMS }) => runCli(h.engine.url, TOKENS.operator.token, args, files);

  beforeAll(async () => {
    h = await harness({ agents: [{ jobMs: 100 }], config: { autoReset: { clone: { enabled: false, profile: 'clone-reset' }, import: { enabled: false, profile: 'clone-reset' }, pool: { enabled: false, profile: 'clone-reset' } } } });
    expect((await h.api('POST', '/templates', { name: 'golden', disks: [{ path: h.image('golden.qcow2') }] })).status).toBe(201);
  });
  afterAll(() => h.close());

  it('a bad or unreadable file: exit 2, the problem at its file:line', async () => {
    const bad = await cli(['room', 'show', 'bad.yaml', 'lab'], { 'bad.yaml': 'version: 1\nrooms:\n  lab:\n    template: golden\n    colour: red\n    vms: [{ ids: "1-2" }]\n' });
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/bad\.yaml:5:\d+: rooms\.lab\.colour/);
    expect(await cli(['room', 'show', 'missing.yaml', 'lab'])).toMatchObject({ code: 2, err: expect.stringContaining('cannot read room file missing.yaml') });
  });

  it('show and a rollout dry run list each VM; nothing is created', async () => {
    const shown = await cli(['room', 'show', 'rooms.yaml', 'lab']);
    expect(shown.code).toBe(0);
    expect(shown.out).toMatch(/lab-pc1\s+absent/);
    const dry = await cli(['room', 'rollout', 'rooms.yaml', 'lab', '--dry-run']);
    expect(dry).toMatchObject({ code: 0 });
    expect(dry.out).toMatch(/lab-pc2\s+clone\s+clone-reset/);
    expect((await h.api('GET', '/vms?search=lab-pc')).body.items).toEqual([]);
  });

  it('a group whose template is unknown is refused naming file, line and key', async () => {
    const r = await h.api('POST', '/rooms/lab/rollout', { file: 'rooms.yaml', source: ROOMS.replace('template: golden', 'template: nope') }, 'operator');
    expect(r).toMatchObject({ status: 404, body: { error: { code: 'TEMPLATE_NOT_FOUND', details: { file: 'rooms.yaml', line: 4, key: 'rooms.lab.template' } } } });
    expect((await h.api('GET', '/vms?search=lab-pc')).body.items).toEqual([]);
    expect((await h.api('POST', '/rooms/lab/rollout', { file: 'rooms.yaml', source: ROOMS }, 'viewer')).status).toBe(403);
  });

  it('GET /rooms/schema is the room file JSON Schema; the OpenAPI document lists the room routes', async () => {
    const schema = (await h.api('GET', '/rooms/schema', undefined, 'viewer')).body;
    expect(schema).toMatchObject({ type: 'object', properties: { rooms: expect.any(Object), version: expect.any(Object) } });
    const paths = Object.keys((await h.api('GET', '/openapi.json', undefined, null)).body.paths);
    expect(paths).toEqual(expect.arrayContaining(['/api/v1/rooms/schema', ...['show', 'rollout', 'reset', 'delete'].map((v) => `/api/v1/rooms/{room}/${v}`)]));
  });

  it('delete leaves a VM of a planned name that the room did not create', async () => {
    expect((await h.api('POST', '/vms', { name: 'lab-pc1', template: 'golden' })).status).toBe(201);
    const r = await cli(['room', 'delete', 'rooms.yaml', 'lab', '-o', 'json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({ room: 'lab', failed: 0, vms: [{ name: 'lab-pc1', action: 'left', ok: true }, { name: 'lab-pc2', action: 'absent', ok: true }] });
    expect((await h.api('GET', '/vms/lab-pc1')).status).toBe(200);
  });

  it('the completion offers the room commands, and files after them', async () => {
    let script = '';
    const io = { out: (s: string) => void (script += s), err: () => undefined, env: {}, stdout: new PassThrough() as unknown as CliIo['stdout'], files: { read: () => '' } };
    expect(await run(['node', 'ovirt-sysprep', 'completion', 'bash'], io)).toBe(0);
    const complete = (...words: string[]) => bashComplete(script, words, __dirname);
    expect(complete('ovirt-sysprep', 'room', '')).toEqual(expect.arrayContaining(['show', 'rollout', 'reset', 'delete']));
    expect(complete('ovirt-sysprep', 'room', 'rollout', 'roomComm')).toEqual(['roomCommands.test.ts']);
    expect(complete('ovirt-sysprep', 'room', 'rollout', '--res')).toEqual(['--resume']);
  });
});
