// Live checks of the sysprep dialog, with the API's own messages, so a field shows while
// typing exactly what the engine would answer on submit. The engine stays the judge: the
// dialog still shows any 400 the API returns, at the field it names.
//
// This is a port, kept small on purpose, of:
//   shared/catalog/values.ts     value rules and their messages
//   engine-plugin/jobs/patterns.ts  ${vm} ${pool} ${index} ${template} rendering,
//                                   hostname-safe values, "(rendered for VM ...)"
// and of the order in which JobService.plan checks a request: first with a sample VM
// ("vm", index 1, pool "pool", template "template"), then for every VM. The browser test
// (test/e2e/web/adminPage.test.ts) compares these messages with the API's, so a change on
// one side without the other fails there.

const NOT_FLAG = 'must not start with "-" (it would be read as an option)';
const EMPTY = 'must not be empty';

const LABEL = /^[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$/;
const isHostname = (v) => v.length <= 253 && v.split('.').every((l) => LABEL.test(l));

let zones;
const isTimezone = (v) => (zones ??= new Set([...Intl.supportedValuesOf('timeZone'), 'UTC', 'Etc/UTC'])).has(v);

const KEY_TYPES = ['ssh-rsa', 'ssh-ed25519', 'ssh-dss', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521', 'sk-ssh-ed25519@openssh.com', 'sk-ecdsa-sha2-nistp256@openssh.com'];
function isSshPublicKey(line) {
  const m = /^(\S+) ([A-Za-z0-9+/]+={0,2})(?: [^\r\n]*)?$/.exec(line);
  if (!m || !KEY_TYPES.includes(m[1])) return false;
  let blob;
  try {
    blob = atob(m[2].padEnd(Math.ceil(m[2].length / 4) * 4, '='));
  } catch {
    return false;
  }
  if (blob.length < 4 + m[1].length) return false;
  const len = ((blob.charCodeAt(0) << 24) | (blob.charCodeAt(1) << 16) | (blob.charCodeAt(2) << 8) | blob.charCodeAt(3)) >>> 0;
  return len === m[1].length && blob.slice(4, 4 + len) === m[1];
}

/** A safeString() rule of values.ts: not empty, not a flag, then its own test. */
const safe = (test, message) => (v) => {
  if (typeof v !== 'string' || v.length === 0) return EMPTY;
  if (v.startsWith('-')) return NOT_FLAG;
  return test(v) ? null : message;
};

export const RULES = {
  hostname: safe(isHostname, 'is not a valid hostname (letters, digits and "-", labels of 1-63 characters separated by ".")'),
  timezone: safe(isTimezone, 'is not a known IANA time zone such as "Europe/Berlin"'),
  username: safe((v) => /^[a-z_][a-z0-9_-]{0,31}$/.test(v), 'is not a valid user name (lower-case letters, digits, "_" and "-", at most 32 characters)'),
  sshKey: safe(isSshPublicKey, 'is not an OpenSSH public key ("TYPE BASE64 [comment]", e.g. "ssh-ed25519 AAAA... admin@example")'),
  packageName: safe((v) => /^[a-zA-Z0-9][a-zA-Z0-9+._:-]*$/.test(v), 'is not a valid package name'),
  guestPath: (v) => (/^\/[^\0\n\r]*$/.test(v) ? null : 'must be an absolute path inside the guest, starting with "/"'),
};

/** Which rule checks each value of a customisation (keys of the catalog). */
function checkValue(key, value) {
  const each = (rule, list) => {
    for (const [i, v] of list.entries()) {
      const m = rule(v);
      if (m) return { path: `[${i}]`, message: m };
    }
    return null;
  };
  switch (key) {
    case 'hostname': return wrap(RULES.hostname(value));
    case 'timezone': return wrap(RULES.timezone(value));
    case 'removeUsers': case 'keepUsers': return each(RULES.username, value);
    case 'install': return each(RULES.packageName, value);
    case 'delete': case 'truncate': return each(RULES.guestPath, value);
    case 'users':
      for (const [i, u] of value.entries()) {
        const n = RULES.username(u.name);
        if (n) return { path: `[${i}].name`, message: n };
        const k = each(RULES.sshKey, u.sshKeys ?? []);
        if (k) return { path: `[${i}].sshKeys${k.path}`, message: k.message };
      }
      return null;
    default: return null;
  }
}
const wrap = (message) => (message ? { path: '', message } : null);

// ---- patterns (engine-plugin/jobs/patterns.ts) --------------------------------------

export const PATTERN_VARIABLES = ['vm', 'pool', 'index', 'template'];
export const SAMPLE_CONTEXT = { vm: 'vm', index: 1, pool: 'pool', template: 'template' };

class PatternError extends Error {}

export const hostnameSafe = (v) => v.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '');

/** Renders ${...} for one VM; throws PatternError with the API's message. */
export function renderString(template, ctx, field, safeValues = false) {
  return template.replace(/\$\{([^}]*)\}/g, (_, name) => {
    if (!PATTERN_VARIABLES.includes(name)) {
      throw new PatternError(`${field}: unknown pattern variable \${${name}} (known: ${PATTERN_VARIABLES.map((v) => `\${${v}}`).join(', ')})`);
    }
    const value = ctx[name];
    if (value === undefined || value === null || value === '') throw new PatternError(`${field}: uses \${${name}} but VM "${ctx.vm}" has no ${name}`);
    const text = String(value);
    const out = safeValues ? hostnameSafe(text) : text;
    if (safeValues && !out) throw new PatternError(`${field}: \${${name}} of VM "${ctx.vm}" has no letter or digit to put in a hostname`);
    return out;
  });
}

function renderValue(value, ctx, field, safeValues) {
  if (typeof value === 'string') return renderString(value, ctx, field, safeValues);
  if (Array.isArray(value)) return value.map((v, i) => renderValue(v, ctx, `${field}[${i}]`, safeValues));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, renderValue(v, ctx, `${field}.${k}`, safeValues)]));
  return value;
}

/**
 * The message the API would give for params[key] for one VM context, or null.
 * `secret` keys are never rendered (a script's own ${...} stays as written).
 */
export function checkParam(key, value, ctx, secret) {
  const field = `params.${key}`;
  let rendered = value;
  if (!secret) {
    try {
      rendered = renderValue(value, ctx, field, key === 'hostname');
    } catch (err) {
      if (err instanceof PatternError) return err.message;
      throw err;
    }
  }
  const bad = checkValue(key, rendered);
  if (!bad) return null;
  const patterned = !secret && JSON.stringify(value).includes('${');
  return `${field}${bad.path}: ${bad.message}` + (patterned ? ` (rendered for VM "${ctx.vm}")` : '');
}

/** As JobService.plan: the sample VM first, then each VM of the request in order. */
export function checkParamForAll(key, value, contexts, secret) {
  for (const ctx of [SAMPLE_CONTEXT, ...contexts]) {
    const m = checkParam(key, value, ctx, secret);
    if (m) return m;
  }
  return null;
}
