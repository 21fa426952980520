// The room file's YAML layer: text -> plain data plus a way back from a key path to a
// line and column. Parsed with the `yaml` package's document API so every node keeps its
// offsets (lines and columns are counted from the text: a refused text is never parsed). What YAML allows but a room file never needs is refused here, each as a
// problem with its own position: duplicate keys (the parser's own check), explicit tags
// (`!!python/object`, `!foo`: a room file is plain data), keys that are not plain
// scalars, alias expansion beyond MAX_ALIASES (a "billion laughs" file), text over
// MAX_BYTES and nesting deeper than MAX_DEPTH, measured on the lexer's tokens before the
// document is composed: the composer recurses, and a megabyte of "[[[[" can exhaust the
// process's memory (an abort no try/catch sees), not just its stack.
import { Document, isAlias, isMap, isPair, isScalar, isSeq, Lexer, Node, parseDocument, visit } from 'yaml';
import { KeyPath, RoomIssues } from './roomIssues';

export const MAX_BYTES = 1 << 20;
/** Alias expansions toJS allows (the yaml package's own resource guard). */
export const MAX_ALIASES = 100;
/** Collections inside collections: a room file needs about ten (rooms.NAME.vms[0].params.users[0].sshKeys[0]). */
export const MAX_DEPTH = 64;

export interface Position {
  line: number;
  column: number;
}

export interface RoomYaml {
  /** The file's data, or undefined when the YAML itself is unusable (its problems are in `issues`). */
  value: unknown;
  /** Line and column of a key path: the value's (or the key's with atKey); where the path leaves the file, its deepest node that is. */
  positionOf(path: KeyPath, atKey?: boolean): Position;
  positionAt(offset: number): Position;
  /** The key path of the node at an offset (a parser error's), as far as the document has one. */
  pathAt(offset: number): KeyPath;
}

export function parseRoomYaml(source: string, issues: RoomIssues): RoomYaml {
  const positionAt = (offset: number): Position => {
    const before = source.slice(0, offset);
    return { line: before.split('\n').length, column: offset - before.lastIndexOf('\n') };
  };
  if (new TextEncoder().encode(source).length > MAX_BYTES) {
    issues.add([], `is larger than ${MAX_BYTES} bytes`, { offset: 0 });
    return { value: undefined, positionOf: () => positionAt(0), positionAt, pathAt: () => [] };
  }
  const deep = tooDeepAt(source);
  if (deep !== undefined) {
    issues.add([], `nests collections deeper than ${MAX_DEPTH} levels`, { offset: deep });
    return { value: undefined, positionOf: () => positionAt(deep), positionAt, pathAt: () => [] };
  }
  const doc = parseDocument(source, { prettyErrors: false, schema: 'core', uniqueKeys: true, strict: true });
  const yaml: RoomYaml = {
    value: undefined,
    positionAt,
    positionOf: (path, atKey) => positionAt(offsetOf(doc, path, atKey)),
    pathAt: (offset) => pathAt(doc, offset),
  };
  // An unknown tag is the parser's warning; every tag, known or not, is refused below.
  for (const e of [...doc.errors, ...doc.warnings.filter((w) => w.code !== 'TAG_RESOLVE_FAILED')]) {
    const offset = e.pos[0];
    issues.add(pathAt(doc, offset), e.code === 'DUPLICATE_KEY' ? 'is given twice (keys must be unique)' : yamlMessage(e.message), { offset });
  }
  visit(doc, {
    Node(_, node) {
      if (isScalar(node) || isMap(node) || isSeq(node)) {
        const offset = node.range?.[0] ?? 0;
        if (node.tag) issues.add(pathAt(doc, offset), `has the tag ${node.tag}: a room file holds plain values, tags are not taken`, { offset });
      }
    },
    Pair(_, pair) {
      const key = pair.key;
      if (key !== null && !(isScalar(key) && (typeof key.value === 'string' || typeof key.value === 'number'))) {
        const offset = (key as Node).range?.[0] ?? 0;
        issues.add(pathAt(doc, offset), 'has a key that is not a plain name', { offset });
      }
    },
  });
  if (!issues.empty) return yaml;
  try {
    yaml.value = doc.toJS({ maxAliasCount: MAX_ALIASES });
  } catch (err) {
    // The one error toJS throws on parsed text: too many alias expansions.
    issues.add([], `expands its aliases (*name) too often: ${(err as Error).message}`, { offset: 0 });
  }
  return yaml;
}

