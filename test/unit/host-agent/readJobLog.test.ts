// readJobLog over real files in a temp dir (GetJobLog's reading; the RPC itself runs in
// test/e2e/engine/jobLogAndPhases.test.ts through the engine).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { LOG_CHUNK_BYTES, readJobLog } from '../../../host-agent/jobs/readJobLog';

const dir = mkdtempSync(path.join(tmpdir(), 'joblog-unit-'));
const read = async (job: Parameters<typeof readJobLog>[0]) => {
  const chunks: Buffer[] = [];
  for await (const c of readJobLog(job)) chunks.push(c);
  return chunks;
};

describe('readJobLog', () => {
  it('yields the file as it is, in chunks of at most LOG_CHUNK_BYTES', async () => {
    const text = 'libguestfs: appliance is up\n'.repeat(10_000); // 280 KB
    const logPath = path.join(dir, 'big.log');
    writeFileSync(logPath, text);
    const chunks = await read({ id: 'big', logPath, toolPid: 42 });
    expect(chunks.length).toBeGreaterThan(1);
    expect(Math.max(...chunks.map((c) => c.length))).toBeLessThanOrEqual(LOG_CHUNK_BYTES);
    expect(Buffer.concat(chunks).toString()).toBe(text);
  });

  it('yields nothing for a job that never spawned the tool (no file yet)', async () => {
    expect(await read({ id: 'pending', logPath: path.join(dir, 'pending.log') })).toEqual([]);
  });

  it('fails LOG_NOT_FOUND (not-found) for a job that ran and whose file is gone', async () => {
    await expect(read({ id: 'ran', logPath: path.join(dir, 'ran.log'), toolPid: 42 })).rejects.toMatchObject({ kind: 'not-found', code: 'LOG_NOT_FOUND' });
  });
});
