/**
 * The rule schema, shared by every textual form of a rule (YAML documents, `.cep` statements).
 *
 * Each form first turns its text into a {@link RawRule}: the keys it found, their values and where each
 * sits in the file. {@link validateRawRule} then checks that against one schema and produces the
 * {@link RuleDefinition} or diagnostics in file coordinates. Keeping the validation in one place is what
 * makes both forms accept, reject and default exactly the same things.
 */
import type { Diagnostic } from '../language/diagnostics';
import { formatBytes } from '../text/sizes';
import { RULE_DEFAULTS, type RuleDefinition, type Severity, type TextOrigin } from './rule';

// ---------------------------------------------------------------------------------------------
// Limits
// ---------------------------------------------------------------------------------------------

export const RULE_LIMITS = {
  /** A whole rule file (UTF-8 bytes). */
  fileBytes: 16 * 1024 * 1024,
  /** The text of one rule: a YAML document or a `.cep` statement with its annotations (UTF-8 bytes). */
  ruleBytes: 64 * 1024,
  /** The pattern text (UTF-8 bytes). */
  patternBytes: 16 * 1024,
  /** One emit expression (UTF-8 bytes). */
  emitExpressionBytes: 4 * 1024,
  emitFields: 100,
  labels: 64,
  idLength: 128,
  descriptionLength: 4096,
  fieldNameLength: 256,
  labelKeyLength: 128,
  labelValueLength: 1024,
  /** Kafka's own limit on topic names. */
  topicLength: 249,
} as const;

export const SEVERITIES: readonly Severity[] = ['info', 'warning', 'critical'];

function isSeverity(v: string): v is Severity {
  return (SEVERITIES as readonly string[]).includes(v);
}

const ID_RE = /^[a-z0-9_-]+$/;
const TOPIC_RE = /^[A-Za-z0-9._-]+$/;
const IDENTIFIER_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;
const LABEL_KEY_RE = /^[A-Za-z_][A-Za-z0-9_.\/-]*$/;
/**
 * A name that fits the patterns above but may be neither an emit field nor a label: they are the keys of
 * plain objects (the rule's `emit` and `labels`, an alert's `fields`), where `__proto__` sets the prototype.
 */
const RESERVED_NAME = '__proto__';
// eslint-disable-next-line no-control-regex
const FIELD_NAME_BAD_RE = /[\s\u0000-\u001f]/;

// ---------------------------------------------------------------------------------------------
// Locations
// ---------------------------------------------------------------------------------------------

/** A place in a file: 1-based line and column, and how many characters to underline. */
export interface Loc {
  line: number;
  column: number;
  length: number;
}

/** UTF-8 byte length without depending on Node's Buffer. */
export function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

// ---------------------------------------------------------------------------------------------
// "Did you mean"
// ---------------------------------------------------------------------------------------------

/** Optimal string alignment distance (Levenshtein with adjacent transpositions). */
export function editDistance(a: string, b: string): number {
  const d: number[][] = [];
  for (let i = 0; i <= a.length; i++) {
    d.push([i]);
    for (let j = 1; j <= b.length; j++) {
      if (i === 0) {
        d[i].push(j);
        continue;
      }
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2][j - 2] + 1);
      d[i].push(v);
    }
  }
  return d[a.length][b.length];
}

/** The candidate a misspelt word most likely meant, if any is close enough. */
export function didYouMean(word: string, candidates: readonly string[]): string | undefined {
  const norm = (s: string) => s.toLowerCase().replace(/[-_\s]/g, '');
  const w = norm(word);
  const exact = candidates.find((c) => norm(c) === w);
  if (exact) return exact;
  if (w.length >= 3) {
    const prefixed = candidates.filter((c) => norm(c).startsWith(w));
    if (prefixed.length === 1) return prefixed[0];
  }
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const dist = editDistance(w, norm(c));
    const allowed = Math.max(1, Math.floor(Math.max(w.length, c.length) / 3));
    if (dist <= allowed && dist < bestDistance) {
      best = c;
      bestDistance = dist;
    }
  }
  return best;
}

