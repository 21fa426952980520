// Every config example in the docs (```ini blocks of docs/*.md and README.md) is a
// fixture that must parse with the real loaders (issue 11): an engine.conf example
// through parseEngineConfig (its [local_agent] through the agent's key table), an
// agent.conf example ([agent]) through loadAgentConfig, a cli.conf example (no section,
// or [cli]) through the CLI's parseCliConf. Inline comments must not end up in a value.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseCliConf } from '../../../engine-plugin/cli/settings';
import { parseEngineConfig } from '../../../engine-plugin/config';
import { localAgentOverrides } from '../../../engine-plugin/local';
import { loadAgentConfig } from '../../../host-agent/config';
import { parseIni } from '../../../shared/config';

const ROOT = path.join(__dirname, '../../..');

/** [file, index, text] of each ```ini block (also one indented in a list item). */
function iniBlocks(): [string, number, string][] {
  const files = [...readdirSync(path.join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`), 'README.md'];
  return files.flatMap((f) =>
    [...readFileSync(path.join(ROOT, f), 'utf8').matchAll(/^( *)```ini\n([\s\S]*?)^\1```$/gm)].map((m, i): [string, number, string] => [
      f,
      i + 1,
      m[2].split('\n').map((l) => l.slice(m[1].length)).join('\n'),
    ]),
  );
}

describe('config examples in the docs', () => {
  const blocks = iniBlocks();
  let dir: string;
  beforeAll(() => (dir = mkdtempSync(path.join(os.tmpdir(), 'doc-ini-'))));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('finds the examples (engine, agent and CLI)', () => {
    expect(blocks.length).toBeGreaterThanOrEqual(6);
    expect(blocks.some(([f]) => f === 'docs/cli.md')).toBe(true);
    expect(blocks.some(([, , t]) => /^\[agent\]/m.test(t))).toBe(true);
    expect(blocks.some(([, , t]) => /^\[engine\]/m.test(t))).toBe(true);
  });

  it.each(blocks)('%s example %i parses with the real loader', (file, i, text) => {
    if (!/^\[(?!cli\])/m.test(text)) {
      // cli.conf: keys with no section (or under [cli]).
      const conf = parseCliConf(text, `${file} example ${i}`);
      for (const [k, v] of Object.entries(conf)) expect(`${k} = ${v}`).not.toMatch(/\s[#;]/);
      expect(Object.keys(conf).length).toBeGreaterThan(0);
      return;
    }
    const sections = parseIni(text);
    for (const [name, values] of Object.entries(sections)) {
      for (const [k, v] of Object.entries(values)) expect(`[${name}] ${k} = ${v}`).not.toMatch(/\s[#;]/);
    }
    if ('agent' in sections) {
      expect(Object.keys(sections)).toEqual(['agent']);
      const conf = path.join(dir, `${path.basename(file)}-${i}.conf`);
      writeFileSync(conf, text);
      const agent = loadAgentConfig({ file: conf, env: {} });
      if (sections.agent.listen) expect(agent.listen).toBe(sections.agent.listen);
    } else {
      const { config } = parseEngineConfig(text, `${file} example ${i}`);
      if (sections.engine?.listen) expect(config.listen).toBe(sections.engine.listen);
      localAgentOverrides(sections.local_agent);
    }
  });
});
