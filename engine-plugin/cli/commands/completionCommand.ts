// `ovirt-sysprep completion bash|zsh`: prints the completion script (cli/completion.ts),
// generated from this very program.
import { Argument } from 'commander';
import { bashCompletion, zshCompletion } from '../completion';
import { EXIT } from '../exitCodes';
import type { CommandContext } from './CommandContext';

export function completionCommand(ctx: CommandContext): void {
  ctx.program
    .command('completion')
    .description('print the shell completion script')
    .addArgument(new Argument('<shell>', 'bash or zsh').choices(['bash', 'zsh']))
    .addHelpText('after', ctx.examples('source <(ovirt-sysprep completion bash)   # in ~/.bashrc', 'source <(ovirt-sysprep completion zsh)    # in ~/.zshrc'))
    .action(ctx.action(async (c) => {
      ctx.io.out(c.args[0] === 'zsh' ? zshCompletion(ctx.program) : bashCompletion(ctx.program));
      return EXIT.ok;
    }));
}
