/**
 * `cepheus replay`: runs every enabled rule over a JSON-lines file (or stdin) and prints one JSON line per
 * match, in the order the matches happen.
 */
import { isUtf8 } from 'node:buffer';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { Readable, Writable } from 'node:stream';
import { Engine, InvalidEventError } from '../core/engine';
import type { MatchRecord } from '../core/engine/api';
import type { EventRecord } from '../core/expr/types';
import { MAX_EVENT_DEPTH, nestingExceeds } from '../core/stream/classify';
import { BufferedWriter } from './output';
import { formatDiagnostics, prepareRules } from './rules';

export interface ReplayOptions {
  rules: string[];
  /** A file path, or '-' for standard input. */
  events: string;
  start?: number;
  until?: number;
}

export interface Io {
  stdin: Readable;
  stdout: Writable;
  stderr: Writable;
}

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_INVALID = 2;

export async function replay(options: ReplayOptions, io: Io): Promise<number> {
  const prepared = await prepareRules(options.rules);
  io.stderr.write(formatDiagnostics(prepared));
  if (prepared.errorCount > 0) return EXIT_INVALID;

  // Keys holding only what a new key would are freed: a long replay over many keys keeps to the keys with state.
  const engine = new Engine({ reclaimFreshKeys: true, ...(options.start !== undefined ? { startTime: options.start } : {}) });
  for (const rule of prepared.compiled) {
    if (rule.info.definition.enabled) engine.addRule(rule);
  }

  const name = options.events === '-' ? '<stdin>' : options.events;
  let input: Readable;
  if (options.events === '-') {
    input = io.stdin;
  } else {
    try {
      if ((await stat(options.events)).isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
      input = createReadStream(options.events);
    } catch (e) {
      io.stderr.write(`cepheus replay: cannot read events from ${name}: ${(e as Error).message}\n`);
      return EXIT_FAILURE;
    }
  }

  const out = new BufferedWriter(io.stdout);
  const emit = async (matches: MatchRecord[]) => {
    for (const m of matches) out.push(formatMatch(m));
    if (out.full) await out.flush();
  };

  let readError: Error | undefined;
  input.on('error', (e: Error) => {
    readError = e;
  });
  let lineNo = 0;
  let processed = 0;
  const skipped: number[] = [];
  const skip = (reason: string) => {
    skipped.push(lineNo);
    io.stderr.write(`${name}:${lineNo}: skipped malformed line: ${reason}\n`);
  };

  try {
    for await (const bytes of byteLines(input)) {
      lineNo++;
      // As the service does: bytes that are not UTF-8 would decode to U+FFFD, and different bad keys would merge.
      if (!isUtf8(bytes)) {
        skip('not valid UTF-8');
        continue;
      }
      const raw = bytes.toString('utf8');
      const line = lineNo === 1 && raw.charCodeAt(0) === 0xfeff ? raw.slice(1) : raw;
      if (line.trim() === '') continue;
      if (nestingExceeds(line, MAX_EVENT_DEPTH)) {
        skip(`nested more than ${MAX_EVENT_DEPTH} levels deep`);
        continue;
      }
      let event: unknown;
      try {
        event = JSON.parse(line);
      } catch (e) {
        skip(`invalid JSON (${(e as Error).message})`);
        continue;
      }
      if (typeof event !== 'object' || event === null || Array.isArray(event)) {
        skip(`expected a JSON object, found ${event === null ? 'null' : Array.isArray(event) ? 'an array' : typeof event}`);
        continue;
      }
      let matches: MatchRecord[];
      try {
        matches = engine.process(event as EventRecord);
      } catch (e) {
        if (e instanceof InvalidEventError) {
          skip(`${e.message} (no rule can use it)`);
          continue;
        }
        throw e;
      }
      processed++;
      if (matches.length > 0) await emit(matches);
    }
  } catch (e) {
    // A failing input ends the loop with its error; anything else is not the input's fault.
    if (readError === undefined) throw e;
  }
  if (readError) {
    await out.flush();
    io.stderr.write(`cepheus replay: error reading ${name}: ${readError.message}\n`);
    return EXIT_FAILURE;
  }

  if (options.until !== undefined) await emit(engine.advanceTo(options.until));
  await out.flush();

  if (skipped.length > 0) {
    const shown = skipped.slice(0, 20).join(', ') + (skipped.length > 20 ? ', ...' : '');
    io.stderr.write(
      `cepheus replay: ${skipped.length} malformed line${skipped.length === 1 ? '' : 's'} skipped (line${skipped.length === 1 ? '' : 's'} ${shown}); ${processed} event${processed === 1 ? '' : 's'} processed\n`,
    );
  }
  return EXIT_OK;
}

/** One output line: the fields in a fixed order, every emit field present (undefined → null). */
export function formatMatch(m: MatchRecord): string {
  const fields: Record<string, unknown> = {};
  for (const k of Object.keys(m.fields)) fields[k] = m.fields[k] === undefined ? null : m.fields[k];
  return JSON.stringify({ rule: m.rule, key: m.key, time: m.time, events: m.events, fields }) + '\n';
}

/** The input's lines as bytes, without the line break (\n or \r\n); the last line may lack one. */
async function* byteLines(input: Readable): AsyncGenerator<Buffer> {
  let pending: Buffer[] = [];
  const line = (part: Buffer): Buffer => {
    const whole = pending.length === 0 ? part : Buffer.concat([...pending, part]);
    pending = [];
    return whole.length > 0 && whole[whole.length - 1] === 13 ? whole.subarray(0, whole.length - 1) : whole;
  };
  for await (const chunk of input) {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : (chunk as Buffer);
    let start = 0;
    for (let nl = buf.indexOf(10, start); nl >= 0; nl = buf.indexOf(10, start)) {
      yield line(buf.subarray(start, nl));
      start = nl + 1;
    }
    if (start < buf.length) pending.push(buf.subarray(start));
  }
  if (pending.length > 0) yield line(Buffer.alloc(0));
}
