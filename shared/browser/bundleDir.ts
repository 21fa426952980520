// Where the browser bundle of the shared code lives: dist/browser/, found both from the
// sources (tests) and from dist/ (the built engine).
import { existsSync } from 'node:fs';
import * as path from 'node:path';

/** The bundle's directory; `built` false when it was not built yet. */
export function browserBundleDir(): { dir: string; built: boolean } {
  const candidates = [path.resolve(__dirname, '..', '..', 'dist', 'browser'), path.resolve(__dirname, '..', '..', 'browser')];
  const found = candidates.find((d) => existsSync(path.join(d, BUNDLE_FILE)));
  return { dir: found ?? (path.basename(path.resolve(__dirname, '..', '..')) === 'dist' ? candidates[1] : candidates[0]), built: Boolean(found) };
}

export const BUNDLE_FILE = 'shared.js';
