// The keys a docs page lists in the table under a heading (rows starting "| `key` |"):
// unit tests compare them with a parser's key table, so a key is never undocumented.
import { readFileSync } from 'node:fs';
import * as path from 'node:path';

export function docTableKeys(doc: string, heading: string): string[] {
  const text = readFileSync(path.join(__dirname, '../../docs', doc), 'utf8');
  const start = text.indexOf(heading);
  if (start < 0) throw new Error(`docs/${doc} has no heading ${JSON.stringify(heading)}`);
  const table = text.slice(start, text.indexOf('\n#', start + 1));
  return [...table.matchAll(/^\| `([a-z_]+)` \|/gm)].map((m) => m[1]).sort();
}
