// Issue 14's "what must be shown", as an administrator does it: the built CLI
// (`ovirt-sysprep room ...`, a child process) against the real engine (embedded
// inventory), the real host agent and the real virt-sysprep (TCG) on real images.
//   * three templates from copies of the three guest flavours (Debian with ifupdown, a
//     NetworkManager guest, an EL 8 guest with ifcfg), each disk's sha256 taken first;
//   * a room file (written below, readable like docs/rooms.md's example) of 4 VMs: two
//     Debian, one NM, one EL 8; per VM its hostname and static address (`ipFromIndex`),
//     gateway, DNS; a user with groups, shell, sudo and an SSH key; a file with mode and
//     owner; a service enabled; a snapshot described with `${ip}`;
//   * `room show` (the plan, nothing exists), `room rollout` (one job, all 4 done), then
//     each VM's disk read back (one libguestfs launch for the 4): its hostname, its address
//     in its guest's native format, nothing left of the template's address or MAC, the
//     user, sudoers, key, file, service link; its snapshot; the templates byte-identical;
//   * a second rollout refused (409) with nothing changed;
//   * a change written on a VM's disk, one VM started: `room reset` gives the disk its
//     rollout content back and starts again only the VM that was running (auto);
//   * `room delete`: the 4 VMs and their overlay files gone, a VM of a planned name made
//     outside the room (no mark) left alone.
// Everything lives under the stack's directory (removed by close()); the outsider VM is
// deleted at the end.
import { execFile } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { ROOM_MARK } from '../../../shared/rooms/RoomPlan';
import { sha256File } from '../../helpers/disk';
import { cachedGuestImage, copyGuestImage, GOLDEN_NET, GuestFlavour, GUEST_UNITS, libguestfsEnv } from '../../helpers/guestImage';
import { assertCliBuilt, runCli } from '../cli/runCli';
import { guestCommands, readGuestFiles } from '../engine/guestFiles';
import { ADMIN, Stack, startStack } from '../engine/stack';

// One rollout: 4 real virt-sysprep runs on 2 cores, plus the appliance launches to read.
jest.setTimeout(40 * 60_000);

const run = promisify(execFile);
const ROOM = 'lab';
const FLAVOURS: GuestFlavour[] = ['debian', 'nm', 'el8'];
const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGdvbGRlbmltYWdlZmFrZWVkMjU1MTk teacher@example';

/** The room's 4 VMs: name, flavour, hostname, address (ipFromIndex 192.0.2.100 + id). */
const VMS = [
  { name: 'lab-vd1', flavour: 'debian', hostname: 'lab-pc1', ip: '192.0.2.101' },
  { name: 'lab-vd2', flavour: 'debian', hostname: 'lab-pc2', ip: '192.0.2.102' },
  { name: 'lab-nm3', flavour: 'nm', hostname: 'lab-pc3', ip: '192.0.2.103' },
  { name: 'lab-el4', flavour: 'el8', hostname: 'lab-pc4', ip: '192.0.2.104' },
] as const;
const OUTSIDER = 'lab-el5';

/** The room file as an admin writes it; `elIds` lets the delete's file plan a fifth VM. */
const roomFile = (elIds = '[4]') => `# The showcase room: two Debian desktops, one NetworkManager and one EL 8 guest.
version: 1
rooms:
  ${ROOM}:
    template: golden-debian
    start_after_rollout: false
    start_after_reset: auto
    snapshot_description: "\${vm} at \${ip}, rolled out \${rollout_time}"
    reset_to_snapshot: "^lab-[a-z]+\\\\d+ at 192\\\\.0\\\\.2\\\\.\\\\d+, rolled out "
    params:
      network:
        - name: eth0
          address: { ipFromIndex: 192.0.2.100/24 }
          gateway: 192.0.2.1
          dns: [192.0.2.53]
          search: [lab.example.org]
      groups:
        - name: students
          gid: 2000
      users:
        - name: teacher
          create: true
          comment: Class teacher
          shell: /bin/sh
          groups: [students, users]
          sudo: true
          sshKeys: ["${KEY}"]
      files:
        - path: /etc/classroom/agent.conf
          content: "server = classroom.lab.example.org\\n"
          mode: "0640"
          owner: teacher
          group: students
      services:
        enable: [${GUEST_UNITS.toEnable}]
    vms:
      - ids: 1-2
        names: "\${room}-vd\${id}"
        hostname: "\${room}-pc\${id}"
      - ids: [3]
        names: "\${room}-nm\${id}"
        template: golden-nm
        hostname: "\${room}-pc\${id}"
      - ids: ${elIds}
        names: "\${room}-el\${id}"
        template: golden-el8
        hostname: "\${room}-pc\${id}"
`;

