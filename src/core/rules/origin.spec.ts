/**
 * Compile errors in a pattern or an emit expression are reported at the offending text's place in the rule
 * file, whichever way the text is written (the rule's origin + the compiler's relocation).
 */
import { compileRule } from '../engine';
import { RuleError, type Diagnostic } from '../language/diagnostics';
import { LINE_BREAK } from '../text/lines';
import { parseRuleText, type RuleFormat } from './rule-text';

/** The 1-based line and column of the first occurrence of `marker`'s last character in `text`. */
function positionOf(text: string, marker: string): { line: number; column: number } {
  const at = text.indexOf(marker) + marker.length - 1;
  const before = text.slice(0, at).split(LINE_BREAK);
  return { line: before.length, column: before[before.length - 1].length + 1 };
}

function compileErrors(text: string, format: RuleFormat): Diagnostic[] {
  const file = `rules/r.${format}`;
  const { rules, diagnostics } = parseRuleText(text, file, format);
  if (diagnostics.length > 0) return diagnostics;
  try {
    compileRule(rules[0]);
  } catch (e) {
    if (e instanceof RuleError) return e.diagnostics;
    throw e;
  }
  return [];
}

const cases: Array<[string, RuleFormat, string, string]> = [
  ['a YAML literal block scalar', 'yaml', 'id: r\npattern: |\n  every a=A\n    -> b=B(x > )\n', '> )'],
  ['a YAML folded block scalar', 'yaml', 'id: r\npattern: >-\n    every a=A\n      -> b=B(x > )\n', '> )'],
  ['a YAML plain scalar over two lines', 'yaml', 'id: r\npattern: every a=A\n   -> b=B(x > )\n', '> )'],
  ['a YAML quoted scalar', 'yaml', 'id: r\npattern: "every a=A -> b=B(x > )"\n', '> )'],
  // Escapes and folded lines: the value differs from the file text, positions follow the file text.
  ['a YAML double-quoted scalar with an escaped newline', 'yaml', 'id: r\npattern: "every a=A\\n -> b=B(x > )"\nemit: {}\n', '> )'],
  ['a YAML double-quoted scalar with \\t and \\u escapes', 'yaml', 'id: r\npattern: "every\\ta=A\\u0020-> b=B(x > )"\n', '> )'],
  ['a YAML double-quoted scalar folded over lines', 'yaml', 'id: r\npattern: "every a=A\n     -> b=B(y = 1)\n\n     -> c=C(x > )"\n', '> )'],
  ['a YAML single-quoted scalar with a doubled quote', 'yaml', "id: r\npattern: 'every a=A(s = ''it''''s'') -> b=B(x > )'\n", '> )'],
  ['a JSON body (the usual REST form) with escaped newlines', 'yaml', '{"id": "r",\n "pattern": "every a=A\\n  -> b=B\\n  -> c=C(x > )"}\n', '> )'],
  ['a JSON emit expression with an escaped quote', 'yaml', '{"id": "r", "pattern": "a=A",\n "emit": {"v": "a.s = \\"x\\" + * 2"}}\n', '+ *'],
  ['a YAML emit expression', 'yaml', 'id: r\npattern: a=A\nemit:\n  v: a.x + * 2\n', '+ *'],
  ['a YAML emit expression in a block scalar', 'yaml', 'id: r\npattern: a=A\nemit:\n  v: |\n    a.x +\n      * 2\n', '  *'],
  ['a .cep pattern over several lines', 'cep', "@name('r')\nselect *\nfrom pattern [\n  every a=A\n    -> b=B(x > )\n]\n", '> )'],
  ['a .cep pattern with a tag used before it is bound', 'cep', "@name('r')\nselect * from pattern [every a=A(x > b.x) -> b=B]\n", '> b'],
  ['a .cep select item', 'cep', "@name('r')\nselect a.x + zz.y as v\nfrom pattern [a=A]\n", '+ z'],
  // Line breaks other than \n: \r\n, and a lone \r (old Mac files), which also ends a // comment.
  ['a .cep file with lone-CR line breaks after a // comment', 'cep', "// a comment\r@name('r')\rselect *\rfrom pattern [every a=A -> b=B(x >> 1)]\r", '>>'],
  ['a .cep pattern over lone-CR lines', 'cep', "@name('r')\rselect *\rfrom pattern [\r  every a=A\r    -> b=B(x > )\r]\r", '> )'],
  ['a .cep pattern over CRLF lines', 'cep', "@name('r')\r\nselect *\r\nfrom pattern [\r\n  every a=A\r\n    -> b=B(x > )\r\n]\r\n", '> )'],
  ['a YAML plain scalar over lone-CR lines', 'yaml', '# a comment\rid: r\rpattern: every a=A\r   -> b=B(x > )\r', '> )'],
  ['a YAML double-quoted scalar folded over lone-CR lines', 'yaml', 'id: r\rpattern: "every a=A\r     -> b=B(y = 1)\r\r     -> c=C(x > )"\r', '> )'],
];

describe('compile errors in file coordinates', () => {
  it.each(cases)('points into %s at the offending text', (_what, format, text, marker) => {
    const [d] = compileErrors(text, format);
    expect(d).toBeDefined();
    expect(d.file ?? `rules/r.${format}`).toBe(`rules/r.${format}`);
    expect({ line: d.line, column: d.column }).toEqual(positionOf(text, marker));
  });
});
