// Shell completion generated from the commander program itself, so a new command or
// option completes without anyone editing a script. Bash: one function that finds the
// command path among the words typed so far, then offers that command's subcommands and
// options (plus the global ones), an option's choices after it, and file names after an
// option that reads a file or names a disk. Zsh runs the same function through
// bashcompinit.
import type { Command, Option } from 'commander';

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
const flagsOf = (c: Command) => c.options.flatMap((o: Option) => [o.short, o.long].filter((f): f is string => !!f));
/** Options whose value is a file or a path. */
const takesPath = (o: Option) => /-file$|^--disk$|^--config$/.test(o.long ?? '') || /<(file|path)>/.test(o.flags);

function walk(c: Command, prefix: string, out: { path: string; cmd: Command }[]): void {
  for (const s of c.commands) {
    const p = `${prefix} ${s.name()}`;
    out.push({ path: p, cmd: s });
    walk(s, p, out);
  }
}

export function bashCompletion(program: Command): string {
  const name = program.name();
  const fn = `_${name.replace(/[^A-Za-z0-9]/g, '_')}_complete`;
  const paths: { path: string; cmd: Command }[] = [{ path: '', cmd: program }];
  walk(program, '', paths);
  const globals = [...flagsOf(program), '--help'];
  const allOptions = paths.flatMap(({ cmd }) => cmd.options);
  const choiceCases = [...new Map(allOptions.filter((o) => o.argChoices?.length).flatMap((o) => [o.short, o.long].filter(Boolean).map((f) => [f!, o.argChoices!] as const))).entries()]
    .map(([flag, choices]) => `    ${flag}) COMPREPLY=($(compgen -W ${quote(choices.join(' '))} -- "$cur")); return ;;`);
  const pathFlags = [...new Set(allOptions.filter(takesPath).flatMap((o) => [o.short, o.long].filter((f): f is string => !!f)))];
  const valueFlags = [...new Set(allOptions.filter((o) => o.required || o.optional).flatMap((o) => [o.short, o.long].filter((f): f is string => !!f)))];
  // Commands whose first argument is a file (`room rollout <file> <room>`) complete file names too.
  const fileArgPaths = paths.filter(({ path, cmd }) => path && cmd.registeredArguments[0]?.name() === 'file').map(({ path }) => quote(path));
  const wordCases = paths.map(({ path, cmd }) => {
    const words = [...cmd.commands.map((s) => s.name()), ...flagsOf(cmd), ...globals];
    return `    ${quote(path)}) words=${quote([...new Set(words)].join(' '))} ;;`;
  });
  return `# ${name} completion for bash (generated: ${name} completion bash)
# Load it: source <(${name} completion bash), or save it in
# ~/.local/share/bash-completion/completions/${name}
${fn}() {
  local cur=\${COMP_WORDS[COMP_CWORD]} prev=\${COMP_WORDS[COMP_CWORD-1]} path='' words='' i w skip=0
  case "$prev" in
${choiceCases.join('\n')}
  esac
  case " ${pathFlags.join(' ')} " in *" $prev "*) COMPREPLY=($(compgen -f -- "$cur")); return ;; esac
  for ((i = 1; i < COMP_CWORD; i++)); do
    w=\${COMP_WORDS[i]}
    if ((skip)); then skip=0; continue; fi
    case " ${valueFlags.join(' ')} " in *" $w "*) skip=1; continue ;; esac
    case "$path $w" in
${paths.filter((p) => p.path).map((p) => `      ${quote(p.path)}) path="$path $w" ;;`).join('\n')}
    esac
  done
  case "$path" in
${wordCases.join('\n')}
  esac
  COMPREPLY=($(compgen -W "$words" -- "$cur"))${fileArgPaths.length ? `
  case "$path" in ${fileArgPaths.join('|')}) [[ $cur == -* ]] || COMPREPLY+=($(compgen -f -- "$cur")) ;; esac` : ''}
}
complete -F ${fn} ${name}
`;
}

export function zshCompletion(program: Command): string {
  return `# ${program.name()} completion for zsh (generated: ${program.name()} completion zsh), through bashcompinit
# Load it: source <(${program.name()} completion zsh)
autoload -U +X compinit && compinit
autoload -U +X bashcompinit && bashcompinit
${bashCompletion(program).split('\n').filter((l) => !l.startsWith('#')).join('\n')}`;
}
