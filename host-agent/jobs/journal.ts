// Job journal: one JSON record per job (`<id>.json`, replaced atomically) and its
// events appended to `<id>.events.jsonl`, under `<data_dir>/jobs/`. A restarted agent
// reads them back. Params (which may hold secrets) are never written here.
import { appendFileSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import type { JobEventRecord, JobRecord } from './types';

export class Journal {
  constructor(private readonly dir: string) {
    mkdirSync(dir, { recursive: true, mode: 0o750 });
  }

  saveJob(job: JobRecord): void {
    const file = path.join(this.dir, `${job.id}.json`);
    writeFileSync(`${file}.tmp`, JSON.stringify(job));
    renameSync(`${file}.tmp`, file);
  }

  appendEvent(event: JobEventRecord): void {
    appendFileSync(path.join(this.dir, `${event.jobId}.events.jsonl`), JSON.stringify(event) + '\n');
  }

  /** Retention (LogPruner.ts): an ended job's record and events. */
  remove(jobId: string): void {
    for (const name of [`${jobId}.json`, `${jobId}.events.jsonl`]) rmSync(path.join(this.dir, name), { force: true });
  }

  loadAll(): { job: JobRecord; events: JobEventRecord[] }[] {
    return readdirSync(this.dir)
      .filter((n) => n.endsWith('.json'))
      .map((n) => {
        const job: JobRecord = JSON.parse(readFileSync(path.join(this.dir, n), 'utf8'));
        let events: JobEventRecord[] = [];
        try {
          events = readFileSync(path.join(this.dir, `${job.id}.events.jsonl`), 'utf8')
            .split('\n')
            .filter(Boolean)
            .map((l) => JSON.parse(l));
        } catch {
          /* no events yet */
        }
        return { job, events };
      });
  }
}
