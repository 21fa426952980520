// The real CLI in process against an engine: its exit code, stdout and stderr, reading
// files from a map (path -> text) instead of the disk; and bash completion of a word list
// by the generated script, in a real bash.
import { execFileSync } from 'node:child_process';
import { PassThrough } from 'node:stream';
import type { CliIo } from '../../engine-plugin/cli/CliIo';
import { run } from '../../engine-plugin/cli/main';

export async function runCli(url: string, token: string, args: string[], files: Record<string, string> = {}): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io: CliIo = {
    out: (s) => void (out += s),
    err: (s) => void (err += s),
    env: { OVIRT_SYSPREP_URL: url, OVIRT_SYSPREP_TOKEN: token, HOME: '/nonexistent' },
    stdout: new PassThrough() as unknown as CliIo['stdout'],
    files: { read: (f) => { if (files[f] === undefined) throw Object.assign(new Error('ENOENT'), { code: 'ENOENT' }); return files[f]; }, mode: () => 0o100600 },
  };
  const code = await run(['node', 'ovirt-sysprep', ...args], io);
  return { code, out, err };
}

/** COMPREPLY of `script` (completion bash) for the words typed so far, the last being completed, run in `cwd`. */
export function bashComplete(script: string, words: string[], cwd: string): string[] {
  return execFileSync('bash', ['-c', `${script}\nCOMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _ovirt_sysprep_complete; printf '%s\\n' "\${COMPREPLY[@]}"`], { cwd, encoding: 'utf8' })
    .split('\n')
    .filter(Boolean);
}
