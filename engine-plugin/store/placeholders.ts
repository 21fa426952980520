// The stores write parameters as SQLite does (`?` in order, or `@name` with an object);
// libpq numbers them ($1, $2, ...). This turns one into the other, once per statement, and
// leaves quoted strings, quoted names and comments alone. Pure.

export interface Numbered {
  text: string;
  /** Named parameters in $-order (null: positional `?`). */
  names: string[] | null;
  count: number;
}

export function numberParameters(sql: string): Numbered {
  let out = '';
  let positional = 0;
  const names: string[] = [];
  for (let i = 0; i < sql.length; i++) {
    const c = sql[i];
    if (c === "'" || c === '"') {
      const end = closingQuote(sql, i, c);
      out += sql.slice(i, end + 1);
      i = end;
    } else if (c === '-' && sql[i + 1] === '-') {
      const end = sql.indexOf('\n', i);
      const stop = end < 0 ? sql.length : end;
      out += sql.slice(i, stop);
      i = stop - 1;
    } else if (c === '?') {
      out += `$${++positional}`;
    } else if (c === '@' && /[A-Za-z_]/.test(sql[i + 1] ?? '')) {
      const name = /^[A-Za-z_][A-Za-z0-9_]*/.exec(sql.slice(i + 1))![0];
      let n = names.indexOf(name);
      if (n < 0) n = names.push(name) - 1;
      out += `$${n + 1}`;
      i += name.length;
    } else {
      out += c;
    }
  }
  if (positional && names.length) throw new Error(`a statement mixes ? and @name parameters: ${sql}`);
  return { text: out, names: names.length ? names : null, count: positional || names.length };
}

/** The index of the quote that closes the one at `start` (a doubled quote is part of the text). */
function closingQuote(sql: string, start: number, q: string): number {
  for (let i = start + 1; i < sql.length; i++) {
    if (sql[i] !== q) continue;
    if (sql[i + 1] === q) i++;
    else return i;
  }
  throw new Error(`unterminated ${q} in: ${sql}`);
}
