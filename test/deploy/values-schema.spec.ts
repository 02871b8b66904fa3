/**
 * helm/cepheus/values.schema.json (draft-07) against values.yaml, every ci values file and
 * deliberately bad values files (test/deploy/fixtures/invalid-values), with Ajv; plus the
 * chart's own bookkeeping: every value in values.yaml is commented, and every .Values path
 * a template reads exists in values.yaml.
 */
import Ajv, { ErrorObject, ValidateFunction } from 'ajv';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as YAML from 'yaml';
import { CHART_DIR, Values, ciValuesFiles, coalesceValues, isMap, readYaml } from './support/repo';

const SCHEMA_FILE = path.join(CHART_DIR, 'values.schema.json');
const INVALID_DIR = path.join(__dirname, 'fixtures', 'invalid-values');

function compileSchema(): ValidateFunction {
  const schema = JSON.parse(fs.readFileSync(SCHEMA_FILE, 'utf8')) as Record<string, unknown>;
  // strict: unknown keywords and misplaced constraints in the schema itself are errors.
  const ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true });
  return ajv.compile(schema);
}

function errorsOf(validate: ValidateFunction, values: unknown): ErrorObject[] {
  return validate(values) ? [] : [...(validate.errors ?? [])];
}

const describeErrors = (errors: ErrorObject[]) => errors.map((e) => `${e.instancePath || '/'} ${e.keyword}: ${e.message}`);

describe('values.schema.json', () => {
  let validate: ValidateFunction;
  const defaults = readYaml(path.join(CHART_DIR, 'values.yaml')) as Values;

  beforeAll(() => {
    validate = compileSchema();
  });

  it('is a draft-07 schema that compiles in strict mode', () => {
    const schema = JSON.parse(fs.readFileSync(SCHEMA_FILE, 'utf8')) as { $schema: string; additionalProperties: unknown };
    expect(schema.$schema).toBe('http://json-schema.org/draft-07/schema#');
    expect(schema.additionalProperties).toBe(false);
  });

  it('accepts values.yaml', () => {
    expect(describeErrors(errorsOf(validate, defaults))).toEqual([]);
  });

  it('accepts inline rule files named *.yaml, *.yml and *.cep, as RULES_DIR loads them', () => {
    const inline = { 'a.yaml': 'id: a\n', 'b.yml': 'id: b\n', 'c.cep': "@name('c')\n" };
    expect(describeErrors(errorsOf(validate, coalesceValues(defaults, { rules: { inline } } as Values)))).toEqual([]);
  });

  it.each(ciValuesFiles().map((f) => [path.basename(f), f]))('accepts ci/%s, alone and merged over values.yaml as helm validates it', (_name, file) => {
    const user = readYaml(file) as Values;
    // Alone: a null only deletes a default, so it is dropped here as helm drops it.
    expect(describeErrors(errorsOf(validate, coalesceValues({}, user)))).toEqual([]);
    expect(describeErrors(errorsOf(validate, coalesceValues(defaults, user)))).toEqual([]);
  });

  const invalid = fs.readdirSync(INVALID_DIR).filter((f) => f.endsWith('.yaml')).sort();

  it('has deliberately bad values files to reject', () => {
    expect(invalid.length).toBeGreaterThanOrEqual(5);
  });

  it.each(invalid)('rejects fixtures/invalid-values/%s for the stated reason', (name) => {
    const text = fs.readFileSync(path.join(INVALID_DIR, name), 'utf8');
    const header = /^# expect-error: (\S+) (\S+)$/m.exec(text);
    if (!header) throw new Error(`${name} lacks a '# expect-error: <instancePath> <keyword>' line`);
    const [, wantPath, wantKeyword] = header;
    const user = YAML.parse(text) as Values;
    // Rejected both as a file and as helm sees it (merged over the defaults) ...
    expect(errorsOf(validate, user).length).toBeGreaterThan(0);
    const errors = errorsOf(validate, coalesceValues(defaults, user));
    const at = (e: ErrorObject) => e.instancePath || '/';
    // ... for the stated reason, and for no other.
    expect(errors.some((e) => at(e) === wantPath && e.keyword === wantKeyword)).toBe(true);
    expect(describeErrors(errors.filter((e) => !at(e).startsWith(wantPath)))).toEqual([]);
  });
});

describe('values.yaml bookkeeping', () => {
  const schema = JSON.parse(fs.readFileSync(SCHEMA_FILE, 'utf8')) as SchemaNode;
  type SchemaNode = { properties?: Record<string, SchemaNode>; additionalProperties?: unknown; $ref?: string };

  it('every value is commented (an uncommented group of chart keys needs comments on each member)', () => {
    const doc = YAML.parseDocument(fs.readFileSync(path.join(CHART_DIR, 'values.yaml'), 'utf8'));
    const uncommented: string[] = [];
    const walk = (map: YAML.YAMLMap, at: string, node: SchemaNode | undefined) => {
      map.items.forEach((pair, i) => {
        const key = String((pair.key as YAML.Scalar).value);
        const comment = (pair.key as YAML.Scalar).commentBefore ?? (i === 0 ? map.commentBefore : undefined);
        const child = node?.properties?.[key];
        const isGroup = YAML.isMap(pair.value) && child?.additionalProperties === false && child.properties;
        if (comment?.trim()) return;
        if (isGroup) walk(pair.value as YAML.YAMLMap, `${at}${key}.`, child);
        else uncommented.push(`${at}${key}`);
      });
    };
    walk(doc.contents as YAML.YAMLMap, '', schema);
    expect(uncommented).toEqual([]);
  });

  it('every .Values path read by a template exists in values.yaml', () => {
    const values = readYaml(path.join(CHART_DIR, 'values.yaml')) as Values;
    const dir = path.join(CHART_DIR, 'templates');
    const missing: string[] = [];
    let seen = 0;
    for (const file of fs.readdirSync(dir)) {
      const text = fs.readFileSync(path.join(dir, file), 'utf8');
      for (const m of text.matchAll(/\.Values((?:\.[A-Za-z_][A-Za-z0-9_]*)+)/g)) {
        seen++;
        let node: unknown = values;
        for (const key of m[1].slice(1).split('.')) {
          if (!isMap(node) || !(key in node)) {
            missing.push(`${file}: .Values${m[1]}`);
            break;
          }
          node = node[key];
        }
      }
    }
    expect(seen).toBeGreaterThan(50);
    expect(missing).toEqual([]);
  });

  it('explains that useful replicas are bounded by the source partitions', () => {
    const text = fs.readFileSync(path.join(CHART_DIR, 'values.yaml'), 'utf8');
    expect(text).toMatch(/ONE Kafka consumer group/);
    expect(text).toMatch(/bounded by the partition count/);
  });
});