const IFUPDOWN = '/etc/network/interfaces';
const KEYFILE = '/etc/NetworkManager/system-connections/eth0.nmconnection';
const OLD_KEYFILE = '/etc/NetworkManager/system-connections/Wired connection 1.nmconnection';
const IFCFG = '/etc/sysconfig/network-scripts/ifcfg-eth0';
/** Where the template's address or MAC was: none of them may still hold it. */
const NET_IDENTITY = [IFUPDOWN, KEYFILE, OLD_KEYFILE, IFCFG, '/etc/udev/rules.d/70-persistent-net.rules', '/var/lib/dhcp/dhclient.eth0.leases', '/var/log/messages'];
const SUDOERS = '/etc/sudoers.d/ovirt-sysprep-teacher';
const CONF = '/etc/classroom/agent.conf';
const PROBE = '/etc/room-reset-probe';

interface Vm { id: string; name: string; status: string; disks: { path: string }[]; marks?: Record<string, string> }

describe('a room of 4 VMs from 3 guest flavours: show, rollout, reset, delete through the CLI (real virt-sysprep)', () => {
  let s: Stack;
  let env: NodeJS.ProcessEnv;
  const tpl: Record<string, { disk: string; sha: string }> = {};
  const files: Record<string, string> = {};
  const disks: Record<string, string> = {};

  const cli = async (...args: string[]) => runCli(args, env);
  const json = async (...args: string[]) => {
    const r = await cli(...args, '-o', 'json');
    expect({ args, code: r.code, err: r.err }).toEqual({ args, code: 0, err: '' });
    return JSON.parse(r.out);
  };
  const vm = async (name: string) => (await s.api<Vm>('GET', `/vms/${name}`)).body;
  const vmNames = async () => ((await s.api('GET', '/vms')).body.items as Vm[]).map((v) => v.name).sort();
  const jobCount = async () => (await s.api('GET', '/jobs')).body.items.length;
  const overlaySums = async () => Promise.all(VMS.map((v) => sha256File(disks[v.name])));

  beforeAll(async () => {
    await assertCliBuilt();
    const [stack] = await Promise.all([startStack({ maxJobs: 4 }), ...FLAVOURS.map((f) => cachedGuestImage(f))]);
    s = stack;
    env = { PATH: process.env.PATH, HOME: s.dir, OVIRT_SYSPREP_URL: s.url, OVIRT_SYSPREP_TOKEN: ADMIN };
    for (const f of FLAVOURS) {
      const disk = path.join(s.storage, `golden-${f}.qcow2`);
      await copyGuestImage(disk, f);
      tpl[f] = { disk, sha: await sha256File(disk) };
      expect((await s.api('POST', '/templates', { name: `golden-${f}`, disks: [{ path: disk }] })).status).toBe(201);
    }
    files.room = path.join(s.dir, 'rooms.yaml');
    writeFileSync(files.room, roomFile());
    files.room5 = path.join(s.dir, 'rooms-with-vm5.yaml');
    writeFileSync(files.room5, roomFile('[4, 5]'));
  });

  afterAll(async () => {
    // Whatever a failed step left: the room's VMs (and the outsider) go before the stack.
    for (const name of [...VMS.map((v) => v.name), OUTSIDER]) await s?.api('DELETE', `/vms/${name}`).catch(() => undefined);
    await s?.close();
  });

  it('room show: the plan lists the 4 VMs with their addresses, none exists', async () => {
    const shown = await json('room', 'show', files.room, ROOM);
    expect(shown.vms.map((v: { name: string; addresses: string[]; exists: boolean }) => [v.name, v.addresses, v.exists]))
      .toEqual(VMS.map((v) => [v.name, [`${v.ip}/24`], false]));
    expect(await vmNames()).toEqual([]);
  });

  it('room rollout: one job, the 4 VMs done; each disk has its own identity, network, accounts, file and service; the templates unchanged', async () => {
    const r = await cli('room', 'rollout', files.room, ROOM);
    // The EL 8 (Rocky) VM: virt-customize 1.48 warns that it cannot set its hostname, the
    // hostname entry's script writes /etc/hostname and says so: two plain warnings, the
    // child succeeded (its hostname is read back below).
    expect({ code: r.code, err: r.err }).toEqual({ code: 0, err: '' });
    expect(r.out).toMatch(/job [0-9a-f-]{36} \(room lab\) submitted/);
    for (const v of VMS) expect(r.out).toMatch(new RegExp(`${v.name}\\s+done\\s+succeeded\\s+release:done snapshot:done start:skipped`));
    expect(r.out).toMatch(/lab-el4 warning: ovirt-sysprep wrote the hostname lab-pc4 to \/etc\/hostname/);
    expect(r.out).not.toContain('not applied');
    expect(r.out).not.toContain('Guestfs.Error'); // the -v trace's artifact is not a warning of the job
    const jobs = (await s.api('GET', '/jobs?kind=room')).body.items;
    expect(jobs).toHaveLength(1);
    expect(jobs[0]).toMatchObject({ state: 'succeeded', progress: { done: 4, total: 4 } });

    for (const v of VMS) {
      const got = await vm(v.name);
      expect(got).toMatchObject({ name: v.name, status: 'down', marks: { [ROOM_MARK]: ROOM } });
      disks[v.name] = got.disks[0].path;
    }
    const order = VMS.map((v) => disks[v.name]);
    const content = await readGuestFiles(order, ['/etc/hostname', '/etc/passwd', '/etc/group', SUDOERS, '/home/teacher/.ssh/authorized_keys', CONF, ...NET_IDENTITY]);
    const cmds = await guestCommands(order, {
      confStat: `stat ${CONF}`,
      keyfileStat: `stat "${KEYFILE}"`,
      sudoStat: `stat ${SUDOERS}`,
      wants: `readlink ${GUEST_UNITS.wants}/${GUEST_UNITS.toEnable}`,
    });
    const field = (stat: string | null, name: string) => Number(new RegExp(`^${name}: (\\d+)$`, 'm').exec(stat ?? '')?.[1]);
    const mode = (stat: string | null) => (field(stat, 'mode') & 0o7777).toString(8);

    for (const v of VMS) {
      const f = content[disks[v.name]];
      const c = cmds[disks[v.name]];
      expect([v.name, f['/etc/hostname']]).toEqual([v.name, `${v.hostname}\n`]);

      // Its own address, in its guest's own format; the template's configuration replaced.
      if (v.flavour === 'debian') {
        expect(f[IFUPDOWN]).toContain('auto lo\niface lo inet loopback\n');
        expect(f[IFUPDOWN]).toContain(`auto eth0\niface eth0 inet static\n    # written by ovirt-sysprep\n    address ${v.ip}/24\n    gateway 192.0.2.1\n    dns-nameservers 192.0.2.53\n    dns-search lab.example.org\n`);
        expect(f[KEYFILE]).toBeNull();
      } else if (v.flavour === 'nm') {
        expect(f[KEYFILE]).toContain('interface-name=eth0\n');
        expect(f[KEYFILE]).toContain(`[ipv4]\nmethod=manual\naddress1=${v.ip}/24\ngateway=192.0.2.1\ndns=192.0.2.53;\ndns-search=lab.example.org;\n`);
        expect(f[KEYFILE]).not.toMatch(/mac-address/);
        expect(mode(c.keyfileStat)).toBe('600');
        expect(f[OLD_KEYFILE]).toBeNull();
      } else {
        expect(f[IFCFG]).toMatch(/^DEVICE=eth0$/m);
        expect(f[IFCFG]).toMatch(new RegExp(`^IPADDR=${v.ip.replace(/\./g, '\\.')}\\nPREFIX=24\\nGATEWAY=192\\.0\\.2\\.1$`, 'm'));
        expect(f[IFCFG]).not.toMatch(/HWADDR/);
        expect(f[KEYFILE]).toBeNull();
      }
      for (const p of NET_IDENTITY) {
        expect([v.name, p, f[p]?.includes(GOLDEN_NET.ip)]).not.toEqual([v.name, p, true]);
        expect([v.name, p, f[p]?.toLowerCase().includes(GOLDEN_NET.mac)]).not.toEqual([v.name, p, true]);
      }

      // The user with its groups and shell, its sudo rule and key.
      const teacher = /^teacher:x:(\d+):\d+:Class teacher:\/home\/teacher:\/bin\/sh$/m.exec(f['/etc/passwd'] ?? '');
      expect([v.name, teacher !== null]).toEqual([v.name, true]);
      expect(f['/etc/group']).toMatch(/^students:x:2000:teacher$/m);
      expect(f['/etc/group']).toMatch(/^users:x:100:.*\bteacher\b/m);
      expect(f[SUDOERS]).toBe('teacher ALL=(ALL:ALL) ALL\n');
      expect(mode(c.sudoStat)).toBe('440');
      expect(f['/home/teacher/.ssh/authorized_keys']?.trim()).toBe(KEY);

      // The file with its mode and owner; the service's [Install] link.
      expect(f[CONF]).toBe('server = classroom.lab.example.org\n');
      expect([v.name, mode(c.confStat), field(c.confStat, 'uid'), field(c.confStat, 'gid')]).toEqual([v.name, '640', Number(teacher![1]), 2000]);
      expect(c.wants?.trim()).toBe(`${GUEST_UNITS.dir}/${GUEST_UNITS.toEnable}`);
    }

    // Each VM's snapshot, described with its own address.
    const shown = await json('room', 'show', files.room, ROOM);
    for (const [i, v] of VMS.entries()) {
      expect(shown.vms[i]).toMatchObject({ name: v.name, exists: true, status: 'down', marked: true });
      expect(shown.vms[i].snapshots).toHaveLength(1);
      expect(shown.vms[i].snapshots[0]).toMatchObject({ matches: true, description: expect.stringMatching(new RegExp(`^${v.name} at ${v.ip.replace(/\./g, '\\.')}, rolled out \\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ$`)) });
    }
    for (const f of FLAVOURS) expect([f, await sha256File(tpl[f].disk)]).toEqual([f, tpl[f].sha]);
  });

  it('a second rollout without --resume is refused (409) and changes nothing', async () => {
    const sums = await overlaySums();
    const jobs = await jobCount();
    const r = await cli('room', 'rollout', files.room, ROOM);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/rooms\.yaml:\d+: VM "lab-vd1" exists/);
    expect(r.err).toContain('ROOM_VM_EXISTS');
    expect(await jobCount()).toBe(jobs);
    expect(await vmNames()).toEqual(VMS.map((v) => v.name).sort());
    expect(await overlaySums()).toEqual(sums);
  });

  it('room reset: a change written on a VM disk is gone; only the VM that was running is started again (auto)', async () => {
    const disk = disks['lab-vd1'];
    await run('guestfish', ['-a', disk, '-i', 'write', PROBE, 'changed after rollout', ':', 'write', '/etc/hostname', 'tampered\n'], { env: libguestfsEnv(), timeout: 300_000 });
    expect((await readGuestFiles([disk], [PROBE, '/etc/hostname']))[disk]).toEqual({ [PROBE]: 'changed after rollout', '/etc/hostname': 'tampered\n' });
    expect((await cli('vm', 'start', 'lab-nm3')).code).toBe(0);

    const out = await json('room', 'reset', files.room, ROOM);
    expect(out).toMatchObject({ room: ROOM, failed: 0 });
    expect(out.vms.map((v: { name: string; ok: boolean; action: string; wasRunning: boolean; started: boolean }) => [v.name, v.ok, v.action, v.wasRunning, v.started]))
      .toEqual(VMS.map((v) => [v.name, true, 'revert', v.name === 'lab-nm3', v.name === 'lab-nm3']));
    expect((await readGuestFiles([disk], [PROBE, '/etc/hostname']))[disk]).toEqual({ [PROBE]: null, '/etc/hostname': 'lab-pc1\n' });
    for (const v of VMS) expect([v.name, (await vm(v.name)).status]).toEqual([v.name, v.name === 'lab-nm3' ? 'up' : 'down']);
  });

  it('room delete: the 4 VMs and their overlays gone; a VM of a planned name without the mark left alone', async () => {
    // lab-el5 is a name the second file plans, made outside the room: no mark.
    expect((await s.api('POST', '/vms', { name: OUTSIDER, template: 'golden-el8' })).status).toBe(201);
    expect((await vm(OUTSIDER)).marks?.[ROOM_MARK]).toBeUndefined();

    const out = await json('room', 'delete', files.room5, ROOM);
    expect(out).toMatchObject({ room: ROOM, failed: 0 });
    expect(out.vms.map((v: { name: string; action: string }) => [v.name, v.action])).toEqual([...VMS.map((v) => [v.name, 'delete']), [OUTSIDER, 'left']]);
    expect(await vmNames()).toEqual([OUTSIDER]);
    for (const v of VMS) expect([v.name, existsSync(disks[v.name])]).toEqual([v.name, false]);
    const shown = await json('room', 'show', files.room, ROOM);
    expect(shown.vms.map((v: { exists: boolean }) => v.exists)).toEqual([false, false, false, false]);
    for (const f of FLAVOURS) expect([f, await sha256File(tpl[f].disk)]).toEqual([f, tpl[f].sha]);

    expect((await s.api('DELETE', `/vms/${OUTSIDER}`)).status).toBe(204);
    expect(await vmNames()).toEqual([]);
  });
});