function suggestion(word: string, candidates: readonly string[], quote: (s: string) => string): string {
  const s = didYouMean(word, candidates);
  return s === undefined ? '' : `; did you mean ${quote(s)}?`;
}

// ---------------------------------------------------------------------------------------------
// Raw rules: what a textual form found, before validation
// ---------------------------------------------------------------------------------------------

/** Text embedded in a rule (a pattern, an emit expression) and where its first character is in the file. */
export interface EmbeddedText {
  text: string;
  /** Where the text starts; `segments` as in TextOrigin when the text is not a verbatim copy of the file. */
  origin: { line: number; column: number; segments?: ReadonlyArray<readonly [number, number, number]> };
}

export type RawNode =
  | {
      kind: 'scalar';
      /** The value as the form reads it: string, number, boolean or null. */
      value: unknown;
      loc: Loc;
      /**
       * For pattern and emit values: the text to use and where it starts, when the form can tell exactly
       * (see yaml-rules.ts for how YAML scalar styles map to it). Otherwise a string `value` is used as is,
       * starting at `loc`.
       */
      embedded?: EmbeddedText;
      /** How to show the value in a hint ("quote it: '404'"). */
      source?: string;
    }
  | { kind: 'map'; entries: RawEntry[]; loc: Loc }
  | { kind: 'sequence'; loc: Loc };

export interface RawEntry {
  key: string;
  keyLoc: Loc;
  value: RawNode;
}

export interface RawRule {
  form: 'yaml' | 'cep';
  entries: RawEntry[];
  /** Where to report problems of the rule as a whole (a missing key, its size). */
  loc: Loc;
  /** Size of the rule's text in UTF-8 bytes. */
  bytes: number;
  /** The form already reported an error in this rule (an unknown annotation, a bad alias): no definition. */
  hasFormErrors?: boolean;
}

/** The schema's keys, in the order definitions are built. */
export const RULE_KEYS = [
  'id',
  'description',
  'severity',
  'source',
  'partitionBy',
  'keyedBy',
  'pattern',
  'emit',
  'labels',
  'enabled',
  'event',
] as const;
export type RuleKey = (typeof RULE_KEYS)[number];
export const EVENT_KEYS = ['typeField', 'timeField'] as const;

/** How each form names a key in messages. */
const CEP_NAMES: Record<string, string> = {
  id: '@name',
  description: '@description',
  severity: '@severity',
  source: '@source',
  partitionBy: "'partition by'",
  keyedBy: '@keyedBy',
  pattern: 'the pattern',
  emit: 'select',
  labels: '@label',
  enabled: '@enabled',
  'event.typeField': '@typeField',
  'event.timeField': '@timeField',
};

function nameOf(form: RawRule['form'], path: string): string {
  if (form === 'yaml') return `'${path}'`;
  if (Object.hasOwn(CEP_NAMES, path)) return CEP_NAMES[path];
  if (path.startsWith('labels.')) return '@label';
  if (path.startsWith('emit.')) return `select item '${path.slice('emit.'.length)}'`;
  return path;
}

export interface ValidatedRule {
  rule: RuleDefinition;
  /** Where the id is written, to report a duplicate there. */
  idLoc: Loc;
}

/**
 * Checks one raw rule against the schema. Returns the definition when there is no error; diagnostics
 * (errors and warnings) carry `file` and file coordinates.
 */
