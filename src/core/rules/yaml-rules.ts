/**
 * Rules written as YAML: one rule per document, documents separated by `---`.
 *
 * The YAML is read with the `yaml` library's document API, which keeps every node's source range, so each
 * diagnostic points at the offending key or value in the file.
 *
 * Where a pattern or emit expression starts, and what text is handed to the compiler:
 * - plain scalars (`pattern: every a=A -> b=B`, also continued over several lines) and block scalars
 *   (`|`, `|-`, `>`, `>-`, ...): the text is the scalar's source exactly as written in the file, from its
 *   first non-blank character to its last, so a compile error on any line of it maps back to the exact
 *   file line and column. For block scalars this keeps the block's indentation on the lines after the
 *   first, and a folded (`>`) scalar keeps its line breaks; the pattern language treats both as plain
 *   whitespace, so the meaning is the one YAML gives the value.
 * - quoted scalars ('...' or "...", and every string of a JSON rule): the text is the YAML value (escapes
 *   resolved, lines folded) and starts right after the opening quote. Where the value differs from the file
 *   text, the origin carries segments mapping each part of the value back to the file (decodeQuoted), so a
 *   compile error after `\n`, `\"`, `\u0020` or a folded line still points at the exact file position.
 */
import {
  isAlias,
  isMap,
  isPair,
  isScalar,
  isSeq,
  parseAllDocuments,
  Scalar,
  visit,
  type Document,
  type Node as YamlNode,
} from 'yaml';
import type { Diagnostic } from '../language/diagnostics';
import { LineIndex } from '../text/lines';
import { utf8Length, type EmbeddedText, type Loc, type RawEntry, type RawNode, type RawRule } from './schema';

/** Reads every YAML document of `text` as a raw rule; YAML syntax problems become diagnostics. */
export function readYamlRules(source: string, file: string): { rules: RawRule[]; diagnostics: Diagnostic[] } {
  // YAML 1.2 reads a lone \r as a line break, the yaml library does not: it is given \n there instead, which
  // keeps every offset (and is what YAML makes of any line break inside a value).
  const text = source.replace(/\r(?!\n)/g, '\n');
  const index = new LineIndex(text);
  const diagnostics: Diagnostic[] = [];
  const rules: RawRule[] = [];
  const at = (loc: Loc, message: string, severity: Diagnostic['severity'] = 'error'): Diagnostic => ({
    severity,
    message,
    line: loc.line,
    column: loc.column,
    length: loc.length,
    file,
  });

  // Duplicate keys are left to the schema, which reports them at every level with the first occurrence.
  const docs = parseAllDocuments(text, { prettyErrors: false, uniqueKeys: false, merge: false, strict: true });
  for (const doc of docs as Document.Parsed[]) {
    // Only a document's first syntax error is reported: the ones after it are mostly its consequences.
    const [first] = doc.errors;
    if (first) {
      const [start, end] = first.pos;
      const opened = unclosedOpening(doc, text, first.message);
      const loc = opened === undefined ? index.loc(start, Math.max(end, start + 1)) : index.loc(opened);
      diagnostics.push(at(loc, `YAML syntax error: ${yamlMessage(first.message)}`));
    }
    for (const w of doc.warnings) {
      const [start, end] = w.pos;
      diagnostics.push(at(index.loc(start, Math.max(end, start + 1)), yamlMessage(w.message), 'warning'));
    }
    if (first) continue;

    const contents = doc.contents as YamlNode | null;
    // An empty document (a trailing `---`, a file of comments) holds no rule.
    if (contents === null || (isScalar(contents) && contents.value === null && !contents.tag)) continue;
    const [docStart, docEnd] = doc.range;
    const start = contents.range?.[0] ?? docStart;
    const ruleLoc = index.loc(start, start + 1);
    if (!isMap(contents)) {
      const what = isSeq(contents) ? 'a list' : 'a single value';
      diagnostics.push(
        at(
          index.loc(start, contents.range?.[1] ?? start + 1),
          `a rule must be a mapping of keys (id: ..., pattern: ...), found ${what}`,
        ),
      );
      continue;
    }
    let hasFormErrors = false;
    const converter = new Converter(doc, text, index, (loc, message) => {
      hasFormErrors = true;
      diagnostics.push(at(loc, message));
    });
    const root = converter.node(contents, ruleLoc);
    rules.push({
      form: 'yaml',
      entries: root.kind === 'map' ? root.entries : [],
      loc: ruleLoc,
      bytes: utf8Length(text.slice(docStart, docEnd)),
      hasFormErrors,
    });
  }
  return { rules, diagnostics };
}

const DOUBLE_QUOTED_ESCAPES: Record<string, string> = {
  '0': '\0',
  a: '\x07',
  b: '\b',
  t: '\t',
  '\t': '\t',
  n: '\n',
  v: '\v',
  f: '\f',
  r: '\r',
  e: '\x1b',
  ' ': ' ',
  '"': '"',
  '/': '/',
  '\\': '\\',
  N: '\u0085',
  _: '\u00a0',
  L: '\u2028',
  P: '\u2029',
};

