// Per-VM values of a bulk request: `${vm}`, `${pool}`, `${index}` and `${template}` in
// the non-secret string params are replaced for each VM, then an entry's own per-VM
// forms are resolved by its render hook (the network entry's `ipFromIndex` and `list`
// addresses), then the params are validated again (a rendered hostname must still be a
// valid hostname). What is stored and sent to the agent is this rendered value.
//
// Hostname safety: in `params.hostname` every substituted value is made hostname-safe
// first: lower-cased, every run of characters other than letters, digits and "-" (so
// "_", "." and spaces) becomes one "-", and leading/trailing "-" are dropped:
// VM "Web_01.prod" gives "web-01-prod". Secret params (scripts, passwords) are never
// rendered: a shell script's own `${...}` stays as written.
//
// Shared by the engine (JobService, profiles, inventory routes) and the web dialog (the
// browser bundle), so the page's live checks are the engine's own.
import { InputError } from '../errors';
import { validateParams } from '../spec';
import { CUSTOMIZATION_BY_KEY, Params, SECRET_KEYS } from './customizations';

export interface PatternContext {
  vm: string;
  /** 1-based position of the VM in its pool or in the request's list. */
  index: number;
  pool?: string;
  template?: string;
  /** A room's VMs only (shared/rooms): the room's name and the VM's id in it. */
  room?: string;
  id?: number;
}

export const PATTERN_VARIABLES = ['vm', 'pool', 'index', 'template'] as const;
/** Known only where the context is a room's VM: elsewhere `${room}` stays an unknown variable. */
export const ROOM_PATTERN_VARIABLES = ['room', 'id'] as const;

const variablesOf = (ctx: PatternContext): readonly string[] => (ctx.room === undefined ? PATTERN_VARIABLES : [...PATTERN_VARIABLES, ...ROOM_PATTERN_VARIABLES]);

/** The VM every request is first checked with, before its real VMs. */
export const SAMPLE_CONTEXT: Readonly<PatternContext> = { vm: 'vm', index: 1, pool: 'pool', template: 'template' };

/**
 * The one pattern context builder. `pool` is the pool the request names (a pool sysprep),
 * else the VM's own pool; names are looked up by the caller (the engine asks its
 * inventory, the page its loaded lists).
 */
export function patternContext(vm: { name: string }, index: number, names: { pool?: string; template?: string }): PatternContext {
  return { vm: vm.name, index, pool: names.pool, template: names.template };
}
const VAR = /\$\{([^}]*)\}/g;

export function hostnameSafe(value: string): string {
  return value.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '');
}

export function hasPattern(value: string): boolean {
  return /\$\{/.test(value);
}

export function renderString(template: string, ctx: PatternContext, field: string, safe = false): string {
  return template.replace(VAR, (_, name: string) => {
    const known = variablesOf(ctx);
    if (!known.includes(name)) {
      throw new InputError(field, `unknown pattern variable \${${name}} (known: ${known.map((v) => `\${${v}}`).join(', ')})`);
    }
    const value = ctx[name as keyof PatternContext];
    if (value === undefined || value === '') {
      throw new InputError(field, `uses \${${name}} but VM "${ctx.vm}" has no ${name}`, 'PATTERN_UNDEFINED', { vm: ctx.vm });
    }
    const text = String(value);
    const out = safe ? hostnameSafe(text) : text;
    if (safe && !out) throw new InputError(field, `\${${name}} of VM "${ctx.vm}" has no letter or digit to put in a hostname`, 'PATTERN_UNDEFINED', { vm: ctx.vm });
    return out;
  });
}

function renderValue(value: unknown, ctx: PatternContext, field: string, safe: boolean): unknown {
  if (typeof value === 'string') return renderString(value, ctx, field, safe);
  if (Array.isArray(value)) return value.map((v, i) => renderValue(v, ctx, `${field}[${i}]`, safe));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, renderValue(v, ctx, `${field}.${k}`, safe)]));
  }
  return value;
}

/** Renders the patterns of the non-secret params for one VM and validates the result. */
export function renderParams(params: Params, ctx: PatternContext): Params {
  const out: Params = {};
  for (const [key, value] of Object.entries(params)) {
    if (SECRET_KEYS.has(key)) {
      out[key] = value;
      continue;
    }
    // Names with the hostname widget (hostname, Windows computerName) are made hostname-safe.
    const strings = renderValue(value, ctx, `params.${key}`, CUSTOMIZATION_BY_KEY.get(key)?.widget === 'hostname');
    // The entry's own per-VM forms (an address from the VM's index), on the rendered strings.
    const render = CUSTOMIZATION_BY_KEY.get(key)?.render;
    out[key] = render ? render(strings, ctx, `params.${key}`) : strings;
  }
  try {
    return validateParams(out);
  } catch (err) {
    // A value with a pattern: name the VM (the pattern was valid, its value for this VM is not).
    const key = err instanceof InputError ? /^params\.(\w+)/.exec(err.field)?.[1] : undefined;
    if (err instanceof InputError && key && !SECRET_KEYS.has(key) && (hasPattern(JSON.stringify(params[key])) || JSON.stringify(out[key]) !== JSON.stringify(params[key]))) {
      throw new InputError(err.field, `${err.message.replace(`${err.field}: `, '')} (rendered for VM "${ctx.vm}")`, err.code, { vm: ctx.vm });
    }
    throw err;
  }
}

/** Validates params that may hold patterns: patterns are checked by rendering a sample VM. */
export function validatePatternParams(params: unknown): Params {
  if (params === undefined) return {};
  if (!params || typeof params !== 'object' || Array.isArray(params)) throw new InputError('params', 'must be an object');
  renderParams(params as Params, SAMPLE_CONTEXT);
  return params as Params;
}

/**
 * What the engine answers for these params and VMs, checked as it checks a request: the
 * sample VM first, then each VM in order. The InputError of the first problem, or undefined.
 */
export function paramsProblem(params: Params, contexts: readonly PatternContext[]): InputError | undefined {
  try {
    validatePatternParams(params);
    for (const ctx of contexts) renderParams(params, ctx);
    return undefined;
  } catch (err) {
    if (err instanceof InputError) return err;
    throw err;
  }
}
