// docs/agent.md's batch-mode section lists exactly the operations and customize steps the
// batch script has a form for (host-agent/batch/ops/), so the docs never drift from the code.
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { BATCH_OPERATIONS } from '../../../host-agent/batch/batchScript';
import { CUSTOMIZE_STEPS } from '../../../host-agent/batch/ops/customizeSteps';

const text = readFileSync(path.join(__dirname, '../../../docs/agent.md'), 'utf8');
const section = (heading: string) => {
  const start = text.indexOf(heading);
  if (start < 0) throw new Error(`docs/agent.md has no heading ${heading}`);
  return text.slice(start, text.indexOf('\n#', start + 1));
};
const rowKeys = (s: string) => [...s.matchAll(/^\| `([^`]+)` \|/gm)].map((m) => m[1]);

describe('docs/agent.md batch mode', () => {
  it('lists every operation with a batch form, and only those', () => {
    expect(rowKeys(section('### Operations with a batch form')).sort()).toEqual([...BATCH_OPERATIONS].sort());
  });

  it('lists every customize step with a batch form, in order', () => {
    expect(rowKeys(section('### customize steps with a batch form'))).toEqual(CUSTOMIZE_STEPS.map((s) => s.option));
  });
});