/**
 * The value of the quoted scalar whose content is text[from, to), as YAML reads it (escapes, `''`, folded
 * lines), with the file offset each character of the value came from; undefined when it cannot tell (the
 * caller then checks the value against the yaml library's and keeps the plain origin on any difference).
 */
function decodeQuoted(src: string, from: number, to: number, double: boolean): { text: string; at: number[] } | undefined {
  let text = '';
  const at: number[] = [];
  // Whitespace before this length came from escapes, and survives line folding.
  let kept = 0;
  let i = from;
  while (i < to) {
    const c = src[i];
    if (c === '\n' || c === '\r') {
      let j = text.length;
      while (j > kept && (text[j - 1] === ' ' || text[j - 1] === '\t')) j--;
      text = text.slice(0, j);
      at.length = j;
      let breaks = 0;
      let k = i;
      while (k < to) {
        if (src[k] === '\r' && src[k + 1] === '\n') {
          k += 2;
          breaks++;
        } else if (src[k] === '\n' || src[k] === '\r') {
          k++;
          breaks++;
        } else if (src[k] === ' ' || src[k] === '\t') k++;
        else break;
      }
      if (breaks === 1) {
        text += ' ';
        at.push(i);
      } else {
        for (let n = 1; n < breaks; n++) {
          text += '\n';
          at.push(i);
        }
      }
      i = k;
      continue;
    }
    if (double && c === '\\') {
      const e = src[i + 1];
      if (e === '\n' || e === '\r') {
        let k = i + 1 + (e === '\r' && src[i + 2] === '\n' ? 2 : 1);
        while (k < to && (src[k] === ' ' || src[k] === '\t')) k++;
        i = k;
        kept = text.length;
        continue;
      }
      const simple = DOUBLE_QUOTED_ESCAPES[e];
      const hexLength = e === 'x' ? 2 : e === 'u' ? 4 : e === 'U' ? 8 : 0;
      let value: string;
      if (simple !== undefined) value = simple;
      else if (hexLength > 0 && /^[0-9a-fA-F]+$/.test(src.slice(i + 2, i + 2 + hexLength)) && i + 2 + hexLength <= to) {
        const code = parseInt(src.slice(i + 2, i + 2 + hexLength), 16);
        if (code > 0x10ffff) return undefined;
        value = String.fromCodePoint(code);
      } else return undefined;
      for (let u = 0; u < value.length; u++) {
        text += value[u];
        at.push(i);
      }
      i += 2 + hexLength;
      kept = text.length;
      continue;
    }
    if (!double && c === "'" && src[i + 1] === "'") {
      text += "'";
      at.push(i);
      i += 2;
      continue;
    }
    text += c;
    at.push(i);
    i++;
  }
  return { text, at };
}

const OPENERS: Record<string, string> = { '"': '"', "'": "'", ']': '[', '}': '{' };

/**
 * Where the quote or bracket that an error says is never closed was opened. The yaml library reports it where
 * it gave up, at the end of the text, past the last line: the opening one is what to look at.
 */
