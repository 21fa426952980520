// The script behind the `firewall` customisation: ports opened with the firewall the guest
// has, offline: firewalld's firewall-offline-cmd (its default zone), else ufw (`ufw allow`
// writes its rules files; the rules apply when ufw runs). A guest with neither is not an
// error: the script prints a line starting `warning:` and goes on, since a guest without a
// host firewall already lets the ports through (issue 15 surfaces such lines on the job).
// Pure.
import type { Firewall } from '../values';
import { hasCommand, script, shQuote, warningCommand } from './sh';

/** ufw writes a range with ":" (5900:5910/tcp), firewalld with "-". */
const ufwPort = (port: string): string => port.replace('-', ':');

export function firewallScript(f: Firewall): string {
  const list = f.ports.join(', ');
  return script([
    `if ${hasCommand('firewall-offline-cmd')}; then`,
    ...f.ports.map((p) => `  firewall-offline-cmd --add-port=${shQuote(p)}`),
    `elif ${hasCommand('ufw')}; then`,
    ...f.ports.map((p) => `  ufw allow ${shQuote(ufwPort(p))}`),
    'else',
    `  ${warningCommand(`the guest has neither firewalld (firewall-offline-cmd) nor ufw: ports ${list} not opened (no host firewall found)`)}`,
    'fi',
  ]);
}
