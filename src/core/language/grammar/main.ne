# Cepheus pattern language: the entry points.
#
# The grammar is split by topic; nearley's compiler inlines the @include'd files (scripts/build-grammar.js
# compiles this file into ../grammar.generated.ts). Postprocessors live in builders.ts (the `b.` functions),
# the moo lexer and its token types in lexer.ts. Each file repeats `@lexer lexer` because nearley compiles
# every included file on its own and needs the directive to turn %tokens into token-type matches.
#
# Entry rules (the parser picks one as the start symbol):
#   PatternMain     a pattern, as in a YAML rule's `pattern`           (pattern.ne)
#   ExpressionMain  an expression, as in a YAML rule's `emit` fields   (expression.ne)
#   FileMain        the statements of a .cep file                      (statement.ne)

@preprocessor typescript

@{%
import * as builders from './grammar/builders';
import { lexer } from './grammar/lexer';

/** The builders, seen from nearley: each takes the symbols' values `d` (their exact shapes are in builders.ts). */
const b = builders as unknown as { [K in keyof typeof builders]: (d: any[]) => any };
%}

@lexer lexer

@include "base.ne"
@include "expression.ne"
@include "duration.ne"
@include "pattern.ne"
@include "statement.ne"

PatternMain -> pattern {% id %}

ExpressionMain -> expr {% id %}

FileMain -> cepFile {% id %}
