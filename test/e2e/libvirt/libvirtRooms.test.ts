// Rooms on the libvirt inventory against a REAL libvirtd (qemu:///system, started by
// helpers/libvirtd.ts when it is not running), the real host agent and the real
// virt-sysprep (TCG), through the real HTTP API and the real CLI (in process):
//   * a room whose group names an unknown template: 404 naming the file's line and key,
//     nothing created; a bad room file: 400 ROOM_FILE_INVALID with file/line/key;
//   * `room rollout` of 3 VMs in 2 groups (CLI): one job of kind room, a child per VM;
//     each VM cloned from the template with the room's mark, its own hostname on its disk,
//     a snapshot whose description matches reset_to_snapshot, released (down) and left
//     down (start_after_rollout false); the template's disk unchanged; `room show`;
//   * a second rollout is refused (409 naming file:line); after one VM's snapshot is
//     deleted, `rollout --resume` syspreps that VM alone (the others are done);
//   * `room reset` after a file was written on a VM's disk: the file is gone, the hostname
//     of the rollout is back, the VM stays down (start_after_reset auto, it was down);
//   * `room delete`: every VM of the room is undefined and its overlays removed; a domain
//     of a planned name WITHOUT the room's mark is left and reported.
// Domains are of type qemu, have NO network interface, and are named `lvroom-<pid>-*`;
// afterAll destroys and undefines every one of them; the stack's directory goes with it.
import 'reflect-metadata';
import { execFile } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { METADATA_NS } from '../../../engine-plugin/libvirt/libvirtModel';
import { ROOM_MARK } from '../../../shared/rooms/RoomPlan';
import { guestRead, sha256File } from '../../helpers/disk';
import { copyGuestImage, IDENTITY_PATHS, libguestfsEnv } from '../../helpers/guestImage';
import { readGuestFiles } from '../engine/guestFiles';
import { OPERATOR, Stack, VIEWER } from '../engine/stack';
import { cli as cliOf, removeDomains, startLibvirtEngine, startLibvirtStack, virsh } from './libvirtStack';

jest.setTimeout(40 * 60_000);

const execFileAsync = promisify(execFile);
const PREFIX = `lvroom-${process.pid}-`;
const TPL = `${PREFIX}tpl`;
const ROOM = 'lab';
const VMS = [1, 2, 3].map((id) => `${PREFIX}vd${id}`);
const OUTSIDER = `${PREFIX}vd4`;
const PROBE = '/etc/room-reset-probe';

/** The room file: 2 groups (ids 1-2, then 3) from one template, their own hostnames. */
const roomFile = (template: string, ids2 = '[3]') => `version: 1
rooms:
  ${ROOM}:
    template: ${template}
    snapshot_description: "room ${ROOM} rolled out \${rollout_time}"
    reset_to_snapshot: "^room ${ROOM} rolled out "
    vms:
      - ids: "1-2"
        names: "${PREFIX}vd\${id}"
        hostname: "lab-pc\${id}"
      - ids: ${ids2}
        names: "${PREFIX}vd\${id}"
        hostname: "teacher\${id}"
`;

interface Vm { id: string; name: string; status: string; disks: { path: string }[]; marks?: Record<string, string> }

