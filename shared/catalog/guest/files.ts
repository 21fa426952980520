// The script behind the `files` customisation: each file written whole (a temporary name
// renamed in place), its mode set, then its owner with the guest's chown, which reads the
// guest's /etc/passwd: accounts made by `users` earlier in the same run are known.
// The content sits in the script, itself a 0600 file: never in argv. Pure.
import type { GuestFile } from '../values';
import { requireCommand, script, shQuote, writeFileCommands } from './sh';

export function filesScript(files: readonly GuestFile[]): string {
  const owned = files.some((f) => f.owner !== undefined || f.group !== undefined);
  return script([
    ...(owned ? [requireCommand('chown', 'set the owner of written files')] : []),
    ...files.flatMap((f) => [
      ...writeFileCommands(f.path, f.content, f.mode),
      ...(f.owner !== undefined || f.group !== undefined ? [`chown ${shQuote(`${f.owner ?? ''}${f.group !== undefined ? `:${f.group}` : ''}`)} ${shQuote(f.path)}`] : []),
    ]),
  ]);
}
