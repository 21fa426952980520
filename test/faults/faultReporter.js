// Prints the fault-injection suite's table at the end of a run that ran fault tests:
// one row per fault (test/faults/faultKit.ts appends them to the results file), then a
// summary line with the run's wall time. Other runs print nothing.
const fs = require('node:fs');
const path = require('node:path');

const RESULTS_FILE = process.env.FAULT_RESULTS_FILE || path.join(__dirname, '..', '..', '.cache', 'faults', 'results.jsonl');
const COLUMNS = [['fault', 'fault'], ['outcome', 'outcome'], ['disk', 'disk'], ['job', 'job state'], ['leftovers', 'leftovers']];

class FaultReporter {
  onRunStart() {
    this.started = Date.now();
    fs.rmSync(RESULTS_FILE, { force: true });
  }

  onRunComplete() {
    if (!fs.existsSync(RESULTS_FILE)) return;
    const rows = fs.readFileSync(RESULTS_FILE, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
    rows.sort((a, b) => a.fault.localeCompare(b.fault, 'en', { numeric: true }));
    const cells = rows.map((r) => COLUMNS.map(([k]) => String(r[k] ?? '-')));
    const widths = COLUMNS.map(([, title], i) => Math.min(60, Math.max(title.length, ...cells.map((c) => c[i].length))));
    const line = (values) => values.map((v, i) => (i === values.length - 1 ? v : v.padEnd(widths[i]))).join(' | ');
    const out = [line(COLUMNS.map(([, t]) => t)), widths.map((w) => '-'.repeat(w)).join('-|-')];
    for (const c of cells) out.push(line(c));
    const ok = rows.filter((r) => r.outcome === 'ok' || r.outcome.startsWith('ok (')).length;
    const secs = Math.round((Date.now() - this.started) / 1000);
    out.push('', `faults: ${rows.length} run, ${ok} ok, ${rows.length - ok} not ok; wall time ${Math.floor(secs / 60)} min ${secs % 60} s`);
    process.stdout.write(`\n${out.join('\n')}\n`);
  }
}
module.exports = FaultReporter;