describe('rooms on libvirt: rollout, resume, reset, delete with a real virt-sysprep', () => {
  let s: Stack;
  const f: Record<string, string> = {};

  /** The real CLI as an operator, reading real files. */
  const cli = (args: string[]) => cliOf(s, args, { read: (file) => readFileSync(file, 'utf8'), mode: () => 0o100600 });
  const body = (file: string, extra: Record<string, unknown> = {}) => ({ file: path.basename(file), source: readFileSync(file, 'utf8'), ...extra });
  const vm = async (name: string): Promise<Vm> => (await s.api('GET', `/vms/${name}`)).body;
  const snapshots = async (name: string) => ((await s.api('GET', `/vms/${name}/snapshots`)).body.items as { id: string; description: string }[]);
  const hostname = async (disk: string) => (await guestRead(disk, [IDENTITY_PATHS.hostname]))[IDENTITY_PATHS.hostname]?.trim();
  /** Each disk's hostname and PROBE, all disks in ONE libguestfs launch (a launch costs 15-30 s). */
  const readAll = async (disks: string[]) => {
    const files = await readGuestFiles(disks, [IDENTITY_PATHS.hostname, PROBE]);
    return disks.map((d) => ({ hostname: files[d][IDENTITY_PATHS.hostname]?.trim(), probe: files[d][PROBE] }));
  };
  const domains = async () => (await virsh('list', '--all', '--name')).split('\n').map((n) => n.trim()).filter((n) => n.startsWith(PREFIX)).sort();

  beforeAll(async () => {
    s = await startLibvirtStack({ maxJobs: 2 });
    f.tpl = path.join(s.storage, `${TPL}.qcow2`);
    await copyGuestImage(f.tpl);
    chmodSync(f.tpl, 0o644);
    f.tplSum = await sha256File(f.tpl);
    const xml = path.join(s.dir, 'tpl.xml');
    writeFileSync(xml, `<domain type='qemu'><name>${TPL}</name><memory unit='MiB'>256</memory><vcpu>1</vcpu><os><type arch='x86_64'>hvm</type></os><devices><disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='${f.tpl}'/><target dev='vda' bus='virtio'/></disk></devices></domain>`);
    await virsh('define', '--file', xml);
    await virsh('metadata', '--domain', TPL, '--uri', METADATA_NS.template, '--key', 'ovirt-sysprep', '--set', '<template/>');
    f.rooms = path.join(s.dir, 'rooms.yaml');
    writeFileSync(f.rooms, roomFile(TPL));
    await startLibvirtEngine(s);
  });

  afterAll(async () => {
    await removeDomains(PREFIX);
    await s?.close();
  });

  it('refuses an unknown template and a bad room file before anything is created', async () => {
    const unknown = path.join(s.dir, 'unknown.yaml');
    writeFileSync(unknown, roomFile(`${PREFIX}no-such-template`));
    const r = await s.api('POST', `/rooms/${ROOM}/rollout`, body(unknown), OPERATOR);
    expect(r).toMatchObject({ status: 404, body: { error: { code: 'TEMPLATE_NOT_FOUND', details: { file: 'unknown.yaml', line: 4, key: expect.stringContaining('template') } } } });
    expect(r.body.error.message).toMatch(/^unknown\.yaml:4: /);
    const bad = await s.api('POST', `/rooms/${ROOM}/rollout`, { file: 'bad.yaml', source: 'version: 1\nrooms:\n  lab:\n    template: x\n    colour: red\n    vms: [{ ids: "1-2" }]\n' }, OPERATOR);
    expect(bad).toMatchObject({ status: 400, body: { error: { code: 'ROOM_FILE_INVALID', details: { file: 'bad.yaml' } } } });
    expect(JSON.stringify(bad.body.error.details)).toContain('colour');
    expect(await s.api('POST', `/rooms/${ROOM}/rollout`, body(f.rooms), VIEWER)).toMatchObject({ status: 403 });
    const cliUnknown = await cli(['room', 'rollout', unknown, ROOM]);
    expect(cliUnknown.code).toBe(2);
    expect(cliUnknown.err).toContain('unknown.yaml:4');
    expect(await domains()).toEqual([TPL]);
  });

  it('dry run and show: the plan per VM, nothing created', async () => {
    const dry = await cli(['room', 'rollout', f.rooms, ROOM, '--dry-run', '-o', 'json']);
    expect(dry.code).toBe(0);
    const plan = JSON.parse(dry.out);
    expect(plan).toMatchObject({ room: ROOM, dryRun: true, vms: VMS.map((name) => ({ name, action: 'clone', profile: 'clone-reset' })) });
    const shown = await s.api('POST', `/rooms/${ROOM}/show`, body(f.rooms), VIEWER);
    expect(shown).toMatchObject({ status: 200, body: { room: ROOM, vms: VMS.map((name) => ({ name, exists: false, marked: false })) } });
    expect(await domains()).toEqual([TPL]);
  });

  it('rolls the room out: one job, each VM cloned with the mark, its hostname, its snapshot, released', async () => {
    const r = await cli(['room', 'rollout', f.rooms, ROOM]);
    expect({ code: r.code, err: r.err }).toEqual({ code: 0, err: '' });
    expect(r.out).toMatch(/job [0-9a-f-]{36} \(room lab\) submitted/);
    for (const name of VMS) expect(r.out).toMatch(new RegExp(`${name}\\s+done\\s+succeeded\\s+release:done snapshot:done start:skipped`));
    const jobs = (await s.api('GET', '/jobs?kind=room')).body.items;
    expect(jobs).toHaveLength(1);
    expect(jobs[0]).toMatchObject({ kind: 'room', state: 'succeeded', target: { type: 'room', name: ROOM }, progress: { done: 3, total: 3 } });

    const got = await Promise.all(VMS.map(vm));
    expect((await readAll(got.map((v) => v.disks[0].path))).map((g) => g.hostname)).toEqual(['lab-pc1', 'lab-pc2', 'teacher3']);
    for (const [i, name] of VMS.entries()) {
      const v = got[i];
      expect(v).toMatchObject({ name, status: 'down', marks: { [ROOM_MARK]: ROOM } });
      expect(existsSync(v.disks[0].path)).toBe(true);
      const snaps = await snapshots(name);
      expect(snaps).toHaveLength(1);
      expect(snaps[0].description).toMatch(/^room lab rolled out \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    }
    expect(await sha256File(f.tpl)).toBe(f.tplSum);

    const shown = (await s.api('POST', `/rooms/${ROOM}/show`, body(f.rooms), VIEWER)).body;
    for (const v of shown.vms) expect(v).toMatchObject({ exists: true, status: 'down', marked: true, snapshots: [expect.objectContaining({ matches: true })] });
  });

  it('refuses a second rollout; --resume syspreps only the VM without its snapshot', async () => {
    const again = await s.api('POST', `/rooms/${ROOM}/rollout`, body(f.rooms), OPERATOR);
    expect(again).toMatchObject({ status: 409, body: { error: { code: 'ROOM_VM_EXISTS', details: { file: 'rooms.yaml', line: 9, key: 'rooms.lab.vms[0].names' } } } });
    expect(again.body.error.message).toMatch(/^rooms\.yaml:9: VM "lvroom-\d+-vd1" exists/);

    // VM 2 "failed" before its snapshot: resume does it again, and only it.
    const [snap] = await snapshots(VMS[1]);
    expect((await s.api('DELETE', `/vms/${VMS[1]}/snapshots/${snap.id}`, undefined, OPERATOR)).status).toBe(204);
    const dry = (await s.api('POST', `/rooms/${ROOM}/rollout`, body(f.rooms, { resume: true, dryRun: true }), OPERATOR)).body;
    expect(dry.vms.map((v: { action: string }) => v.action)).toEqual(['done', 'sysprep', 'done']);
    const resumed = await cli(['room', 'rollout', f.rooms, ROOM, '--resume', '-o', 'json']);
    expect(resumed.code).toBe(0);
    const out = JSON.parse(resumed.out);
    expect(out).toMatchObject({ failed: 0, job: { kind: 'room', state: 'succeeded', progress: { total: 1 } } });
    expect(out.vms.map((v: { action: string; done: boolean }) => [v.action, v.done])).toEqual([['done', true], ['sysprep', true], ['done', true]]);
    expect(await snapshots(VMS[1])).toHaveLength(1);
    expect(await hostname((await vm(VMS[1])).disks[0].path)).toBe('lab-pc2');
  });

  it('reset: a change written on a VM disk is gone, the VM reverted to its rollout snapshot', async () => {
    const disk = (await vm(VMS[0])).disks[0].path;
    await execFileAsync('guestfish', ['-a', disk, '-i', 'write', PROBE, 'changed after rollout'], { env: libguestfsEnv(), timeout: 300_000 });

    const r = await cli(['room', 'reset', f.rooms, ROOM, '-o', 'json']);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.out);
    expect(out).toMatchObject({ room: ROOM, failed: 0, vms: VMS.map((name) => ({ name, ok: true, action: 'revert', wasRunning: false, started: false })) });
    // (guestfish's write above fails the test if it did not write: the probe was there.)
    expect(await readAll([disk])).toEqual([{ hostname: 'lab-pc1', probe: null }]);
    for (const name of VMS) expect((await vm(name)).status).toBe('down');
  });

  it('delete: removes the VMs the room made, leaves a same-named VM without the mark', async () => {
    // A domain of a planned name (id 4) made outside the room: no mark.
    const four = path.join(s.dir, 'rooms4.yaml');
    writeFileSync(four, roomFile(TPL, '[3, 4]'));
    const xml = path.join(s.dir, 'outsider.xml');
    writeFileSync(xml, `<domain type='qemu'><name>${OUTSIDER}</name><memory unit='MiB'>64</memory><vcpu>1</vcpu><os><type arch='x86_64'>hvm</type></os><devices></devices></domain>`);
    await virsh('define', '--file', xml);
    const disks = await Promise.all(VMS.map(async (n) => (await vm(n)).disks[0].path));

    const dry = (await s.api('POST', `/rooms/${ROOM}/delete`, body(four, { dryRun: true }), OPERATOR)).body;
    expect(dry.vms.map((v: { action: string }) => v.action)).toEqual(['delete', 'delete', 'delete', 'left']);
    expect(await domains()).toEqual([...VMS, OUTSIDER, TPL].sort());

    const r = await cli(['room', 'delete', four, ROOM]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(new RegExp(`${OUTSIDER}\\s+left\\s+ok\\s+not created by room "lab"`));
    expect(await domains()).toEqual([OUTSIDER, TPL].sort());
    for (const d of disks) expect(existsSync(d)).toBe(false);
    expect(await sha256File(f.tpl)).toBe(f.tplSum);
    const again = (await s.api('POST', `/rooms/${ROOM}/delete`, body(four), OPERATOR)).body;
    expect(again.vms.map((v: { action: string }) => v.action)).toEqual(['absent', 'absent', 'absent', 'left']);
  });
});
