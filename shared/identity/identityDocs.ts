// docs/identity.md and the identity table of README.md, generated from the catalogue
// (items.ts) and the measured table (docs/identity-measured.json, written by the e2e test
// that runs the real tool on fixture guests of each family; contract 8). The unit test
// test/unit/docs/identityDocs.test.ts compares the files with this output and
// UPDATE_IDENTITY_DOCS=1 rewrites them: the docs cannot drift from the catalogue.
// Pure (no Node API): the test reads and writes the files.
import { LINUX_FAMILIES, LinuxFamily } from '../guestOs';
import type { IdentityItem } from './IdentityItem';
import { COMPARED_TOOL_VERSIONS, toolFamiliesAt } from './describeIdentityItems';
import { IDENTITY_ITEMS } from './items';

export type MeasuredState = 'gone' | 'kept' | 'changed' | 'n/a';
export const MEASURED_COLUMNS = ['defaults', 'ovirtSeal', 'product'] as const;
export type MeasuredColumn = (typeof MEASURED_COLUMNS)[number];

/** docs/identity-measured.json. */
export interface MeasuredTable {
  /** The tool measured, e.g. "virt-sysprep 1.48.2". */
  tool: string;
  columns: Partial<Record<MeasuredColumn, Record<string, Partial<Record<LinuxFamily, MeasuredState>>>>>;
}

const COLUMN_TITLE: Record<MeasuredColumn, string> = {
  defaults: 'virt-sysprep defaults',
  ovirtSeal: "oVirt's seal argv",
  product: 'ovirt-sysprep clone-reset',
};

export const README_BEGIN = '<!-- identity-table: generated from shared/identity (UPDATE_IDENTITY_DOCS=1) -->';
export const README_END = '<!-- /identity-table -->';

const FAMILY_TITLE: Record<LinuxFamily, string> = { debian: 'Debian/Ubuntu', el: 'EL/Fedora', suse: 'SUSE' };
const code = (s: string) => `\`${s}\``;
const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
const families = (fs: readonly LinuxFamily[]) => (fs.length === LINUX_FAMILIES.length ? 'all' : fs.length ? fs.join(', ') : '-');

/** What virt-sysprep VERSION does about ITEM, in a table cell. */
function toolCell(item: IdentityItem, version: string): string {
  const fs = toolFamiliesAt(item, version);
  if (!fs.length) return 'nothing';
  return `${code(item.coveredBy!.operation)} (${families(fs)})${item.coveredBy!.partial ? ' *' : ''}`;
}

/** What ovirt-sysprep's profiles do about ITEM. */
function productText(item: IdentityItem): string {
  if (item.by === 'tool') {
    const c = item.coveredBy!;
    return `virt-sysprep's ${code(c.operation)}${c.partial ? ` (${c.partial})` : ''}, on every supported version`;
  }
  const what = (() => {
    switch (item.action) {
      case 'remove':
        return 'removes it';
      case 'empty':
        return 'empties it';
      case 'regenerate':
        return 'removes it (the guest recreates it at first boot)';
      case 'edit':
        return item.edit && 'dropKeys' in item.edit
          ? `drops the ${item.edit.dropKeys.map((k) => code(`${k}=`)).join(', ')} lines, keeping the rest`
          : 'rewrites it (see the edit)';
    }
  })();
  return `the identity script ${what}, on ${families(item.families)} families, on every virt-sysprep version`;
}

function summaryTable(): string[] {
  return [
    `| item | families | action | ${COMPARED_TOOL_VERSIONS.map((v) => `virt-sysprep ${v}`).join(' | ')} | ovirt-sysprep |`,
    `| --- | --- | --- | ${COMPARED_TOOL_VERSIONS.map(() => '---').join(' | ')} | --- |`,
    ...IDENTITY_ITEMS.map((i) => `| [${i.name}](#${i.name}) | ${families(i.families)} | ${i.action} | ${COMPARED_TOOL_VERSIONS.map((v) => toolCell(i, v)).join(' | ')} | ${i.by === 'script' ? 'identity script' : code(i.coveredBy!.operation)} |`),
  ];
}

/** The measured item x family x column table (or a line saying it was not measured yet). */
export function measuredTable(measured: MeasuredTable | undefined): string[] {
  const columns = MEASURED_COLUMNS.filter((c) => measured?.columns[c]);
  if (!measured || !columns.length) {
    return ['Not measured yet: `docs/identity-measured.json` is written by the end-to-end test that plants every item in fixture guests of each family and runs the real tool (then `UPDATE_IDENTITY_DOCS=1` regenerates this table).'];
  }
  const head = LINUX_FAMILIES.map((f) => FAMILY_TITLE[f]);
  return [
    `Measured with ${measured.tool} on fixture guests carrying every item; each cell: ${columns.map((c) => COLUMN_TITLE[c]).join(' / ')} (gone, kept, changed, n/a: the family does not carry it).`,
    '',
    `| item | ${head.join(' | ')} |`,
    `| --- | ${head.map(() => '---').join(' | ')} |`,
    ...IDENTITY_ITEMS.map((i) => `| ${i.name} | ${LINUX_FAMILIES.map((f) => columns.map((c) => measured.columns[c]?.[i.name]?.[f] ?? '?').join(' / ')).join(' | ')} |`),
  ];
}