export function validateRawRule(raw: RawRule, file: string): { result?: ValidatedRule; diagnostics: Diagnostic[] } {
  const diagnostics: Diagnostic[] = [];
  const error = (loc: Loc, message: string, expected?: readonly string[]) => {
    const d: Diagnostic = { severity: 'error', message, line: loc.line, column: loc.column, length: loc.length, file };
    if (expected && expected.length > 0) d.expected = [...expected];
    diagnostics.push(d);
  };
  const name = (path: string) => nameOf(raw.form, path);

  if (raw.bytes > RULE_LIMITS.ruleBytes) {
    error(raw.loc, `rule is too large: ${raw.bytes} bytes, at most ${formatBytes(RULE_LIMITS.ruleBytes)}`);
    return { diagnostics };
  }

  const entries = new Map<string, RawEntry>();
  for (const entry of raw.entries) {
    if (!(RULE_KEYS as readonly string[]).includes(entry.key)) {
      error(entry.keyLoc, `unknown key '${entry.key}'${suggestion(entry.key, RULE_KEYS, (s) => `'${s}'`)}`, RULE_KEYS);
      continue;
    }
    if (entries.has(entry.key)) {
      const first = entries.get(entry.key)!.keyLoc;
      error(entry.keyLoc, `${name(entry.key)} is given twice (first at line ${first.line})`);
      continue;
    }
    entries.set(entry.key, entry);
  }
  /** The entry of an optional key; a YAML null (`description:` with nothing after it) counts as absent. */
  const present = (key: RuleKey): RawEntry | undefined => {
    const e = entries.get(key);
    return e && !(e.value.kind === 'scalar' && e.value.value === null) ? e : undefined;
  };

  const typeName = (node: RawNode): string =>
    node.kind === 'map'
      ? 'a mapping'
      : node.kind === 'sequence'
        ? 'a list'
        : node.value === null
          ? 'nothing'
          : typeof node.value === 'string'
            ? 'a string'
            : `a ${typeof node.value}`;

  /**
   * A string value, or an error saying what was found instead. For a YAML number or boolean, the error says
   * to quote it when the quoted text would be valid (`accepts`): `severity: 3` quoted is still no severity.
   */
  const stringOf = (
    entry: RawEntry,
    path: string,
    accepts: (value: string) => boolean,
    expected?: readonly string[],
  ): string | undefined => {
    const node = entry.value;
    if (node.kind === 'scalar' && typeof node.value === 'string') return node.value;
    const quoted = node.kind === 'scalar' && node.value !== null && raw.form === 'yaml' ? (node.source ?? String(node.value)) : undefined;
    const hint = quoted !== undefined && accepts(quoted) ? ` (quote it: '${quoted}')` : '';
    error(node.loc, `${name(path)} must be a string, found ${typeName(node)}${hint}`, expected);
    return undefined;
  };
  const fitsIn = (max: number) => (value: string) => value.length <= max;

  const checkLength = (value: string, loc: Loc, path: string, max: number): boolean => {
    if (value.length > max) {
      error(loc, `${name(path)} is too long: ${value.length} characters, at most ${max}`);
      return false;
    }
    return true;
  };

  const fieldName = (entry: RawEntry, path: string): string | undefined => {
    const value = stringOf(entry, path, (v) => !FIELD_NAME_BAD_RE.test(v) && v.length <= RULE_LIMITS.fieldNameLength);
    if (value === undefined) return undefined;
    if (value.length === 0) {
      error(entry.value.loc, `${name(path)} must name an event field, found an empty string`);
      return undefined;
    }
    if (FIELD_NAME_BAD_RE.test(value)) {
      error(entry.value.loc, `${name(path)} must be a field name without spaces, found '${value}'`);
      return undefined;
    }
    return checkLength(value, entry.value.loc, path, RULE_LIMITS.fieldNameLength) ? value : undefined;
  };

  /** Embedded text (pattern, emit expression) with its origin. */
  const embeddedOf = (node: RawNode, path: string, what: string): EmbeddedText | undefined => {
    if (node.kind !== 'scalar' || node.value === null || typeof node.value === 'object') {
      error(node.loc, `${name(path)} must be ${what}, found ${typeName(node)}`);
      return undefined;
    }
    const found: EmbeddedText = node.embedded ?? {
      text: String(node.value),
      origin: { line: node.loc.line, column: node.loc.column },
    };
    if (found.text.trim() === '') {
      error(node.loc, `${name(path)} must not be empty`);
      return undefined;
    }
    return found;
  };

  // ---- id
  let id: string | undefined;
  let idLoc: Loc = raw.loc;
  const idEntry = entries.get('id');
  if (!idEntry) {
    error(
      raw.loc,
      raw.form === 'cep'
        ? "missing @name('...'): every rule needs an id"
        : "missing required key 'id': every rule needs an id",
    );
  } else {
    idLoc = idEntry.value.loc;
    const value = stringOf(idEntry, 'id', (v) => ID_RE.test(v) && v.length <= RULE_LIMITS.idLength);
    if (value !== undefined) {
      if (!ID_RE.test(value)) {
        const fixed = trimDashes(value.toLowerCase().replace(/[^a-z0-9_-]+/g, '-'));
        error(
          idEntry.value.loc,
          `invalid id '${value}': only lower-case letters, digits, '_' and '-' are allowed` +
            (fixed && fixed !== value ? `; did you mean '${fixed}'?` : ''),
          ['[a-z0-9_-]+'],
        );
      } else if (checkLength(value, idEntry.value.loc, 'id', RULE_LIMITS.idLength)) {
        id = value;
      }
    }
  }

  // ---- description
  let description: string | undefined;
  const descriptionEntry = present('description');
  if (descriptionEntry) {
    const value = stringOf(descriptionEntry, 'description', fitsIn(RULE_LIMITS.descriptionLength));
    if (value !== undefined && checkLength(value, descriptionEntry.value.loc, 'description', RULE_LIMITS.descriptionLength))
      description = value;
  }

  // ---- severity
  let severity: Severity = RULE_DEFAULTS.severity;
  const severityEntry = present('severity');
  if (severityEntry) {
    const value = stringOf(severityEntry, 'severity', isSeverity, SEVERITIES);
    if (value !== undefined) {
      if (isSeverity(value)) severity = value;
      else
        error(
          severityEntry.value.loc,
          `invalid severity '${value}'${suggestion(value, SEVERITIES, (s) => `'${s}'`)}`,
          SEVERITIES,
        );
    }
  }

  // ---- source
  let source = RULE_DEFAULTS.source;
  const sourceEntry = present('source');
  if (sourceEntry) {
    const value = stringOf(sourceEntry, 'source', (v) => TOPIC_RE.test(v) && v.length <= RULE_LIMITS.topicLength);
    if (value !== undefined) {
      if (!TOPIC_RE.test(value))
        error(
          sourceEntry.value.loc,
          `invalid source topic '${value}': only letters, digits, '.', '_' and '-' are allowed`,
          ['[A-Za-z0-9._-]+'],
        );
      else if (checkLength(value, sourceEntry.value.loc, 'source', RULE_LIMITS.topicLength)) source = value;
    }
  }

  // ---- partitionBy, keyedBy
  const partitionEntry = present('partitionBy');
  const partitionBy = partitionEntry ? fieldName(partitionEntry, 'partitionBy') : undefined;
  const keyedEntry = present('keyedBy');
  const keyedBy = keyedEntry ? fieldName(keyedEntry, 'keyedBy') : undefined;

  // ---- pattern
  let pattern: EmbeddedText | undefined;
  const patternEntry = entries.get('pattern');
  if (!patternEntry) {
    error(raw.loc, raw.form === 'cep' ? 'missing pattern' : "missing required key 'pattern'");
  } else {
    pattern = embeddedOf(patternEntry.value, 'pattern', 'a string with the pattern');
    if (pattern) {
      const bytes = utf8Length(pattern.text);
      if (bytes > RULE_LIMITS.patternBytes) {
        error(
          { ...pattern.origin, length: 1 },
          `pattern is too long: ${bytes} bytes, at most ${formatBytes(RULE_LIMITS.patternBytes)}`,
        );
        pattern = undefined;
      }
    }
  }

  // ---- emit
  const emit: Record<string, string> = {};
  const emitOrigins: Record<string, TextOrigin> = {};
  const emitEntry = present('emit');
  if (emitEntry) {
    const node = emitEntry.value;
    if (node.kind !== 'map') {
      error(node.loc, `${name('emit')} must be a mapping of output field to expression, found ${typeName(node)}`);
    } else {
      if (node.entries.length > RULE_LIMITS.emitFields)
        error(
          node.entries[RULE_LIMITS.emitFields].keyLoc,
          `too many emit fields: ${node.entries.length}, at most ${RULE_LIMITS.emitFields}`,
        );
      const seen = new Map<string, Loc>();
      for (const field of node.entries.slice(0, RULE_LIMITS.emitFields)) {
        if (!IDENTIFIER_RE.test(field.key)) {
          error(
            field.keyLoc,
            `invalid emit field name '${field.key}': it must start with a letter or '_' and contain only letters, digits and '_'`,
            ['[A-Za-z_][A-Za-z0-9_]*'],
          );
          continue;
        }
        if (field.key === RESERVED_NAME) {
          error(field.keyLoc, `invalid emit field name '${field.key}': it is reserved, choose another name`);
          continue;
        }
        if (field.key.length > RULE_LIMITS.idLength) {
          error(field.keyLoc, `emit field name is too long: ${field.key.length} characters, at most ${RULE_LIMITS.idLength}`);
          continue;
        }
        const first = seen.get(field.key);
        if (first) {
          error(field.keyLoc, `emit field '${field.key}' is given twice (first at line ${first.line})`);
          continue;
        }
        seen.set(field.key, field.keyLoc);
        const text = embeddedOf(field.value, `emit.${field.key}`, 'an expression');
        if (!text) continue;
        const bytes = utf8Length(text.text);
        if (bytes > RULE_LIMITS.emitExpressionBytes) {
          error(
            { ...text.origin, length: 1 },
            `emit expression '${field.key}' is too long: ${bytes} bytes, at most ${formatBytes(RULE_LIMITS.emitExpressionBytes)}`,
          );
          continue;
        }
        emit[field.key] = text.text;
        emitOrigins[field.key] = { file, ...text.origin };
      }
    }
  }

  // ---- labels
  const labels: Record<string, string> = {};
  const labelsEntry = present('labels');
  if (labelsEntry) {
    const node = labelsEntry.value;
    if (node.kind !== 'map') {
      error(node.loc, `${name('labels')} must be a mapping of label name to string, found ${typeName(node)}`);
    } else {
      if (node.entries.length > RULE_LIMITS.labels)
        error(node.entries[RULE_LIMITS.labels].keyLoc, `too many labels: ${node.entries.length}, at most ${RULE_LIMITS.labels}`);
      const seen = new Map<string, Loc>();
      for (const label of node.entries.slice(0, RULE_LIMITS.labels)) {
        if (!LABEL_KEY_RE.test(label.key) || label.key.length > RULE_LIMITS.labelKeyLength) {
          error(
            label.keyLoc,
            `invalid label name '${label.key}': it must start with a letter or '_' and contain only letters, digits, '_', '.', '/' and '-' (at most ${RULE_LIMITS.labelKeyLength} characters)`,
            ['[A-Za-z_][A-Za-z0-9_./-]*'],
          );
          continue;
        }
        if (label.key === RESERVED_NAME) {
          error(label.keyLoc, `invalid label name '${label.key}': it is reserved, choose another name`);
          continue;
        }
        const first = seen.get(label.key);
        if (first) {
          error(label.keyLoc, `label '${label.key}' is given twice (first at line ${first.line})`);
          continue;
        }
        seen.set(label.key, label.keyLoc);
        const value = stringOf(label, `labels.${label.key}`, fitsIn(RULE_LIMITS.labelValueLength));
        if (value !== undefined && checkLength(value, label.value.loc, `labels.${label.key}`, RULE_LIMITS.labelValueLength))
          labels[label.key] = value;
      }
    }
  }

  // ---- enabled
  let enabled = RULE_DEFAULTS.enabled;
  const enabledEntry = present('enabled');
  if (enabledEntry) {
    const node = enabledEntry.value;
    if (node.kind === 'scalar' && typeof node.value === 'boolean') enabled = node.value;
    else error(node.loc, `${name('enabled')} must be true or false, found ${typeName(node)}`, ['true', 'false']);
  }

  // ---- event
  const event = { ...RULE_DEFAULTS.event };
  const eventEntry = present('event');
  if (eventEntry) {
    const node = eventEntry.value;
    if (node.kind !== 'map') {
      error(node.loc, `${name('event')} must be a mapping with typeField and timeField, found ${typeName(node)}`);
    } else {
      const seen = new Set<string>();
      for (const field of node.entries) {
        if (!(EVENT_KEYS as readonly string[]).includes(field.key)) {
          error(
            field.keyLoc,
            `unknown key '${field.key}' in 'event'${suggestion(field.key, EVENT_KEYS, (s) => `'${s}'`)}`,
            EVENT_KEYS,
          );
          continue;
        }
        if (seen.has(field.key)) {
          error(field.keyLoc, `${name(`event.${field.key}`)} is given twice`);
          continue;
        }
        seen.add(field.key);
        if (field.value.kind === 'scalar' && field.value.value === null) continue;
        const value = fieldName(field, `event.${field.key}`);
        if (value !== undefined) event[field.key as (typeof EVENT_KEYS)[number]] = value;
      }
    }
  }

  if (raw.hasFormErrors || diagnostics.some((d) => d.severity === 'error') || id === undefined || pattern === undefined) {
    return { diagnostics };
  }

  const rule: RuleDefinition = {
    id,
    ...(description !== undefined ? { description } : {}),
    severity,
    source,
    ...(partitionBy !== undefined ? { partitionBy } : {}),
    ...(keyedBy !== undefined ? { keyedBy } : {}),
    pattern: pattern.text,
    emit,
    labels,
    enabled,
    event,
    origin: { file, pattern: { file, ...pattern.origin }, emit: emitOrigins },
  };
  return { result: { rule, idLoc }, diagnostics };
}