function unclosedOpening(doc: Document.Parsed, text: string, message: string): number | undefined {
  const closer = /^Missing closing (["'])quote/.exec(message)?.[1] ?? /\bend with an? ([\]}])/.exec(message)?.[1];
  if (closer === undefined) return undefined;
  let found: number | undefined;
  // Depth first: the last one found is the innermost.
  visit(doc, (_key, node) => {
    const range = (node as YamlNode).range;
    if (range && text[range[0]] === OPENERS[closer] && !isClosed(text.slice(range[0], range[1]).trimEnd(), closer)) {
      found = range[0];
    }
  });
  return found;
}

/** Whether a quoted scalar's or flow collection's source (from its opening character) ends with its closer. */
function isClosed(source: string, closer: string): boolean {
  if (source.length < 2 || !source.endsWith(closer)) return false;
  // Before the closer: an escaping backslash ("...\") or quote ('...''), which make it part of the value.
  const escape = closer === '"' ? '\\' : closer === "'" ? "'" : undefined;
  if (escape === undefined) return true;
  let n = 0;
  for (let i = source.length - 2; i > 0 && source[i] === escape; i--) n++;
  return n % 2 === 0;
}

/** The yaml library's messages sometimes end with a source excerpt; keep the first line. */
function yamlMessage(message: string): string {
  return message.split('\n')[0].replace(/\s*at line \d+, column \d+:?$/, '');
}

/**
 * Most values one document may expand to. Aliases re-use a node, so a few hundred bytes of nested aliases
 * (a "billion laughs" document) would expand to billions of values and block the service; a real rule has
 * a few dozen.
 */
export const MAX_YAML_VALUES_PER_RULE = 10_000;

class Converter {
  private readonly active = new Set<YamlNode>();
  private values = 0;

  constructor(
    private readonly doc: Document.Parsed,
    private readonly text: string,
    private readonly index: LineIndex,
    private readonly report: (loc: Loc, message: string) => void,
  ) {}

  private locOf(node: YamlNode | null | undefined, fallback: Loc): Loc {
    const range = node?.range;
    return range ? this.index.loc(range[0], Math.max(range[1], range[0] + 1)) : fallback;
  }

  node(node: YamlNode | null | undefined, fallback: Loc): RawNode {
    const loc = this.locOf(node, fallback);
    if (node === null || node === undefined) return { kind: 'scalar', value: null, loc };
    if (++this.values > MAX_YAML_VALUES_PER_RULE) {
      if (this.values === MAX_YAML_VALUES_PER_RULE + 1) {
        this.report(loc, `the rule expands to more than ${MAX_YAML_VALUES_PER_RULE} values (through aliases?); rules are far smaller`);
      }
      return { kind: 'scalar', value: null, loc };
    }
    if (isAlias(node)) {
      const target = node.resolve(this.doc) as YamlNode | undefined;
      if (!target) {
        this.report(loc, `unknown alias *${node.source}`);
        return { kind: 'scalar', value: null, loc };
      }
      if (this.active.has(target)) {
        this.report(loc, `alias *${node.source} refers to a node that contains it`);
        return { kind: 'scalar', value: null, loc };
      }
      const resolved = this.node(target, loc);
      // Problems with the value are reported where the alias is used; embedded text keeps its real origin.
      return { ...resolved, loc };
    }
    if (isScalar(node)) {
      return {
        kind: 'scalar',
        value: node.value,
        loc,
        embedded: this.embedded(node),
        source: node.source ?? (node.range ? this.text.slice(node.range[0], node.range[1]) : undefined),
      };
    }
    if (isSeq(node)) return { kind: 'sequence', loc };
    if (isMap(node)) {
      this.active.add(node);
      const entries: RawEntry[] = [];
      for (const item of node.items) {
        if (!isPair(item)) continue;
        const keyNode = item.key as YamlNode | null;
        const keyLoc = this.locOf(keyNode, loc);
        let key: string;
        if (keyNode === null || keyNode === undefined) key = '';
        else if (isScalar(keyNode)) key = keyNode.value === null ? '' : String(keyNode.value);
        else {
          this.report(keyLoc, 'a key must be a plain name, not a list or mapping');
          continue;
        }
        // `key:` with nothing after it: a null value located right after the key.
        const valueFallback = keyNode?.range ? this.index.loc(keyNode.range[1]) : keyLoc;
        entries.push({ key, keyLoc, value: this.node(item.value as YamlNode | null, valueFallback) });
      }
      this.active.delete(node);
      return { kind: 'map', entries, loc };
    }
    return { kind: 'scalar', value: null, loc };
  }

  /** The text and origin of a scalar used as a pattern or an expression (see the file comment). */
  private embedded(node: Scalar): EmbeddedText | undefined {
    const range = node.range;
    if (!range) return undefined;
    const [start, end] = range;
    switch (node.type) {
      case Scalar.PLAIN:
        if (node.value === null) return undefined;
        return this.slice(start, end);
      case Scalar.BLOCK_LITERAL:
      case Scalar.BLOCK_FOLDED: {
        // range starts at the header (`|-`, `>2 # comment`); the content begins on the next line.
        const nl = this.text.indexOf('\n', start);
        return this.slice(nl < 0 || nl >= end ? end : nl + 1, end);
      }
      case Scalar.QUOTE_DOUBLE:
      case Scalar.QUOTE_SINGLE: {
        if (typeof node.value !== 'string') return undefined;
        const origin = this.index.pos(start + 1);
        // Escapes and folded lines make the value differ from the file text: map it back char by char.
        const close = this.text.lastIndexOf(node.type === Scalar.QUOTE_DOUBLE ? '"' : "'", end - 1);
        const decoded = close > start ? decodeQuoted(this.text, start + 1, close, node.type === Scalar.QUOTE_DOUBLE) : undefined;
        if (decoded === undefined || decoded.text !== node.value) return { text: node.value, origin };
        const segments: Array<[number, number, number]> = [];
        let prev: { line: number; column: number } | undefined;
        for (let i = 0; i <= decoded.at.length; i++) {
          const p = this.index.pos(i < decoded.at.length ? decoded.at[i] : close);
          if (!prev || p.line !== prev.line || p.column !== prev.column + 1) segments.push([i, p.line, p.column]);
          prev = p;
        }
        return { text: node.value, origin: segments.length > 1 ? { ...origin, segments } : origin };
      }
      default:
        return undefined;
    }
  }

  private slice(start: number, end: number): EmbeddedText {
    let s = start;
    let e = end;
    while (s < e && /\s/.test(this.text[s])) s++;
    while (e > s && /\s/.test(this.text[e - 1])) e--;
    return { text: this.text.slice(s, e), origin: this.index.pos(s) };
  }
}
