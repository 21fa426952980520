// `[engine] database`: which database the engine keeps its state in. Pure.

/** The default: SQLite, `engine.db` in the data dir. */
export const DEFAULT_DATABASE = 'sqlite:engine.db';

/** `sqlite:PATH` (relative to the data dir) or `postgresql://...` (also `postgres://`, libpq's URI). */
export const DATABASE_URL = /^(?:sqlite:.+|postgres(?:ql)?:\/\/.*)$/;

export const isPostgresUrl = (url: string): boolean => /^postgres(?:ql)?:\/\//.test(url);

/** The URL without its password, for messages and logs. */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:@/]*):[^@/]*@/i, '$1:***@').replace(/([?&]password=)[^&]*/g, '$1***');
}
