// docs/identity.md and README.md's identity table are generated from the catalogue and the
// measured table (docs/identity-measured.json): this test fails when either is stale, and
// UPDATE_IDENTITY_DOCS=1 rewrites them.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { IDENTITY_ITEMS } from '../../../shared/identity';
import { identityMarkdown, MeasuredTable, measuredTable, readmeWithIdentityTable } from '../../../shared/identity/identityDocs';

const ROOT = path.join(__dirname, '../../..');
const DOC = path.join(ROOT, 'docs/identity.md');
const README = path.join(ROOT, 'README.md');
const MEASURED = path.join(ROOT, 'docs/identity-measured.json');

const measured = (): MeasuredTable | undefined => (existsSync(MEASURED) ? JSON.parse(readFileSync(MEASURED, 'utf8')) : undefined);

describe('docs/identity.md', () => {
  it('is generated from the catalogue and the measured table (UPDATE_IDENTITY_DOCS=1 rewrites it)', () => {
    const text = identityMarkdown(measured());
    if (process.env.UPDATE_IDENTITY_DOCS) writeFileSync(DOC, text);
    expect(readFileSync(DOC, 'utf8')).toBe(text);
  });

  it("README.md's identity table is too", () => {
    const readme = readFileSync(README, 'utf8');
    const text = readmeWithIdentityTable(readme, measured());
    if (process.env.UPDATE_IDENTITY_DOCS) writeFileSync(README, text);
    expect(readme).toBe(text);
  });

  it('has a section per item with its paths, source and what each tool version does', () => {
    const text = identityMarkdown(undefined);
    for (const i of IDENTITY_ITEMS) {
      const section = text.slice(text.indexOf(`### ${i.name}\n`));
      expect(section).toContain(`* source: ${i.source}`);
      for (const p of i.paths) expect(section.slice(0, section.indexOf('\n### ') >>> 0)).toContain(`\`${p}\``);
    }
    expect(text).toContain('| [lvm-system-devices](#lvm-system-devices) | all | remove | nothing | `lvm-system-devices` (all) | `lvm-system-devices` (all) | identity script |');
    expect(text).toContain('| [nm-keyfile-mac](#nm-keyfile-mac) | all | edit | `net-nmconn` (el) * |');
  });

  it('renders a measured table per family and column, and says when nothing was measured', () => {
    expect(measuredTable(undefined)[0]).toMatch(/^Not measured yet/);
    const lines = measuredTable({ tool: 'virt-sysprep 1.48.2', columns: { defaults: { hostid: { debian: 'kept', el: 'kept' } }, product: { hostid: { debian: 'gone', el: 'gone', suse: 'gone' } } } });
    expect(lines[0]).toContain('virt-sysprep 1.48.2');
    expect(lines).toContain('| hostid | kept / gone | kept / gone | ? / gone |');
  });
});
