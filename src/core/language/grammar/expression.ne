# Expressions: filter predicates, `while` guards, every-distinct keys, select items and YAML emit fields.
#
# Precedence, loosest first (as in Esper's EsperEPL2Grammar):
#   or  <  and  <  & | ^  <  not  <  = != <> is [not]  <  < <= > >= / in / between / like / regexp  <  ||  <  + -
#   <  * / %  <  unary - +  <  literal, path, call, ( expr ), case … end
# `or`, `and`, `||`, `+ -` and `* / %` associate to the left; comparisons do not chain (`a < b < c` is an
# error), nor do the bitwise operators, which share one level (Esper refuses `a & b | c`: "BitWise node must
# have 2 parameters"); `not` and unary minus nest (`not not x`, `- -x`). The operands of `between` are concatenations, so in
# `x between 1 and 5 and y` the first `and` belongs to `between`.

@lexer lexer

expr -> orExpr {% id %}

orExpr
    -> andExpr                  {% id %}
     | orExpr %kw_or andExpr       {% b.binary %}

andExpr
    -> bitwise                  {% id %}
     | andExpr %kw_and bitwise     {% b.binary %}

# Esper's bitWiseExpression: looser than `not` and the comparisons, so `b = 1 & c = 2` is `(b = 1) & (c = 2)`
# and `x & 3 = 1` is `x & (3 = 1)` (a type error): write `(x & 3) = 1`.
bitwise
    -> notExpr                      {% id %}
     | notExpr bitwiseOp notExpr    {% b.binary %}

bitwiseOp -> "&" {% id %} | "|" {% id %} | "^" {% id %}

notExpr
    -> predicate                {% id %}
     | %kw_not notExpr             {% b.unary %}

# Equality binds looser than the relational operators, as in Esper (`a.f = a.x < 10` is `a.f = (a.x < 10)`).
predicate
    -> relational                                                               {% id %}
     | relational equalityOp relational                                         {% b.binary %}
     | relational %kw_is %kw_not:? relational                                   {% b.isExpr %}
     | relational equalityOp quantifier "(" exprList:? ")"                      {% b.quantified %}
     | relational %kw_is %kw_not:? quantifier "(" exprList:? ")"                {% b.quantifiedIs %}

# `x = any (a, b)`, `x != all (…)`, `x > some (…)`: Esper's comparisons with a list (`some` is `any`; `is` and
# `is not` are `=` and `!=` there). Esper also takes a subquery, which has no meaning here.
quantifier -> %kw_any {% id %} | %kw_some {% id %} | %kw_all {% id %}

relational
    -> concat                                                                   {% id %}
     | concat relationalOp concat                                               {% b.binary %}
     | concat relationalOp quantifier "(" exprList:? ")"                        {% b.quantified %}
     | concat %kw_not:? %kw_in "(" exprList ")"                                       {% b.inList %}
     | concat %kw_not:? %kw_in ("(" | "[") expr ":" expr (")" | "]")                  {% b.inRange %}
     | concat %kw_not:? %kw_between concat %kw_and concat                                {% b.between %}
     | concat %kw_not:? %kw_like concat (%kw_escape %string):?                           {% b.like %}
     | concat %kw_not:? %kw_regexp concat                                             {% b.regexp %}

equalityOp -> "=" {% id %} | "!=" {% id %} | "<>" {% id %}

relationalOp -> "<" {% id %} | "<=" {% id %} | ">" {% id %} | ">=" {% id %}

# String concatenation, between the relational and the additive operators (Esper's concatenationExpr).
concat
    -> additive                     {% id %}
     | concat "||" additive         {% b.binary %}

additive
    -> multiplicative                       {% id %}
     | additive additiveOp multiplicative   {% b.binary %}

additiveOp -> "+" {% id %} | "-" {% id %}

multiplicative
    -> unary                                        {% id %}
     | multiplicative multiplicativeOp unary        {% b.binary %}

multiplicativeOp -> "*" {% id %} | "/" {% id %} | "%" {% id %}

unary
    -> primary          {% id %}
     | "-" unary        {% b.unary %}
     | "+" unary        {% b.unary %}

primary
    -> %number                      {% b.numberLiteral %}
     | %string                      {% b.stringLiteral %}
     | %kw_true                        {% b.keywordLiteral %}
     | %kw_false                       {% b.keywordLiteral %}
     | %kw_null                        {% b.keywordLiteral %}
     | path                         {% id %}
     | funcName "(" exprList:? ")"  {% b.call %}
     | %kw_cast "(" expr %kw_as dottedName ")"      {% b.castAs %}
     | "(" expr ")"                 {% b.parenthesized %}
     | %kw_case caseWhens caseElse:? %kw_end          {% b.caseSearched %}
     | %kw_case expr caseWhens caseElse:? %kw_end     {% b.caseSimple %}

# `cast(x, int)` is read as a call (builders.call makes it a cast), `cast(x as int)` by its own rule above.

# Esper allows `case` only as a whole expression (`A((case … end) = 1)`); here it is a primary, which accepts
# every such rule and also `A(case … end = 1)`. `end` closes it, so no reading is ambiguous.
caseWhens -> caseWhen {% b.listStart %} | caseWhens caseWhen {% b.listAppend %}

caseWhen -> %kw_when expr %kw_then expr {% b.caseWhen %}

caseElse -> %kw_else expr {% b.caseElse %}

# `price`, `geo.country`, `items[0].sku`, `a[0].price`: the first segment may be a tag, the compiler decides.
path -> pathSegment ("." pathSegment):* {% b.path %}

# A `?` makes the segment (and those after it) an Esper dynamic property: `x?`, `item?.price`, `items[0]?`.
pathSegment -> name ("[" %number "]"):? "?":? {% b.pathSegment %}

# Lists are left-recursive chains (builders.ts ListChain): linear in the number of items.
exprList -> expr {% b.listStart %} | exprList "," expr {% b.listAdd %}