/** Reports every id given a second time (at that second place) and keeps the first definition. */
export function rejectDuplicateIds(
  rules: ValidatedRule[],
  file: string | undefined,
  seen: Map<string, { file?: string; loc: Loc }> = new Map(),
): { unique: ValidatedRule[]; diagnostics: Diagnostic[] } {
  const unique: ValidatedRule[] = [];
  const diagnostics: Diagnostic[] = [];
  for (const r of rules) {
    const ruleFile = r.rule.origin?.file ?? file;
    const first = seen.get(r.rule.id);
    if (first) {
      const where = first.file === ruleFile ? `line ${first.loc.line}` : `${first.file}:${first.loc.line}:${first.loc.column}`;
      diagnostics.push({
        severity: 'error',
        message: `duplicate rule id '${r.rule.id}' (first defined at ${where})`,
        line: r.idLoc.line,
        column: r.idLoc.column,
        length: r.idLoc.length,
        file: ruleFile,
      });
      continue;
    }
    seen.set(r.rule.id, { file: ruleFile, loc: r.idLoc });
    unique.push(r);
  }
  return { unique, diagnostics };
}

/** `s` without leading and trailing dashes, in one pass (`/-+$/g` retries at each dash: quadratic on a long run). */
function trimDashes(s: string): string {
  let a = 0;
  let z = s.length;
  while (a < z && s.charCodeAt(a) === 0x2d) a++;
  while (z > a && s.charCodeAt(z - 1) === 0x2d) z--;
  return s.slice(a, z);
}
