// The script behind the `locale` customisation: LANG in /etc/locale.conf (systemd, EL,
// SUSE, Arch) and /etc/default/locale (Debian family, where it exists or the guest is
// Debian), and on guests that generate locales (/etc/locale.gen) the locale enabled there
// and locale-gen run when present. Pure.
import { hasCommand, script, setVariableCommands, shQuote } from './sh';

/** The line of /etc/locale.gen for a locale with a charset ("de_DE.UTF-8 UTF-8"), else undefined. */
export function localeGenLine(locale: string): string | undefined {
  const m = /^([a-z]{2,3}(?:_[A-Z]{2})?)\.([A-Za-z0-9-]+)(@[a-z]+)?$/.exec(locale);
  if (!m) return undefined;
  const charset = /^utf-?8$/i.test(m[2]) ? 'UTF-8' : m[2].toUpperCase();
  return `${locale} ${charset}`;
}

const regexQuote = (s: string) => s.replace(/[.*[\]^$\\/+?(){}|]/g, '\\$&');

export function localeScript(locale: string): string {
  const gen = localeGenLine(locale);
  return script([
    ...setVariableCommands('/etc/locale.conf', [['LANG', locale]]),
    'if [ -f /etc/default/locale ] || [ -f /etc/debian_version ]; then',
    ...setVariableCommands('/etc/default/locale', [['LANG', locale]]).map((l) => `  ${l}`),
    'fi',
    ...(gen
      ? [
        'if [ -f /etc/locale.gen ]; then',
        // Uncomment the line where the guest lists it, add it where not.
        `  sed -i ${shQuote(`s/^#[[:space:]]*${regexQuote(gen)}[[:space:]]*$/${gen.replace(/[\\/&]/g, '\\$&')}/`)} /etc/locale.gen`,
        `  grep -qx ${shQuote(gen)} /etc/locale.gen || printf '%s\\n' ${shQuote(gen)} >> /etc/locale.gen`,
        `  if ${hasCommand('locale-gen')}; then locale-gen; fi`,
        'fi',
      ]
      : []),
  ]);
}
