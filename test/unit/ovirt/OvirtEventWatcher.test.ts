// The oVirt event watcher against the oVirt API test server (which answers GET /events as
// ovirt-engine's search does: newest first, `from` exclusive, `max` rows, "page N"; see
// test/helpers/ovirtApiServer.ts) and a real engine with a FAKE agent: bursts larger than
// one page, events piling up while the engine is down, an index that goes backwards
// (database restore), and which way of making a VM starts a reset.
//
// Expected codes: ovirt-engine 0111fc63036,
// backend/manager/modules/common/src/main/java/org/ovirt/engine/core/common/AuditLogType.java.
import { CREATION_CODES, creationTrigger, inheritance } from '../../../engine-plugin/ovirt/vmCreationEvents';
import { CreationPath, IDS } from '../../helpers/ovirtApiServer';
import { ovirtHarness, OvirtHarness } from './ovirtHarness';

jest.setTimeout(120_000);

interface JobRow {
  target: { id: string; name: string };
  requestedBy: string;
}

describe('oVirt event watcher (oVirt API test server + fake agent)', () => {
  let h: OvirtHarness;
  const watcher = () => h.engine.ovirt!.watcher;
  const resets = async (): Promise<JobRow[]> => {
    const out: JobRow[] = [];
    for (let cursor: string | undefined = ''; cursor !== undefined; ) {
      const { body }: { body: { items: JobRow[]; next?: string } } = await h.api('GET', `/jobs?kind=auto-reset&limit=200${cursor ? `&cursor=${cursor}` : ''}`);
      out.push(...body.items);
      cursor = body.next ?? undefined;
    }
    return out;
  };
  /** VM id -> number of reset jobs made for it. */
  const resetCount = async (): Promise<Map<string, number>> => {
    const m = new Map<string, number>();
    for (const j of await resets()) m.set(j.target.id, (m.get(j.target.id) ?? 0) + 1);
    return m;
  };

  beforeEach(async () => {
    h = await ovirtHarness({ agentMs: 5 });
    await watcher().tick(); // first start: the cursor at the fixture's newest event
  });
  afterEach(() => h?.close());

  describe('creation paths (item 4)', () => {
    it('watches the codes each creation path really logs: 53, 1152, 174 (AuditLogType.java)', () => {
      // USER_ADD_VM_FINISHED_SUCCESS(53), IMPORTEXPORT_IMPORT_VM(1152),
      // VM_IMPORT_FROM_CONFIGURATION_EXECUTED_SUCCESSFULLY(174).
      expect(CREATION_CODES.map((c) => [c.code, c.name])).toEqual([
        [53, 'USER_ADD_VM_FINISHED_SUCCESS'],
        [1152, 'IMPORTEXPORT_IMPORT_VM'],
        [174, 'VM_IMPORT_FROM_CONFIGURATION_EXECUTED_SUCCESSFULLY'],
      ]);
      // USER_ADD_VM(34) and USER_ADD_VM_STARTED(37) open a creation (53 follows when disks
      // were made from an image; a Blank VM logs 34 only); IMPORTEXPORT_STARTING_IMPORT_VM(1165)
      // opens an import that ends with 1152 (or comes beside 174): none starts a reset.
      expect([34, 37, 1165, 30].map(creationTrigger)).toEqual([undefined, undefined, undefined, undefined]);
      expect([53, 1152, 174].map(creationTrigger)).toEqual(['clone', 'import', 'import']);
    });

    it('decides from template, original_template and the code: Clone VM (template Blank, original_template golden) is a clone', () => {
      const disk = { disk_attachments: { disk_attachment: [{ id: 'd', disk: { id: 'd' } }] } };
      const t = (id: string) => ({ id });
      // CloneVmCommand / AddVmFromTemplateCommand / AddVmFromSnapshotCommand leave template Blank.
      expect(inheritance({ id: 'v', template: t(IDS.blank), original_template: t(IDS.golden), ...disk }, 'clone')).toBe('original_template');
      expect(inheritance({ id: 'v', template: t(IDS.golden), original_template: t(IDS.golden), ...disk }, 'clone')).toBe('template');
      // A clone of a VM made from scratch: both Blank, but 53 is only logged for disks made from an image.
      expect(inheritance({ id: 'v', template: t(IDS.blank), original_template: t(IDS.blank), ...disk }, 'clone')).toBe('copied_disks');
      expect(inheritance({ id: 'v', template: t(IDS.blank), original_template: t(IDS.blank), ...disk }, 'import')).toBe('imported');
      expect(inheritance({ id: 'v', template: t(IDS.golden) }, 'clone')).toBe('no_disk');
    });

    it('resets exactly the VMs made from an existing guest, with the right trigger, and none made from scratch', async () => {
      const blankBased = h.ovirt.createVm('scratch', { name: 'scratch-src' }); // an installed VM made from Blank
      const made: [CreationPath, string, string | undefined][] = [
        ['from-template', 'thin-01', 'clone'],
        ['pool', 'lab-7', 'pool'],
        ['clone-from-template', 'indep-01', 'clone'],
        ['clone-vm', 'clone-of-web', 'clone'],
        ['from-snapshot', 'snap-01', 'clone'],
        ['export-domain', 'exp-01', 'import'],
        ['ova', 'ova-01', 'import'],
        ['external', 'v2v-01', 'import'],
        ['data-domain', 'reg-01', 'import'],
        ['scratch', 'empty-02', undefined],
      ];
      for (const [how, name] of made) {
        h.ovirt.createVm(how, { name, pool: how === 'pool' ? IDS.poolLab : undefined, source: how === 'clone-vm' ? h.ovirt.vm(IDS.web01) : undefined });
      }
      const cloneOfScratch = h.ovirt.createVm('clone-vm', { name: 'clone-of-scratch', source: blankBased });
      expect([cloneOfScratch.template.id, cloneOfScratch.original_template.id]).toEqual([IDS.blank, IDS.blank]);
      // The shape "Clone VM" leaves (the e2e import test uses it): code 53, template Blank, original_template golden.
      const cloneOfWeb = h.ovirt.vms.find((v) => v.name === 'clone-of-web');
      expect([cloneOfWeb.template.id, cloneOfWeb.original_template.id]).toEqual([IDS.blank, IDS.golden]);
      expect(h.ovirt.events.filter((e) => e.vm?.id === cloneOfWeb.id).map((e) => e.code)).toEqual(['34', '53']);

      await watcher().tick();
      const jobs = (await resets()).map((j) => [j.target.name, j.requestedBy]).sort();
      const expected = [...made.filter(([, , t]) => t).map(([, name, t]) => [name, `auto-reset (${t} by ovirt)`]), ['clone-of-scratch', 'auto-reset (clone by ovirt)']].sort();
      expect(jobs).toEqual(expected);
    });
  });

  describe('paging and gaps (item 3)', () => {
    it('a burst of 1,000 events (mixed codes, many clones): none missed, none reset twice', async () => {
      const expected = new Set<string>();
      const paths: CreationPath[] = ['clone-vm', 'from-template', 'pool', 'clone-from-template', 'from-snapshot', 'export-domain', 'data-domain', 'ova', 'scratch'];
      let n = 0;
      while (h.ovirt.nextEventId() <= 4102 + 1000) {
        n++;
        if (n % 3 === 0) {
          const how = paths[n % paths.length];
          const vm = h.ovirt.createVm(how, { name: `b-${n}`, pool: how === 'pool' ? IDS.poolLab : undefined, source: h.ovirt.vm(IDS.web01) });
          if (how !== 'scratch') expected.add(vm.id);
        } else {
          h.ovirt.addEvent([30, 31, 9910, 1225, 60][n % 5], n % 4 === 0 ? IDS.web01 : undefined, `noise ${n}`);
        }
      }
      // A user clears some (login) events on the way (DeleteAuditLog only marks them deleted).
      h.ovirt.events.filter((e) => e.code === '30' && Number(e.id) > 4102).forEach((e, i) => i % 9 === 0 && h.ovirt.deleteEvent(e.id));
      expect(expected.size).toBeGreaterThan(200); // more clones than one page of events

      await watcher().tick();
      expect(watcher().lastIndex()).toBe(Math.max(...h.ovirt.events.filter((e) => !e.deleted).map((e) => Number(e.id))));
      const counts = await resetCount();
      expect(new Set(counts.keys())).toEqual(expected);
      expect([...counts.values()].every((c) => c === 1)).toBe(true);
      // More than one page was read, newest first, every page above the same cursor.
      const reads = h.ovirt.calls.filter((c) => c.path === '/events' && c.query.from !== undefined);
      const rows = h.ovirt.events.filter((e) => !e.deleted && Number(e.id) >= 4102).length; // above from=4101
      expect(reads.map((c) => c.query.search)).toEqual(Array.from({ length: Math.floor(rows / 200) + 1 }, (_, i) => `page ${i + 1}`));
      expect(new Set(reads.map((c) => c.query.from))).toEqual(new Set(['4101']));

      await watcher().tick();
      expect((await resets()).length).toBe(expected.size);
      expect(watcher().status.gaps).toBe(0); // deleted events and index jumps are normal
    });

    it('events logged while the pages are read shift the rows: read twice, counted once, none skipped', async () => {
      const expected = new Set<string>();
      const burst = (tag: string) => {
        for (let i = 0; i < 120; i++) {
          h.ovirt.addEvent(30, undefined, `${tag} login ${i}`);
          expected.add(h.ovirt.createVm('clone-vm', { name: `${tag}-${i}`, source: h.ovirt.vm(IDS.web01) }).id);
        }
      };
      burst('before'); // 360 events: two pages
      h.ovirt.afterEventsPage = (page) => page === 1 && burst('during'); // 360 more push every row two pages down
      await watcher().tick();
      h.ovirt.afterEventsPage = undefined;
      await watcher().tick(); // the ones logged during the first read are above the new cursor
      const counts = await resetCount();
      expect(new Set(counts.keys())).toEqual(expected);
      expect([...counts.values()].every((c) => c === 1)).toBe(true);
    });

    it('an engine restart with 450 events piled up: every clone is reset after the restart, once', async () => {
      const first = h.ovirt.createVm('clone-vm', { name: 'before-stop', source: h.ovirt.vm(IDS.web01) });
      await watcher().tick();
      await h.engine.stop();
      const expected = new Set([first.id]);
      for (let i = 0; i < 150; i++) {
        h.ovirt.addEvent(30, undefined, `login ${i}`);
        expected.add(h.ovirt.createVm(i % 2 ? 'clone-vm' : 'pool', { name: `down-${i}`, pool: i % 2 ? undefined : IDS.poolLab, source: h.ovirt.vm(IDS.web01) }).id);
      }
      await h.restart();
      await watcher().tick();
      const counts = await resetCount();
      expect(new Set(counts.keys())).toEqual(expected);
      expect([...counts.values()].every((c) => c === 1)).toBe(true);
    });

    it('reports an index that went backwards (database restored below the cursor), then resets the VMs made after it', async () => {
      const a = h.ovirt.createVm('clone-vm', { name: 'before-restore', source: h.ovirt.vm(IDS.web01) });
      await watcher().tick();
      const cursor = watcher().lastIndex()!;
      expect(cursor).toBe(4104);
      h.ovirt.restoreEvents(4102); // the engine's newest index is now below our cursor
      await watcher().tick();
      expect(watcher().status.gaps).toBe(1);
      expect(watcher().status.lastGap).toMatchObject({ kind: 'newest_below_cursor', fromIndex: 4104, toIndex: 4102 });
      expect(watcher().lastIndex()).toBe(4102);
      // Shown beside the hosts (GET /api/v1/hosts, viewer).
      expect((await h.api('GET', '/hosts')).body.ovirtEvents).toMatchObject({ gaps: 1, lastError: '', lastGap: { kind: 'newest_below_cursor', fromIndex: 4104, toIndex: 4102 } });
      // The admins see it in oVirt's Events view: an external event (BackendEventsResource.add).
      const posted = h.ovirt.events.find((e) => e.origin === 'ovirt-sysprep');
      expect(posted).toMatchObject({ code: '13', severity: 'warning', description: expect.stringContaining('below the last one seen (4104)') });

      // New VMs reuse the indexes 4103.. (4103 is the posted event): all are reset.
      const b = h.ovirt.createVm('clone-vm', { name: 'after-restore', source: h.ovirt.vm(IDS.web01) });
      await watcher().tick();
      const counts = await resetCount();
      expect(Object.fromEntries(counts)).toEqual({ [a.id]: 1, [b.id]: 1 });
      expect(watcher().status.gaps).toBe(1);
    });

    it('reports a reused index (restored, and new events already past the cursor) instead of stalling or skipping silently', async () => {
      await watcher().tick();
      h.ovirt.createVm('clone-vm', { name: 'c1', source: h.ovirt.vm(IDS.web01) }); // 4103, 4104
      await watcher().tick();
      expect(watcher().lastIndex()).toBe(4104);
      h.ovirt.restoreEvents(4102);
      h.ovirt.addEvent(30, undefined, 'login after restore'); // 4103
      const c2 = h.ovirt.createVm('data-domain', { name: 'c2' }); // 4104 (174), 4105 (1165)
      const c3 = h.ovirt.createVm('from-template', { name: 'c3' }); // 4106, 4107
      await watcher().tick();
      expect(watcher().status.lastGap).toMatchObject({ kind: 'index_reused', fromIndex: 4104 });
      const counts = await resetCount();
      // The event now at 4104 is new (174 of c2): it is read, not taken for the one seen before.
      expect(counts.get(c2.id)).toBe(1);
      expect(counts.get(c3.id)).toBe(1);
      expect(h.ovirt.events.some((e) => e.origin === 'ovirt-sysprep' && /restored/.test(e.description))).toBe(true);
    });

    it('a user deleting the last event seen is not a gap', async () => {
      h.ovirt.addEvent(30, undefined, 'login');
      await watcher().tick();
      h.ovirt.deleteEvent(watcher().lastIndex()!);
      await watcher().tick();
      const vm = h.ovirt.createVm('clone-vm', { name: 'after-delete', source: h.ovirt.vm(IDS.web01) });
      await watcher().tick();
      expect(watcher().status.gaps).toBe(0);
      expect((await resetCount()).get(vm.id)).toBe(1);
    });
  });
});
