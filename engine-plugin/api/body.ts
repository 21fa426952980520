// The request body at the edge, read in one place for every route that takes one, after
// authentication and the role check (RouteTable): nothing about a body is looked at for
// a caller who may not send it.
//
// A body is JSON or it is refused; it is never ignored. Steps, each with its own answer:
//  1. no body at all: only routes whose body is optional (`emptyBody`) take that as {};
//  2. Content-Type must be application/json (415 UNSUPPORTED_MEDIA_TYPE), its charset
//     absent or UTF-8 (415 UNSUPPORTED_CHARSET); Content-Encoding absent or identity
//     (415 UNSUPPORTED_ENCODING: nothing here sends compressed JSON, so none is inflated);
//  3. at most `limit` bytes (413 BODY_TOO_LARGE), valid UTF-8 and valid JSON (400
//     INVALID_JSON), an object or an array at the top;
//  4. shape limits before any schema or service sees it: nesting at most MAX_DEPTH
//     (400 TOO_DEEP) and no reserved key (`__proto__`, `constructor`, `prototype`:
//     400 RESERVED_KEY), each naming the field. The walk is iterative: no input can
//     exhaust the stack here or, bounded by it, anywhere after.
import type { Request } from 'express';
import { InputError, SysprepError } from '../../shared/errors';
import { fieldPath } from '../../shared/spec';

export const BODY_LIMIT_BYTES = 4 << 20;
export const MAX_DEPTH = 32;
const RESERVED_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

const unsupported = (code: string, field: string, message: string) => new SysprepError('unsupported', code, `${field}: ${message}`, { field });
const tooLarge = () => new SysprepError('too-large', 'BODY_TOO_LARGE', `body: is larger than ${BODY_LIMIT_BYTES} bytes`, { field: 'body', limit: BODY_LIMIT_BYTES });

export function hasBody(req: Request): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/** application/json with an absent or UTF-8 charset, else the 415 naming the header. */
export function checkContentType(header: string | undefined): void {
  if (!header) throw unsupported('UNSUPPORTED_MEDIA_TYPE', 'Content-Type', 'is missing: send the body as application/json');
  const [type, ...params] = header.split(';').map((p) => p.trim());
  if (type.toLowerCase() !== 'application/json') {
    throw unsupported('UNSUPPORTED_MEDIA_TYPE', 'Content-Type', `must be application/json, not ${JSON.stringify(type.slice(0, 100))}`);
  }
  for (const p of params) {
    const [name, value = ''] = p.split('=').map((s) => s.trim());
    const charset = value.replace(/^"|"$/g, '').toLowerCase();
    if (name.toLowerCase() === 'charset' && charset !== 'utf-8' && charset !== 'utf8') {
      throw unsupported('UNSUPPORTED_CHARSET', 'Content-Type', `charset must be utf-8, not ${JSON.stringify(value.slice(0, 40))}`);
    }
  }
}

export function checkContentEncoding(header: string | undefined): void {
  if (header !== undefined && header.trim().toLowerCase() !== 'identity') {
    throw unsupported('UNSUPPORTED_ENCODING', 'Content-Encoding', `${JSON.stringify(header.slice(0, 40))} is not accepted: send the JSON uncompressed`);
  }
}

async function readRaw(req: Request, limit: number): Promise<Buffer> {
  if (Number(req.headers['content-length']) > limit) throw tooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of req as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > limit) throw tooLarge();
      chunks.push(chunk);
    }
  } catch (err) {
    if (err instanceof SysprepError) throw err;
    throw new InputError('body', 'was not received whole (the connection broke)', 'REQUEST_ABORTED');
  }
  return Buffer.concat(chunks);
}

export function parseJson(raw: Buffer): unknown {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(raw);
  } catch {
    throw new InputError('body', 'is not valid UTF-8', 'INVALID_JSON');
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new InputError('body', `is not valid JSON (${(err as Error).message.slice(0, 200)})`, 'INVALID_JSON');
  }
  if (value === null || typeof value !== 'object') throw new InputError('body', 'must be a JSON object', 'INVALID_JSON');
  checkShape(value);
  return value;
}

/** Depth and reserved keys, breadth-first without recursion; names the first field at fault. */
export function checkShape(root: unknown, maxDepth = MAX_DEPTH): void {
  let level: { value: unknown; path: PropertyKey[] }[] = [{ value: root, path: [] }];
  for (let depth = 1; level.length; depth++) {
    const next: typeof level = [];
    for (const { value, path } of level) {
      if (value === null || typeof value !== 'object') continue;
      if (depth > maxDepth) throw new InputError(fieldPath('', path) || 'body', `nests deeper than ${maxDepth} levels`, 'TOO_DEEP');
      const entries: [PropertyKey, unknown][] = Array.isArray(value) ? value.map((v, i) => [i, v]) : Object.entries(value);
      if (!Array.isArray(value)) {
        // Object.entries skips nothing JSON.parse made, but "__proto__" is an own key there: check every key.
        for (const key of Object.keys(value)) {
          if (RESERVED_KEYS.has(key)) throw new InputError(fieldPath('', [...path, key]), 'is a reserved name and never a field', 'RESERVED_KEY');
        }
      }
      for (const [k, v] of entries) if (v !== null && typeof v === 'object') next.push({ value: v, path: [...path, k] });
    }
    level = next;
  }
}

/**
 * The JSON body of a route that takes one; `undefined` when none was sent and the route
 * allows that. Throws the typed 4xx of the first check that fails.
 */
export async function readJsonBody(req: Request, opts: { optional: boolean; limit?: number }): Promise<unknown> {
  if (!hasBody(req)) {
    if (opts.optional) return undefined;
    throw new InputError('body', 'is required: send a JSON object (Content-Type: application/json)', 'BODY_REQUIRED');
  }
  checkContentType(req.headers['content-type']);
  checkContentEncoding(req.headers['content-encoding']);
  return parseJson(await readRaw(req, opts.limit ?? BODY_LIMIT_BYTES));
}
