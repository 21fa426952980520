// What a command prints: `-o table` (default), `-o wide` (tables with more columns),
// `-o json` (= --json) or `-o yaml` (the same data as YAML, by the `yaml` package). JSON
// and YAML print the API's own records, so scripts see the fields the API documents.
import { stringify } from 'yaml';
import { UsageError } from './exitCodes';
import { Column, formatTable } from './format';

export const OUTPUT_FORMATS = ['table', 'wide', 'json', 'yaml'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

/** The format of `-o` and `--json` (the older spelling of `-o json`); both only when they agree. */
export function outputFormat(opts: { json?: boolean; output?: string }): OutputFormat {
  const o = (opts.output ?? (opts.json ? 'json' : 'table')) as OutputFormat;
  if (!OUTPUT_FORMATS.includes(o)) throw new UsageError(`-o/--output: expected one of ${OUTPUT_FORMATS.join(', ')}, got ${JSON.stringify(opts.output)}`);
  if (opts.json && o !== 'json') throw new UsageError(`--json and -o ${o}: give one of them`);
  return o;
}

/** Whether the format prints data (JSON or YAML) rather than text for people. */
export const isData = (f: OutputFormat) => f === 'json' || f === 'yaml';

export function renderData(format: OutputFormat, value: unknown): string {
  return format === 'yaml' ? stringify(value ?? null) : `${JSON.stringify(value, null, 2)}\n`;
}

/** A table column shown only with `-o wide`. */
export type WideColumn<T> = Column<T> & { wide?: boolean };

export function renderTable<T>(format: OutputFormat, rows: T[], columns: WideColumn<T>[]): string {
  return formatTable(rows, columns.filter((c) => format === 'wide' || !c.wide));
}
