// A room's snapshot description (rendered per VM, with `${ip}` and `${rollout_time}` on
// top of the name variables) and the regular expression a reset looks for: given, or
// derived from the description so that the default pair always finds its own snapshots.
import { InputError } from '../errors';
import { PatternContext, renderString } from '../catalog/patterns';

const ROLLOUT_TIME = '${rollout_time}';
const IP = '${ip}';
/** What renderRolloutTime (RoomPlan.ts) puts in: ISO time to the second, UTC. */
const ROLLOUT_TIME_REGEX = '\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}Z';

/**
 * The description for one VM; `${rollout_time}` stays for the rollout to fill. Throws the
 * catalog's InputError (field as given) for an unknown variable or `${ip}` without an address.
 */
export function renderSnapshotDescription(pattern: string, ctx: PatternContext, ip: string | undefined, field: string): string {
  try {
    return pattern
      .split(ROLLOUT_TIME)
      .map((part) => {
        if (part.includes(IP) && ip === undefined) throw new InputError(field, `uses ${IP} but VM "${ctx.vm}" has no static address`, 'PATTERN_UNDEFINED', { vm: ctx.vm });
        return renderString(part.split(IP).join(ip ?? ''), ctx, field);
      })
      .join(ROLLOUT_TIME);
  } catch (err) {
    if (err instanceof InputError && /unknown pattern variable/.test(err.message)) {
      throw new InputError(field, `${err.message.slice(field.length + 2).replace(/\)$/, '')}, ${IP}, ${ROLLOUT_TIME})`, err.code);
    }
    throw err;
  }
}

/** A regular expression (source) that matches every description the pattern renders to. */
export function descriptionRegex(pattern: string): string {
  const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  const parts = pattern.split(/(\$\{[^}]*\})/);
  return `^${parts.map((p, i) => (i % 2 === 0 ? escape(p) : p === ROLLOUT_TIME ? ROLLOUT_TIME_REGEX : '.+')).join('')}$`;
}

/**
 * Why a reset_to_snapshot regex is refused, or undefined. Besides invalid syntax, a
 * repetition of a repeated group (`(a+)+`, `(.*)*`) is refused: it can take exponential
 * time on a description that almost matches, and the engine runs it on every snapshot.
 */
export function regexProblem(source: string): string | undefined {
  try {
    new RegExp(source);
  } catch (err) {
    return `is not a valid regular expression: ${(err as Error).message.replace(/^Invalid regular expression: /, '')}`;
  }
  const plain = source.replace(/\\./g, 'x').replace(/\[[^\]]*\]/g, 'x');
  if (/\([^()]*[*+}][^()]*\)\s*[*+{]/.test(plain)) {
    return 'repeats a group that itself repeats (like (a+)+): it can take exponential time; write it without the nested repetition';
  }
  return undefined;
}
