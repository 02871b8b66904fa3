'use strict';
/**
 * java.util.regex (the JDK's, as Esper uses it) as a test oracle for the `regexp` operator. Runs
 * RegexOracle.java with the JDK's single-file source launcher: no build step and nothing to fetch.
 *
 *   const { runJavaRegex } = require('./scripts/java-regex-oracle');
 *   runJavaRegex([{ pattern: 'a+b', inputs: ['aab', 'b'] }]);
 *   // [{ matches: [true, false] } | { error: 'Dangling meta character ...' }]
 */
const { spawnSync } = require('node:child_process');
const path = require('node:path');

const SOURCE = path.join(__dirname, 'RegexOracle.java');

function encode(text) {
  let field = '.';
  for (let i = 0; i < text.length; i++) field += text.charCodeAt(i).toString(16).padStart(4, '0');
  return field;
}

/** One JVM for all cases; one result per case, in order. `matches[i]` is null where Java could not decide (see RegexOracle.java). */
function runJavaRegex(cases, { timeoutMs = 120_000 } = {}) {
  const r = spawnSync('java', ['-Xss16m', SOURCE], {
    input: cases.map((c) => [c.pattern, ...c.inputs].map(encode).join('\t')).join('\n') + '\n',
    encoding: 'utf8',
    maxBuffer: 1 << 28,
    timeout: timeoutMs,
  });
  if (r.error) throw new Error(`running RegexOracle.java: ${r.error.message} (is a JDK 11+ installed?)\n${r.stderr ?? ''}`);
  if (r.status !== 0) throw new Error(`RegexOracle.java ${r.signal ? `was killed by ${r.signal}` : `exited with ${r.status}`}\n${r.stderr}`);
  const lines = r.stdout.split('\n').filter((l) => l !== '');
  if (lines.length !== cases.length) throw new Error(`RegexOracle.java answered ${lines.length} of ${cases.length} cases\n${r.stderr}`);
  return lines.map((line) => {
    const [kind, rest] = line.split('\t');
    if (kind === 'E') return { error: rest };
    return { matches: [...rest].map((a) => (a === '?' ? null : a === '1')) };
  });
}

module.exports = { runJavaRegex };
