// The script behind the `services` customisation: the guest's own systemctl, offline.
// Outside a booted systemd (the appliance's chroot) `systemctl enable|disable` only edits
// the [Install] symlinks under /etc/systemd/system, which is all a disk needs. A guest
// without systemctl stops the run with a message saying so. Pure.
import type { Services } from '../values';
import { requireCommand, script, shQuote } from './sh';

export function servicesScript(s: Services): string {
  return script([
    requireCommand('systemctl', 'enable or disable services (only systemd guests are supported)'),
    ...(s.enable ?? []).map((u) => `systemctl enable ${shQuote(u)}`),
    ...(s.disable ?? []).map((u) => `systemctl disable ${shQuote(u)}`),
  ]);
}
