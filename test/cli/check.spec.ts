import { cepheus, cepheusIn, ensureBuilt, lines, ROOT, scratch } from './helpers';
import { symlinkSync } from 'node:fs';
import { join } from 'node:path';

beforeAll(() => ensureBuilt(), 600_000);

describe('cepheus check', () => {
  it('accepts the shipped rules: exit 0 and a summary on stdout', () => {
    const r = cepheus(['check', join(ROOT, 'rules')]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^ok: \d+ valid rules in \d+ files, 0 errors, 0 warnings\n$/);
  });

  it('prints every problem of every file as file:line:column with the line and a caret, and exits 2', () => {
    const s = scratch({
      'rules/a.yaml': ['id: a', 'patern: every x=X', '---', 'id: b', 'severity: high', 'pattern: every x=X', ''].join('\n'),
      'rules/b.cep': ["@name('c') @colour('red')", 'select * from pattern [every x=X]', ''].join('\n'),
      'rules/notes.txt': 'not a rule file',
    });
    try {
      const r = cepheus(['check', s.path('rules')]);
      expect(r.code).toBe(2);
      const a = s.path('rules/a.yaml');
      const b = s.path('rules/b.cep');
      expect(r.stderr).toBe(
        [
          `${a}:1:1: missing required key 'pattern'`,
          '  id: a',
          '  ^',
          `${a}:2:1: unknown key 'patern'; did you mean 'pattern'?`,
          '  patern: every x=X',
          '  ^^^^^^',
          '  expected one of: id, description, severity, source, partitionBy, keyedBy, pattern, emit, labels, enabled, event',
          `${a}:5:11: invalid severity 'high'`,
          '  severity: high',
          '            ^^^^',
          '  expected one of: info, warning, critical',
          `${b}:1:12: unknown annotation @colour`,
          "  @name('c') @colour('red')",
          '             ^^^^^^^',
          '  expected one of: @name, @description, @severity, @source, @keyedBy, @label, @enabled, @typeField, @timeField',
          '',
        ].join('\n'),
      );
      expect(r.stdout).toBe('invalid: 0 valid rules in 2 files, 4 errors, 0 warnings\n');
    } finally {
      s.cleanup();
    }
  });

  it('reports an id used again in a later file at the later occurrence', () => {
    const s = scratch({
      'one.yaml': ['id: same', 'pattern: every x=X where timer:within(1 sec)', ''].join('\n'),
      'two.cep': "@name('same') select * from pattern [every y=Y where timer:within(1 sec)]\n",
    });
    try {
      const r = cepheus(['check', s.dir]);
      expect(r.code).toBe(2);
      expect(lines(r.stderr)[0]).toBe(`${s.path('two.cep')}:1:7: duplicate rule id 'same' (first defined at ${s.path('one.yaml')}:1:5)`);
    } finally {
      s.cleanup();
    }
  });

  it('prints warnings as file:line:column: warning: without failing', () => {
    const s = scratch({ 'open.yaml': ['id: open-ended', 'pattern: every a=A -> b=B', ''].join('\n') });
    try {
      const r = cepheus(['check', s.path('open.yaml')]);
      expect(r.code).toBe(0);
      expect(lines(r.stderr)[0]).toMatch(new RegExp(`^${s.path('open.yaml').replace(/[.]/g, '\\.')}:2:\\d+: warning: nothing bounds this rule in time`));
      expect(r.stdout).toBe('ok: 1 valid rule in 1 file, 0 errors, 1 warning\n');
    } finally {
      s.cleanup();
    }
  });

  it('reports pattern compile errors in file coordinates', () => {
    const s = scratch({
      'tags.cep': ["@name('t')", 'select b.x as x', 'from pattern [every a=A(x > b.x) -> b=B where timer:within(1 min)]', ''].join('\n'),
    });
    try {
      const r = cepheus(['check', s.path('tags.cep')]);
      expect(r.code).toBe(2);
      expect(r.stderr).toBe(
        [
          `${s.path('tags.cep')}:3:29: tag 'b' is not bound at this point: it is bound later in the pattern`,
          '  from pattern [every a=A(x > b.x) -> b=B where timer:within(1 min)]',
          '                              ^^^',
          '',
        ].join('\n'),
      );
    } finally {
      s.cleanup();
    }
  });

  it('ignores subdirectories and files that are not rule files', () => {
    const s = scratch({
      'ok.yml': ['id: ok', 'pattern: every a=A where timer:within(1 sec)', ''].join('\n'),
      'README.md': '# rules',
      'drafts/broken.yaml': 'id: [',
    });
    try {
      const r = cepheus(['check', s.dir]);
      expect(r.code).toBe(0);
      expect(r.stdout).toBe('ok: 1 valid rule in 1 file, 0 errors, 0 warnings\n');
    } finally {
      s.cleanup();
    }
  });

  it.each([
    ['Latin-1, at its first bad byte with the line and a caret', Buffer.from("id: enc1\npattern: every a=A(city = 'Montr\xe9al') -> b=B where timer:within(1 min)\n", 'latin1'), [
      'enc1.yaml:2:33: not valid UTF-8',
      "  pattern: every a=A(city = 'Montr\ufffdal') -> b=B where timer:within(1 min)",
      '                                  ^',
    ]],
    ['UTF-16, by its byte-order mark', Buffer.from('\ufeffid: enc1\npattern: every a=A -> b=B where timer:within(1 min)\n', 'utf16le'), [
      'enc1.yaml:1:1: UTF-16 (it starts with a UTF-16 byte-order mark), not UTF-8: save the file as UTF-8',
    ]],
  ])('refuses a rule file that is not UTF-8 (%s) and exits 2', (_name, bytes, expected) => {
    const r = cepheusIn({ 'enc1.yaml': bytes }, ['check', 'enc1.yaml']);
    expect(r.stderr).toBe(expected.map((l) => `${l}\n`).join(''));
    expect(r.code).toBe(2);
  });

  const STOREFRONT = { 'rules/storefront.yaml': ['id: ok', 'pattern: every a=A where timer:within(1 sec)', ''].join('\n') };

  it('skips hidden files of a directory, such as an editor lock file (a broken symbolic link)', () => {
    const r = cepheusIn(STOREFRONT, ['check', 'rules'], (s) => symlinkSync('user@host.1234:1700000000', s.path('rules/.#storefront.yaml')));
    expect([r.stderr, r.stdout, r.code]).toEqual(['', 'ok: 1 valid rule in 1 file, 0 errors, 0 warnings\n', 0]);
  });

  it('checks a file named twice (a directory and ./ a file in it) once', () => {
    const r = cepheusIn(STOREFRONT, ['check', 'rules', './rules/storefront.yaml']);
    expect([r.stderr, r.stdout, r.code]).toEqual(['', 'ok: 1 valid rule in 1 file, 0 errors, 0 warnings\n', 0]);
  });

  it('reads a .cep file with lone-CR line breaks (old Mac files) line by line: a // comment ends at its line', () => {
    const r = cepheusIn({ 'lonecr.cep': "// a comment\r@name('lonecr')\rselect *\rfrom pattern [every a=A -> b=B(x >> 1)]\r" }, ['check', 'lonecr.cep']);
    expect(lines(r.stderr).slice(0, 3)).toEqual([
      "lonecr.cep:4:35: unexpected '>'",
      '  from pattern [every a=A -> b=B(x >> 1)]',
      '                                    ^',
    ]);
    expect(r.code).toBe(2);
  });

  it('warns about each file that defines no rule, exit 0', () => {
    const r = cepheusIn({ 'empty.yaml': '', 'empty.cep': '', 'docs.yaml': '# nothing\n---\n---\n' }, ['check', 'empty.yaml', 'empty.cep', 'docs.yaml']);
    expect(lines(r.stderr)).toEqual([
      'empty.yaml:1:1: warning: this file defines no rule',
      'empty.cep:1:1: warning: this file defines no rule',
      'docs.yaml:1:1: warning: this file defines no rule',
      '  # nothing',
      '  ^',
    ]);
    expect(r.stdout).toBe('ok: 0 valid rules in 3 files, 0 errors, 3 warnings\n');
    expect(r.code).toBe(0);
  });

  it('shows at most 160 characters of a long line, around the column, with the caret under it', () => {
    const pattern = 'every a=A(' + Array.from({ length: 2000 }, (_, i) => `x${i} = ${i}`).join(' and ') + ')';
    const r = cepheusIn({ 'long.yaml': `id: long\npattern: ${pattern}\n` }, ['check', 'long.yaml']);
    expect(lines(r.stderr)).toEqual([
      `long.yaml:2:10: pattern is too long: ${pattern.length} bytes, at most 16 KiB`,
      `  pattern: ${pattern.slice(0, 151)}…`,
      '           ^',
    ]);
    expect(r.code).toBe(2);
  });

  it('points a quote never closed at its opening, with the line and a caret', () => {
    const r = cepheusIn({ 'y7.yaml': 'id: y7\npattern: "every a=A -> b=B\n' }, ['check', 'y7.yaml']);
    expect(lines(r.stderr)).toEqual(['y7.yaml:2:10: YAML syntax error: Missing closing "quote', '  pattern: "every a=A -> b=B', '           ^']);
    expect(r.code).toBe(2);
  });

  it('exits 2 for a path that does not exist', () => {
    const s = scratch();
    try {
      const missing = cepheus(['check', s.path('nope')]);
      expect(missing.code).toBe(2);
      expect(missing.stderr).toBe(`${s.path('nope')}:1:1: cannot read rules: no such file or directory\n`);
    } finally {
      s.cleanup();
    }
  });

  it('accepts a directory without rule files with a warning and exit 0, as the service does (the chart\'s default empty ConfigMap)', () => {
    const r = cepheusIn({ 'rules/README.md': 'nothing' }, ['check', 'rules']);
    expect(r.stderr).toBe('rules:1:1: warning: no rule files (*.yaml, *.yml, *.cep) in this directory\n');
    expect(r.stdout).toBe('ok: 0 valid rules in 0 files, 0 errors, 1 warning\n');
    expect(r.code).toBe(0);
  });

  it('exits 2 with usage on an unknown option or no path', () => {
    const r = cepheus(['check', '--strict', 'rules']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('Usage:');
    expect(cepheus(['check']).code).toBe(2);
  });
});
