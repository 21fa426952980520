// How `ovirt-sysprep` finds an engine started with `--local` (npm start) with no flags:
// the engine writes `$XDG_STATE_HOME/ovirt-sysprep/local-engine.conf` (default
// ~/.local/state/...), in cli.conf's format (`url`, `token_file` = <data dir>/admin.token),
// and removes it when it stops. The CLI reads it last, after flags, environment and
// cli.conf, and only for the URL it names. The token stays in its 0600 file: the pointer
// holds its path, never the token.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export function localEngineFile(env: NodeJS.ProcessEnv): string {
  const base = env.XDG_STATE_HOME || path.join(env.HOME || os.homedir(), '.local', 'state');
  return path.join(base, 'ovirt-sysprep', 'local-engine.conf');
}

/** Writes the pointer; returns the function that removes it at stop (unless another local engine wrote its own since). */
export function writeLocalEngineFile(env: NodeJS.ProcessEnv, engine: { url: string; tokenFile: string }): () => void {
  const file = localEngineFile(env);
  const text = `# written by ovirt-sysprep-engine --local (pid ${process.pid}); removed when it stops\nurl = ${engine.url}\ntoken_file = ${path.resolve(engine.tokenFile)}\n`;
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  writeFileSync(file, text, { mode: 0o600 });
  return () => {
    try {
      if (readFileSync(file, 'utf8') === text) rmSync(file);
    } catch {
      /* already gone */
    }
  };
}
