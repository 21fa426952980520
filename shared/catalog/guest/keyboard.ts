// The script behind the `keyboard` customisation: the console keymap (/etc/vconsole.conf
// KEYMAP, read by systemd guests), the X layout of Debian-family guests
// (/etc/default/keyboard XKBLAYOUT/XKBVARIANT, read by the console and X alike) and, where
// X is installed, the xorg.conf.d snippet localectl writes on EL guests. Pure.
import type { Keyboard } from '../values';
import { script, setVariableCommands, writeFileCommands } from './sh';

/** The console keymap: given, else the layout (with its variant: "de-nodeadkeys"). */
export const consoleKeymap = (k: Keyboard): string => k.keymap ?? (k.variant ? `${k.layout}-${k.variant}` : k.layout);

export const X11_KEYBOARD_CONF = '/etc/X11/xorg.conf.d/00-keyboard.conf';

export function x11KeyboardConf(k: Keyboard): string {
  return [
    '# Written by ovirt-sysprep (keyboard), as localectl writes it',
    'Section "InputClass"',
    '        Identifier "system-keyboard"',
    '        MatchIsKeyboard "on"',
    `        Option "XkbLayout" "${k.layout}"`,
    ...(k.variant ? [`        Option "XkbVariant" "${k.variant}"`] : []),
    'EndSection',
    '',
  ].join('\n');
}

export function keyboardScript(k: Keyboard): string {
  const indent = (lines: string[]) => lines.map((l) => `  ${l}`);
  return script([
    ...setVariableCommands('/etc/vconsole.conf', [['KEYMAP', consoleKeymap(k)]]),
    'if [ -f /etc/default/keyboard ] || [ -f /etc/debian_version ]; then',
    ...indent(setVariableCommands('/etc/default/keyboard', [['XKBLAYOUT', k.layout], ['XKBVARIANT', k.variant ?? '']])),
    'elif [ -d /etc/X11 ]; then',
    ...indent(writeFileCommands(X11_KEYBOARD_CONF, x11KeyboardConf(k), '0644')),
    'fi',
  ]);
}