function itemSection(i: IdentityItem): string[] {
  const lines = [
    `### ${i.name}`,
    '',
    `${i.title}. ${i.reason[0].toUpperCase()}${i.reason.slice(1)}.`,
    '',
    `* families: ${families(i.families)}`,
    `* paths: ${i.paths.map(code).join(', ')}`,
    `* action: ${i.action}${i.firstBoot ? ` (first boot: ${i.firstBoot})` : ''}`,
  ];
  if (i.edit) lines.push('dropKeys' in i.edit ? `* edit: lines ${i.edit.dropKeys.map((k) => code(`${k}=...`)).join(', ')} removed` : `* edit: the content becomes ${code(cell(i.edit.replaceWith.trimEnd()))}`);
  lines.push(
    `* source: ${i.source}`,
    `* virt-sysprep: ${COMPARED_TOOL_VERSIONS.map((v) => `${v}: ${toolCell(i, v).replace(' *', '')}`).join('; ')}${i.coveredBy?.partial ? ` (${i.coveredBy.partial})` : ''}`,
    `* ovirt-sysprep: ${productText(i)}`,
    '',
  );
  return lines;
}

/** The whole of docs/identity.md. */
export function identityMarkdown(measured: MeasuredTable | undefined): string {
  const script = IDENTITY_ITEMS.filter((i) => i.by === 'script').length;
  return [
    '# Identity items',
    '',
    '<!-- Generated from shared/identity/items.ts and docs/identity-measured.json by shared/identity/identityDocs.ts: edit those, then run `UPDATE_IDENTITY_DOCS=1 npx jest test/unit/docs/identityDocs.test.ts --selectProjects unit`. -->',
    '',
    `Every file a clone carries from its golden image that must differ between VMs: ${IDENTITY_ITEMS.length} items of the`,
    'Debian/Ubuntu, EL/Fedora and SUSE families, what is done to each, why, where that comes from,',
    'and what virt-sysprep does about it per version. The same list is served by',
    '`GET /identity-items` (docs/api.md), with whether the installed tool has the covering operation.',
    '',
    `The built-in profiles \`clone-reset\` and \`template-seal\` give \`params.identity: "all"\`: one guest script`,
    `(virt-customize \`--run\`, in the same pass as virt-sysprep's operations) does the ${script} script items for`,
    "the guest's own family (read from its /etc/os-release) on every virt-sysprep version. The other items are",
    "done by virt-sysprep's own operations, present in every supported version (1.48 and later); the script",
    'leaves them alone because virt-customize rewrites some of them in the same pass (machine-id, hostname,',
    'random seed). A request may select script items by name (`params.identity: [nm-secret-key, hostid]`,',
    'CLI `--identity nm-secret-key,hostid`). Decision note "identity: our own catalogue, done by a guest script"',
    '(docs/engine-decisions.md).',
    '',
    'Actions: **remove** (deleted), **empty** (truncated, owner and mode kept), **edit** (only the named lines',
    'or the content change), **regenerate** (deleted now, recreated at first boot by the guest service named).',
    '',
    '## What each tool version does',
    '',
    '`*`: the operation does only part of the item (see the item).',
    '',
    ...summaryTable(),
    '',
    '## Measured',
    '',
    ...measuredTable(measured),
    '',
    '## Not in the catalogue',
    '',
    "* systemd-networkd's DUID: derived from /etc/machine-id by default (networkd.conf(5), `DUIDType=vendor`), so",
    '  the machine-id reset changes it; its leases live under /run.',
    "* snapd's device serial: it sits inside /var/lib/snapd/state.json with the rest of snapd's state, which a",
    '  file-level reset cannot edit safely; forget it from inside the guest (snapd REST `POST /v2/model/serial`).',
    "* Podman: no host-wide identity file is known to us (containers' own ids are per container).",
    '',
    '## Items',
    '',
    ...IDENTITY_ITEMS.flatMap(itemSection),
  ].join('\n').replace(/\n+$/, '\n');
}

/** README.md with its identity table section replaced (markers kept); throws when the markers are missing. */
export function readmeWithIdentityTable(readme: string, measured: MeasuredTable | undefined): string {
  const begin = readme.indexOf(README_BEGIN);
  const end = readme.indexOf(README_END);
  if (begin < 0 || end < begin) throw new Error('README.md has no identity-table markers');
  const body = ['', ...measuredTable(measured), '', 'Every item, its paths, reason and source: docs/identity.md.', ''].join('\n');
  return readme.slice(0, begin + README_BEGIN.length) + body + readme.slice(end);
}
