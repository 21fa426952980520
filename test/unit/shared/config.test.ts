// The ini reader (shared/config.ts) and inline comments (issue 11): a comment after a
// value used to become part of it (`listen = 127.0.0.1:8384  # REST API` stopped the
// engine, `data_dir = data   # engine.db` made a directory of that name, the agent's
// `max_jobs = 2 ; x` failed).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseEngineConfig } from '../../../engine-plugin/config';
import { loadAgentConfig } from '../../../host-agent/config';
import { parseIni } from '../../../shared/config';

describe('parseIni', () => {
  it.each([
    ['listen = 127.0.0.1:8384  # REST API', '127.0.0.1:8384'],
    ['listen = 127.0.0.1:8384\t; REST API', '127.0.0.1:8384'],
    ['data_dir = data   # engine.db (inventory, jobs)', 'data'],
    ['log_file =                         # empty: stderr', ''],
    ['token = admin:abc#def;ghi', 'admin:abc#def;ghi'], // no whitespace before: part of the value
    ['url = https://x.example/a#frag', 'https://x.example/a#frag'],
    ['password = "p #1 ; \\"q\\" \\\\"   # quoted: as written', 'p #1 ; "q" \\'],
    ['name = "a"', 'a'],
    ['key: value  # colon form', 'value'],
  ])('%s -> %j', (line, value) => {
    expect(parseIni(`[s]\n${line}\n`).s[line.split(/\s*[=:]/)[0]]).toBe(value);
  });

  it('takes a comment after a section header and keeps an empty section', () => {
    expect(parseIni('[tls]   # client certificate\n[tokens] ; none yet\n')).toEqual({ tls: {}, tokens: {} });
  });

  it.each([
    ['a key before any section', 'x = 1', /line 1: expected "\[section\]"/],
    ['a line that is no key = value', '[s]\njust words', /line 2: expected/],
    ['an unterminated quote', '[s]\np = "abc', /line 2 \(p\): a value that starts with " must end with "/],
    ['text after a closing quote', '[s]\np = "abc" def', /line 2 \(p\)/],
  ])('refuses %s, naming the line', (_what, text, message) => {
    expect(() => parseIni(text)).toThrow(message);
  });
});

describe('inline comments reach neither the engine nor the agent', () => {
  it('engine: listen and data_dir as docs/engine.md writes them', () => {
    const { config } = parseEngineConfig('[engine]\nlisten = 127.0.0.1:8384  # REST API\ndata_dir = data   # engine.db\n');
    expect(config).toMatchObject({ listen: '127.0.0.1:8384', dataDir: 'data' });
  });

  it('agent: max_jobs = 2 ; x', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'agent-conf-'));
    try {
      const file = path.join(dir, 'agent.conf');
      writeFileSync(file, '[agent]   # this host\nmax_jobs = 2 ; x\nstorage_roots = /srv/a, /srv/b   # two roots\n');
      expect(loadAgentConfig({ file, env: {} })).toMatchObject({ maxJobs: 2, storageRoots: ['/srv/a', '/srv/b'] });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
