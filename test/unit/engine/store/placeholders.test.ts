// SQLite-style parameters numbered for libpq (engine-plugin/store/placeholders.ts).
import { numberParameters } from '../../../../engine-plugin/store/placeholders';
import { redactUrl } from '../../../../engine-plugin/store/databaseUrl';

describe('numberParameters', () => {
  it('numbers ? in order', () => {
    expect(numberParameters('UPDATE t SET a = ?, b = ? WHERE id = ?')).toEqual({ text: 'UPDATE t SET a = $1, b = $2 WHERE id = $3', names: null, count: 3 });
  });
  it('numbers @names by first use, a repeated name keeping its number', () => {
    expect(numberParameters('SELECT 1 FROM t WHERE a < @cutoff AND (b = @id OR c = @cutoff) LIMIT @limit')).toEqual({
      text: 'SELECT 1 FROM t WHERE a < $1 AND (b = $2 OR c = $1) LIMIT $3', names: ['cutoff', 'id', 'limit'], count: 3,
    });
  });
  it("leaves quoted text, quoted names and comments alone", () => {
    expect(numberParameters(`SELECT '?', 'it''s @x?', "a?b" FROM t -- why? @no\nWHERE x = ?`).text)
      .toBe(`SELECT '?', 'it''s @x?', "a?b" FROM t -- why? @no\nWHERE x = $1`);
    expect(numberParameters("SELECT json_extract(r, '$.batch') FROM t").count).toBe(0);
  });
  it('refuses a statement that mixes both kinds, and an unterminated quote', () => {
    expect(() => numberParameters('SELECT ? + @x')).toThrow(/mixes/);
    expect(() => numberParameters("SELECT 'open")).toThrow(/unterminated/);
  });
});

describe('redactUrl', () => {
  it('hides the password of a URL, whatever its scheme, and a password= parameter', () => {
    expect(redactUrl('postgresql://ovs:s3cr:et@db.example:5432/ovs')).toBe('postgresql://ovs:***@db.example:5432/ovs');
    expect(redactUrl('postgresql:///ovs?host=/run/postgresql&password=s3cret&sslmode=require')).toBe('postgresql:///ovs?host=/run/postgresql&password=***&sslmode=require');
    expect(redactUrl('sqlite:engine.db')).toBe('sqlite:engine.db');
  });
});
