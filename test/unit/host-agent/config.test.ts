import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { AGENT_KEYS, loadAgentConfig } from '../../../host-agent/config';

describe('agent config', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'agent-conf-'));

  it('reads the file, then lets the environment override it', () => {
    const file = path.join(dir, 'agent.conf');
    writeFileSync(file, '# comment\n[agent]\nmax_jobs = 3\nstorage_roots = /a, /b\nplaintext = yes\n');
    const cfg = loadAgentConfig({ file, env: { OVIRT_SYSPREP_MAX_JOBS: '5' } });
    expect(cfg.maxJobs).toBe(5);
    expect(cfg.storageRoots).toEqual(['/a', '/b']);
    expect(cfg.plaintext).toBe(true);
    expect(cfg.hypervisor).toBe('auto');
  });

  it('refuses unknown keys and bad values, naming them', () => {
    const file = path.join(dir, 'typo.conf');
    writeFileSync(file, '[agent]\nmax_job = 3\n');
    expect(() => loadAgentConfig({ file, env: {} })).toThrow(/unknown key "max_job"/);
    writeFileSync(file, '[agent]\nhypervisor = xen\n');
    expect(() => loadAgentConfig({ file, env: {} })).toThrow(/hypervisor .*expected one of auto, kvm, tcg/);
  });

  it('max_batch_size: 0 (off) to 255, the batch example of docs/agent-config.md as documented', () => {
    const file = path.join(dir, 'batch.conf');
    const doc = readFileSync(path.join(__dirname, '../../../docs/agent-config.md'), 'utf8');
    const example = [...doc.matchAll(/```ini\n([\s\S]*?)```/g)].map((m) => m[1]).find((t) => t.includes('max_batch_size'));
    writeFileSync(file, example!);
    expect(loadAgentConfig({ file, env: {} })).toMatchObject({ maxBatchSize: 8, maxJobs: 2 });
    expect(loadAgentConfig({ file: null, env: {} }).maxBatchSize).toBe(16);
    expect(loadAgentConfig({ file: null, env: { OVIRT_SYSPREP_MAX_BATCH_SIZE: '0' } }).maxBatchSize).toBe(0);
    for (const bad of ['256', '-1', '2.5']) {
      expect(() => loadAgentConfig({ file: null, env: { OVIRT_SYSPREP_MAX_BATCH_SIZE: bad } })).toThrow(/max_batch_size.*expected an integer from 0 to 255|OVIRT_SYSPREP_MAX_BATCH_SIZE.*expected an integer from 0 to 255/);
    }
  });

  it('documents every key in docs/agent-config.md', () => {
    const doc = readFileSync(path.join(__dirname, '../../../docs/agent-config.md'), 'utf8');
    for (const k of Object.values(AGENT_KEYS)) {
      expect(doc).toContain(`\`${k.key}\``);
      expect(doc).toContain(`\`${k.env}\``);
    }
  });
});
