import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { loadRuleFiles } from './rule-files';

describe('loadRuleFiles', () => {
  let dir: string;
  const write = (name: string, text: string | Buffer) => writeFileSync(join(dir, name), text);
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'cepheus-rule-files-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('reads *.yaml, *.yml and *.cep of a directory sorted by name, skipping other files and subdirectories', async () => {
    write('b.yml', 'id: b\npattern: B\n');
    write('a.cep', "@name('a') select * from pattern [A]\n");
    write('c.yaml', 'id: c1\npattern: C\n---\nid: c2\npattern: C\n');
    write('notes.md', 'id: nope');
    write('old.yaml.bak', 'id: [');
    mkdirSync(join(dir, 'sub'));
    writeFileSync(join(dir, 'sub', 'd.yaml'), 'id: [');
    const loaded = await loadRuleFiles(dir);
    expect(loaded.diagnostics).toEqual([]);
    expect(loaded.rules.map((r) => r.id)).toEqual(['a', 'b', 'c1', 'c2']);
    expect(loaded.files).toEqual(['a.cep', 'b.yml', 'c.yaml'].map((f) => join(dir, f)));
  });

  it('skips hidden files of a directory (an editor lock file, a broken symbolic link) and follows a symbolic link to a rule file', async () => {
    write('a.yaml', 'id: a\npattern: A\n');
    symlinkSync('user@host.1234:1700000000', join(dir, '.#a.yaml'));
    write('.draft.cep', "@name('draft'");
    mkdirSync(join(dir, 'shared'));
    writeFileSync(join(dir, 'shared', 'b.yaml'), 'id: b\npattern: B\n');
    symlinkSync(join('shared', 'b.yaml'), join(dir, 'b.yaml'));
    const loaded = await loadRuleFiles(dir);
    expect(loaded.diagnostics).toEqual([]);
    expect(loaded.rules.map((r) => r.id)).toEqual(['a', 'b']);
  });

  it('reads a hidden file that is named explicitly', async () => {
    write('.only.yaml', 'id: only\npattern: A\n');
    expect((await loadRuleFiles(join(dir, '.only.yaml'))).rules.map((r) => r.id)).toEqual(['only']);
  });

  it('reads a single file', async () => {
    write('one.yaml', 'id: one\npattern: A\n');
    const loaded = await loadRuleFiles(join(dir, 'one.yaml'));
    expect(loaded.rules.map((r) => [r.id, r.origin?.file])).toEqual([['one', join(dir, 'one.yaml')]]);
  });

  it('reports an id used again in a later file at the later occurrence and keeps the first rule', async () => {
    write('1.yaml', 'id: same\npattern: A\n');
    write('2.cep', "// again\n@name('same') select * from pattern [B]\n");
    const loaded = await loadRuleFiles(dir);
    expect(loaded.rules.map((r) => r.pattern)).toEqual(['A']);
    expect(loaded.diagnostics).toEqual([
      {
        severity: 'error',
        message: `duplicate rule id 'same' (first defined at ${join(dir, '1.yaml')}:1:5)`,
        line: 2,
        column: 7,
        length: 6,
        file: join(dir, '2.cep'),
      },
    ]);
  });

  it('ignores a UTF-8 byte-order mark so that columns stay those an editor shows', async () => {
    write('bom.yaml', '\ufeffid: r\nseverity: bad\npattern: A\n');
    const loaded = await loadRuleFiles(dir);
    expect(loaded.diagnostics.map((d) => [d.line, d.column])).toEqual([[2, 11]]);
    expect(loaded.sources.get(join(dir, 'bom.yaml'))!.startsWith('id: r')).toBe(true);
  });

  it.each<[string, Buffer, [number, number, string], string | undefined]>([
    ['Latin-1 at its first bad byte, showing the line with U+FFFD there', Buffer.from("id: enc1\npattern: every a=A(city = 'Montr\xe9al')\n", 'latin1'), [2, 33, 'not valid UTF-8'], "pattern: every a=A(city = 'Montr\ufffdal')"],
    ['UTF-16 by its byte-order mark, without a line to show', Buffer.from('\ufeffid: x\npattern: A\n', 'utf16le'), [1, 1, 'UTF-16 (it starts with a UTF-16 byte-order mark), not UTF-8: save the file as UTF-8'], undefined],
  ])('refuses a file that is not UTF-8: %s', async (_name, bytes, [line, column, message], shown) => {
    write('enc.yaml', bytes);
    const loaded = await loadRuleFiles(dir);
    expect(loaded.rules).toEqual([]);
    expect(loaded.diagnostics).toEqual([{ severity: 'error', message, line, column, length: 1, file: join(dir, 'enc.yaml') }]);
    expect(loaded.sources.get(join(dir, 'enc.yaml'))?.split('\n')[line - 1]).toBe(shown);
  });

  it('refuses a file over the size limit by its size, without reading it (a sparse 3 GiB file)', async () => {
    // Reading it would fail otherwise: Node reads at most 2 GiB into one buffer.
    write('huge.yaml', '');
    truncateSync(join(dir, 'huge.yaml'), 3 * 1024 ** 3);
    const loaded = await loadRuleFiles(dir);
    expect(loaded.diagnostics.map((d) => [d.line, d.column, d.message])).toEqual([[1, 1, 'rule file is too large: 3221225472 bytes, at most 16 MiB']]);
  });

  it('refuses a FIFO named like a rule file instead of waiting for a writer', async () => {
    execFileSync('mkfifo', [join(dir, 'pipe.yaml')]);
    const loaded = await loadRuleFiles(join(dir, 'pipe.yaml'));
    expect(loaded.diagnostics.map((d) => d.message)).toEqual(['cannot read rules: not a regular file']);
  });

  it('reports unreadable paths and files of another kind as errors', async () => {
    write('rules.txt', 'x');
    const missing = await loadRuleFiles(join(dir, 'missing'));
    expect(missing.diagnostics.map((d) => [d.severity, d.message])).toEqual([['error', 'cannot read rules: no such file or directory']]);
    const other = await loadRuleFiles(join(dir, 'rules.txt'));
    expect(other.diagnostics.map((d) => [d.severity, d.message])).toEqual([['error', 'not a rule file: expected a name ending in .yaml, .yml or .cep']]);
  });

  it('accepts a directory without rule files (hidden ones do not count) as an empty set, with a warning', async () => {
    write('rules.txt', 'x');
    write('.hidden.yaml', 'id: h\npattern: A\n');
    const empty = await loadRuleFiles(dir);
    expect(empty.rules).toEqual([]);
    expect(empty.diagnostics.map((d) => [d.severity, d.file, d.message])).toEqual([['warning', dir, 'no rule files (*.yaml, *.yml, *.cep) in this directory']]);
  });

  it('reads a file once however it is named: a relative and an absolute path, within its directory, through a symbolic link', async () => {
    write('x.yaml', 'id: x\npattern: A\n');
    symlinkSync('x.yaml', join(dir, 'y.yaml'));
    const loaded = await loadRuleFiles([dir, relative(process.cwd(), join(dir, 'x.yaml')), join(dir, 'y.yaml')]);
    expect(loaded.diagnostics).toEqual([]);
    expect(loaded.files).toEqual([join(dir, 'x.yaml')]);
  });

  it('reads several paths in order and each file once', async () => {
    write('x.yaml', 'id: x\npattern: A\n');
    write('y.yaml', 'id: y\npattern: A\n');
    const loaded = await loadRuleFiles([join(dir, 'y.yaml'), dir]);
    expect(loaded.rules.map((r) => r.id)).toEqual(['y', 'x']);
    expect(loaded.diagnostics).toEqual([]);
  });
});