/**
 * The offset where collections nest deeper than MAX_DEPTH, or undefined. Depth on a line
 * is its block indentation levels, plus the `-` and `?` indicators before its content,
 * plus the open flow collections (`[`, `{`): an upper bound of the document's nesting,
 * read from the lexer's tokens (quoted text, block scalars and comments are single
 * tokens, so their brackets do not count).
 */
function tooDeepAt(source: string): number | undefined {
  const indents: number[] = [];
  let flow = 0;
  let offset = 0;
  // Per line: its indentation (undefined until seen), whether its content has begun, its indicators.
  let indent: number | undefined;
  let begun = false;
  let indicators = 0;
  for (const token of new Lexer().lex(source)) {
    const at = offset;
    offset += token.length;
    if (token === '\n') {
      [indent, begun, indicators] = [undefined, false, 0];
      continue;
    }
    // Control tokens (< " ": document start, scalar markers), spaces and comments carry no nesting.
    if ((token.length === 1 && token < ' ') || token.startsWith('#')) continue;
    if (/^ +$/.test(token)) {
      indent ??= token.length;
      continue;
    }
    indent ??= 0;
    if (!begun && flow === 0) {
      while (indents.length && indents[indents.length - 1] >= indent) indents.pop();
      indents.push(indent);
    }
    if (token === '[' || token === '{') flow++;
    else if (token === ']' || token === '}') flow = Math.max(0, flow - 1);
    else if (!begun && (token === '-' || token === '?')) indicators++;
    else begun = true;
    if (indents.length + indicators + flow > MAX_DEPTH) return at;
  }
  return undefined;
}

/** The parser's message without its trailing position (ours is in front of every line). */
const yamlMessage = (m: string) => m.replace(/ at line \d+, column \d+:?[\s\S]*$/, '').trim();

type Step = { node: unknown; keyNode?: unknown };

/** The nodes along a key path, as far as they exist; aliases followed to their anchors. */
function walk(doc: Document, path: KeyPath): Step[] {
  const steps: Step[] = [{ node: doc.contents }];
  for (const segment of path) {
    let node = steps[steps.length - 1].node;
    if (isAlias(node)) node = node.resolve(doc);
    if (isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(segment));
      if (!pair) break;
      steps.push({ node: pair.value ?? pair.key, keyNode: pair.key });
    } else if (isSeq(node) && typeof segment === 'number' && node.items[segment] !== undefined) {
      steps.push({ node: node.items[segment] });
    } else {
      break;
    }
  }
  return steps;
}

function offsetOf(doc: Document, path: KeyPath, atKey = false): number {
  const steps = walk(doc, path);
  const last = steps[steps.length - 1];
  const found = steps.length === path.length + 1;
  const target = found && atKey && last.keyNode ? last.keyNode : last.node;
  return (target as Node | null)?.range?.[0] ?? 0;
}

function pathAt(doc: Document, offset: number): KeyPath {
  const path: (string | number)[] = [];
  let node: unknown = doc.contents;
  const inside = (n: unknown) => {
    const r = (n as Node | null)?.range;
    return !!r && offset >= r[0] && offset < Math.max(r[2], r[1] + 1);
  };
  for (;;) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && (inside(p.key) || inside(p.value)));
      if (!pair || !isScalar(pair.key)) return path;
      path.push(String(pair.key.value));
      if (inside(pair.key)) return path;
      node = pair.value;
    } else if (isSeq(node)) {
      const i = node.items.findIndex(inside);
      if (i < 0) return path;
      path.push(i);
      node = node.items[i];
    } else {
      return path;
    }
  }
}
