/**
 * Decides whether the test files selected for this jest run need the real Kafka/Redis,
 * so that `jest src/core/foo.spec.ts` does not boot a broker. A file needs them when it
 * lies under test/integration/, or when it (or a file it imports by relative path,
 * transitively) mentions test/support/{kafka,redis,env}, scripts/infra, KAFKA_BROKERS
 * or REDIS_URL. When jest picks files by VCS state (-o, --changedSince, --findRelatedTests)
 * or watches, the answer is "yes" to be safe.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

interface GlobalConfigLike {
  testPathPattern?: string;
  onlyChanged?: boolean;
  findRelatedTests?: boolean;
  changedSince?: string;
  lastCommit?: boolean;
  watch?: boolean;
  watchAll?: boolean;
}
interface ProjectConfigLike {
  rootDir: string;
  roots?: string[];
  testPathIgnorePatterns?: string[];
}

const TEST_FILE = /\.(spec|test)\.[cm]?[jt]sx?$/;
const INTEGRATION_DIR = /[\\/]test[\\/]integration[\\/]/;
const NEEDS = /support\/(kafka|redis|env)\b|scripts\/infra\b|KAFKA_BROKERS|REDIS_URL/;
const RELATIVE_IMPORT = /(?:from\s+|require\(\s*|import\(\s*)['"](\.{1,2}\/[^'"]+)['"]/g;
const SKIP_DIRS = new Set(['node_modules', 'dist', 'coverage', '.git', '.cache']);
const EXTENSIONS = ['', '.ts', '.tsx', '.js', '.cjs', '.mjs', '/index.ts', '/index.js'];

function walk(dir: string, out: string[]): void {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) {
      if (!SKIP_DIRS.has(e.name)) walk(full, out);
    } else if (TEST_FILE.test(e.name)) {
      out.push(full);
    }
  }
}

function resolveImport(from: string, spec: string): string | undefined {
  const base = path.resolve(path.dirname(from), spec);
  for (const ext of EXTENSIONS) {
    const candidate = base + ext;
    if (fs.existsSync(candidate) && fs.statSync(candidate).isFile()) return candidate;
  }
  return undefined;
}

function mentionsInfra(file: string, seen: Set<string>): boolean {
  if (seen.has(file)) return false;
  seen.add(file);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return false;
  }
  if (NEEDS.test(text)) return true;
  for (const m of text.matchAll(RELATIVE_IMPORT)) {
    const target = resolveImport(file, m[1]);
    if (target && !target.includes(`${path.sep}node_modules${path.sep}`) && mentionsInfra(target, seen)) return true;
  }
  return false;
}

/** The selected test files that need Kafka/Redis (empty = none); `null` = cannot tell. */
export function testsNeedingInfra(globalConfig: GlobalConfigLike, projectConfig: ProjectConfigLike): string[] | null {
  const g = globalConfig;
  if (g.onlyChanged || g.findRelatedTests || g.changedSince || g.lastCommit || g.watch || g.watchAll) return null;
  let pattern: RegExp | undefined;
  try {
    pattern = g.testPathPattern ? new RegExp(g.testPathPattern, 'i') : undefined;
  } catch {
    return null;
  }
  const ignore = (projectConfig.testPathIgnorePatterns ?? []).map((p) => new RegExp(p.replace('<rootDir>', projectConfig.rootDir)));
  const files: string[] = [];
  for (const root of projectConfig.roots?.length ? projectConfig.roots : [projectConfig.rootDir]) walk(root, files);
  const seen = new Set<string>();
  return files.filter(
    (f) =>
      (!pattern || pattern.test(f)) &&
      !ignore.some((r) => r.test(f)) &&
      (INTEGRATION_DIR.test(f) || mentionsInfra(f, seen)),
  );
}
