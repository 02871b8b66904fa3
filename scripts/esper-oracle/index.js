'use strict';
/**
 * Esper itself as a test oracle: fetches Esper's jars from Maven Central (pom.xml, once, into
 * .cache/esper/libs), compiles EsperOracle.java (once per source change, into .cache/esper/classes), and
 * runs cases through one JVM. Plain CommonJS, like scripts/infra, so `.ci/run` can fetch ahead of the tests.
 *
 *   const { runEsper } = require('./scripts/esper-oracle');
 *   const results = runEsper([{ pattern: 'every a=A -> b=B', events: [...], until: 60000 }]);
 *   // [{ matches: [{ at: 'B1', tags: { a: 'A1', b: 'B1' } }] } | { error: '...' }]
 *
 *   node scripts/esper-oracle/index.js fetch      # jars and classes only
 */
const { spawnSync } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const { fillDirOnce } = require('../infra/fill-dir-once');

const ROOT = path.resolve(__dirname, '..', '..');
const ESPER_DIR = path.join(ROOT, '.cache', 'esper');
const LIBS = path.join(ESPER_DIR, 'libs');
const CLASSES = path.join(ESPER_DIR, 'classes');
const POM = path.join(__dirname, 'pom.xml');
const SOURCE = path.join(__dirname, 'EsperOracle.java');

function run(bin, args, what) {
  // Bounded: a network that hangs must fail the test run, not block it (callers are synchronous).
  const r = spawnSync(bin, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 10 * 60_000 });
  if (r.error) throw new Error(`${what}: ${r.error.message} (is ${bin} installed?)`);
  if (r.status !== 0) throw new Error(`${what} failed (${r.signal ? `signal ${r.signal}` : `exit ${r.status}`})\n${r.stdout}${r.stderr}`);
}

/** Makes sure the jars and the compiled oracle are there; returns the classpath. */
function ensureEsperOracle() {
  const pomHash = crypto.createHash('sha256').update(fs.readFileSync(POM)).digest('hex').slice(0, 16);
  fillDirOnce(LIBS, `.complete-${pomHash}`, (tmp) =>
    run('mvn', ['-B', '-q', '-f', POM, 'dependency:copy-dependencies', `-Desper.libs.dir=${tmp}`], 'fetching Esper jars with mvn'),
  );
  const srcHash = crypto.createHash('sha256').update(fs.readFileSync(SOURCE)).update(pomHash).digest('hex').slice(0, 16);
  fillDirOnce(CLASSES, `.complete-${srcHash}`, (tmp) =>
    run('javac', ['-nowarn', '-cp', path.join(LIBS, '*'), '-d', tmp, SOURCE], 'compiling EsperOracle.java'),
  );
  return `${path.join(LIBS, '*')}${path.delimiter}${CLASSES}`;
}

/** Runs the cases on Esper, one JVM for all of them; one result per case, in order. */
function runEsper(cases, { timeoutMs = 300_000 } = {}) {
  const classpath = ensureEsperOracle();
  const r = spawnSync('java', ['-Xss8m', '-cp', classpath, 'EsperOracle'], {
    input: cases.map((c) => JSON.stringify(c)).join('\n') + '\n',
    encoding: 'utf8',
    maxBuffer: 1 << 30,
    timeout: timeoutMs,
  });
  if (r.error) throw new Error(`running EsperOracle: ${r.error.message}\n${r.stderr ?? ''}`);
  if (r.status !== 0) throw new Error(`EsperOracle ${r.signal ? `was killed by ${r.signal}` : `exited with ${r.status}`}\n${r.stderr}`);
  const lines = r.stdout.trim().split('\n').filter((l) => l !== '');
  if (lines.length !== cases.length) throw new Error(`EsperOracle answered ${lines.length} of ${cases.length} cases\n${r.stderr}`);
  return lines.map((l) => JSON.parse(l));
}

module.exports = { ensureEsperOracle, runEsper };

if (require.main === module) {
  if (process.argv[2] !== 'fetch') {
    process.stderr.write('usage: node scripts/esper-oracle/index.js fetch\n');
    process.exit(2);
  }
  const t0 = Date.now();
  ensureEsperOracle();
  process.stdout.write(`Esper oracle ready in ${path.relative(ROOT, ESPER_DIR)} (${Date.now() - t0} ms)\n`);
}
