/**
 * The `bin/cepheus` command line. A fixed contract: tools outside the project call it.
 *
 *   cepheus replay --rules <file|dir> --events <file.jsonl|-> [--start <ms>] [--until <ms>]
 *   cepheus check <file|dir>...
 *
 * Exit codes: 0 success, warnings or not; 1 the events could not be read, or an internal error; 2 invalid
 * rules or usage. A rules path that cannot be read is a problem of the rule set, reported like the others
 * (file:line:column: message), so it is 2 as well: check is 0 exactly when the rules are valid.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { eventTime } from '../core/engine';
import { check } from './check';
import { EXIT_FAILURE, EXIT_INVALID, EXIT_OK, replay, type Io } from './replay';

export const USAGE = `Usage:
  cepheus replay --rules <file|dir> --events <file.jsonl|-> [--start <ms>] [--until <ms>]
  cepheus check <file|dir>...
  cepheus --help | --version

Commands:
  replay   Run every enabled rule over JSON-lines events (one object per line; type in "type" and time in
           "timestamp", epoch ms or ISO-8601, unless a rule's event shape says otherwise). Prints one JSON
           line per match to stdout, in the order matches happen:
             {"rule":"<id>","key":<string|null>,"time":<epoch ms>,"events":{"<tag>":<event>|[...]|null},"fields":{...}}
           Malformed input lines are reported on stderr with their line number and skipped.
  check    Validate and compile rules; print each problem as file:line:column: message.

Options (replay):
  --rules <path>    A rule file (.yaml, .yml, .cep) or a directory of them; may be repeated
  --events <path>   JSON-lines events file, or - for standard input
  --start <time>    When unpartitioned rules start (epoch ms or ISO-8601); default: the first event's time
  --until <time>    After the last event, advance the clock to this time, firing the timers due
  -h, --help        Show this help

Exit status:
  0  success; warnings (file:line:column: warning: ...) do not change it
  1  the events could not be read (replay), or an internal error
  2  invalid rules (a rule file or directory that cannot be read included), or a usage error
`;

class UsageError extends Error {}

function parseTime(option: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const v = value.trim();
  const t = /^-?\d+(\.\d+)?$/.test(v) ? Number(v) : eventTime(v);
  if (t !== undefined) return t;
  throw new UsageError(`--${option} must be a time in epoch milliseconds or ISO-8601, found '${value}'`);
}

function version(): string {
  try {
    return (JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

export async function main(argv: string[], io: Io = process): Promise<number> {
  const usageError = (message: string) => {
    io.stderr.write(`cepheus: ${message}\n\n${USAGE}`);
    return EXIT_INVALID;
  };
  try {
    const [command, ...rest] = argv;
    if (command === undefined) return usageError('no command given');
    if (command === '-h' || command === '--help' || command === 'help') {
      io.stdout.write(USAGE);
      return EXIT_OK;
    }
    if (command === '--version' || command === '-v') {
      io.stdout.write(`cepheus ${version()}\n`);
      return EXIT_OK;
    }
    if (command === 'replay') {
      const { values, positionals } = parseArgs({
        args: rest,
        options: {
          rules: { type: 'string', multiple: true },
          events: { type: 'string' },
          start: { type: 'string' },
          until: { type: 'string' },
          help: { type: 'boolean', short: 'h' },
        },
        allowPositionals: true,
        strict: true,
      });
      if (values.help) {
        io.stdout.write(USAGE);
        return EXIT_OK;
      }
      if (positionals.length > 0) throw new UsageError(`unexpected argument '${positionals[0]}'`);
      if (!values.rules || values.rules.length === 0) throw new UsageError('replay needs --rules <file|dir>');
      if (values.events === undefined) throw new UsageError('replay needs --events <file.jsonl|->');
      return await replay(
        {
          rules: values.rules,
          events: values.events,
          start: parseTime('start', values.start),
          until: parseTime('until', values.until),
        },
        io,
      );
    }
    if (command === 'check') {
      const { values, positionals } = parseArgs({
        args: rest,
        options: { help: { type: 'boolean', short: 'h' } },
        allowPositionals: true,
        strict: true,
      });
      if (values.help) {
        io.stdout.write(USAGE);
        return EXIT_OK;
      }
      if (positionals.length === 0) throw new UsageError('check needs a rule file or directory');
      return await check(positionals, io);
    }
    return usageError(`unknown command '${command}'`);
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (e instanceof UsageError || (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS'))) {
      return usageError((e as Error).message.split('\n')[0]);
    }
    io.stderr.write(`cepheus: internal error: ${(e as Error)?.stack ?? String(e)}\n`);
    return EXIT_FAILURE;
  }
}

/** Runs the CLI in this process and sets the exit code (stdout is flushed by Node before it exits). */
export function run(argv: string[] = process.argv.slice(2)): void {
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    // The reader went away (`cepheus replay ... | head`): stop quietly.
    if (e.code === 'EPIPE') process.exit(EXIT_OK);
  });
  main(argv).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      process.stderr.write(`cepheus: internal error: ${(e as Error)?.stack ?? String(e)}\n`);
      process.exitCode = EXIT_FAILURE;
    },
  );
}

if (require.main === module) run();
