// Validates rendered Kubernetes objects (JSON array on stdin) against the schemas of npm
// kubernetes-models and @kubernetes-models/prometheus-operator, in two ways:
//   1. the packages' own validators (types, enums, required fields, formats, patterns);
//   2. a TypeScript type check of each object as an object literal of the package's
//      interface, whose excess-property check rejects unknown fields (a misspelt
//      `readinesProbe`), as the API server's strict field validation and helm do.
// Prints [{index, apiVersion, kind, name, errors: string[]}] as JSON. ESM (both packages
// are ESM-only), so jest runs it as a child process: `node k8s-validate.mjs < objects.json`.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const HERE = path.dirname(fileURLToPath(import.meta.url));

/** Module of an object's model, or null when neither package has the kind. */
export function modulePath(apiVersion, kind) {
  if (!/^[A-Za-z][A-Za-z0-9]*$/.test(String(kind))) return null;
  if (apiVersion === 'monitoring.coreos.com/v1') {
    return `@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/${kind}`;
  }
  if (!/^([a-z0-9.-]+\/)?v[0-9]+((alpha|beta)[0-9]+)?$/.test(String(apiVersion))) return null;
  return `kubernetes-models/${apiVersion}/${kind}`;
}

async function modelErrors(obj) {
  const spec = modulePath(obj.apiVersion, obj.kind);
  let Model;
  try {
    Model = spec && (await import(spec))[obj.kind];
  } catch {
    Model = undefined;
  }
  if (!Model) return [`no schema for apiVersion ${obj.apiVersion} kind ${obj.kind}`];
  try {
    new Model(obj).validate();
    return [];
  } catch (e) {
    if (Array.isArray(e.errors)) {
      return e.errors.map((x) => `${x.instancePath || '/'} ${x.message}${x.params ? ` ${JSON.stringify(x.params)}` : ''}`);
    }
    return [String(e.message || e)];
  }
}

/** JSON path of the innermost property or element of a literal at a position. */
function pathAt(sourceFile, pos) {
  let node = sourceFile;
  const chain = [];
  const visit = (n) => {
    if (pos >= n.getStart(sourceFile) && pos < n.getEnd()) {
      chain.push(n);
      ts.forEachChild(n, visit);
      return true;
    }
    return false;
  };
  ts.forEachChild(node, visit);
  const parts = [];
  for (let i = 0; i < chain.length; i++) {
    const n = chain[i];
    if (ts.isPropertyAssignment(n)) parts.push(n.name.text ?? n.name.getText(sourceFile));
    if (ts.isArrayLiteralExpression(n) && chain[i + 1]) parts.push(String(n.elements.indexOf(chain[i + 1])));
  }
  return `/${parts.join('/')}`;
}

function strictErrors(objects) {
  const lines = [];
  const declLine = new Map();
  objects.forEach((obj, i) => {
    const spec = modulePath(obj.apiVersion, obj.kind);
    if (!spec) return;
    lines.push(`import type { I${obj.kind} as T${i} } from '${spec}';`);
  });
  objects.forEach((obj, i) => {
    if (!modulePath(obj.apiVersion, obj.kind)) return;
    declLine.set(lines.length, i);
    lines.push(`export const o${i}: T${i} = ${JSON.stringify(obj)};`);
  });
  const file = path.join(HERE, '__rendered_objects__.ts');
  const text = lines.join('\n');
  const options = {
    strict: true,
    noEmit: true,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    target: ts.ScriptTarget.ES2022,
    lib: ['lib.es5.d.ts'],
    types: [],
    skipLibCheck: true,
  };
  const host = ts.createCompilerHost(options);
  const getSourceFile = host.getSourceFile.bind(host);
  const fileExists = host.fileExists.bind(host);
  host.getSourceFile = (f, lang, ...rest) => (f === file ? ts.createSourceFile(f, text, lang, true) : getSourceFile(f, lang, ...rest));
  host.fileExists = (f) => f === file || fileExists(f);
  const program = ts.createProgram([file], options, host);
  const byObject = new Map();
  for (const d of ts.getPreEmitDiagnostics(program)) {
    const message = ts.flattenDiagnosticMessageText(d.messageText, ' ');
    if (!d.file || d.file.fileName !== file) {
      byObject.set(-1, [...(byObject.get(-1) ?? []), message]);
      continue;
    }
    const { line } = d.file.getLineAndCharacterOfPosition(d.start);
    const index = declLine.has(line) ? declLine.get(line) : -1;
    const where = index >= 0 ? `${pathAt(d.file, d.start)} ` : `line ${line + 1}: `;
    byObject.set(index, [...(byObject.get(index) ?? []), `${where}${message}`]);
  }
  return byObject;
}

const objects = JSON.parse(readFileSync(0, 'utf8'));
const strict = strictErrors(objects);
const out = [];
for (const [index, obj] of objects.entries()) {
  const errors = [...(await modelErrors(obj)), ...(strict.get(index) ?? [])];
  out.push({ index, apiVersion: obj.apiVersion, kind: obj.kind, name: obj.metadata?.name, errors });
}
if (strict.has(-1)) out.push({ index: -1, errors: strict.get(-1) });
process.stdout.write(JSON.stringify(out));
