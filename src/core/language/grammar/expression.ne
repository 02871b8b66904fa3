# Expressions: filter predicates, `while` guards, every-distinct keys, select items and YAML emit fields.
#
# Precedence, loosest first (as in SQL and Esper):
#   or  <  and  <  not  <  comparison / in / between / like / regexp / is null  <  + -  <  * / %
#   <  unary - +  <  literal, path, call, ( expr )
# `or`, `and`, `+ -` and `* / %` associate to the left; comparisons do not chain (`a < b < c` is an error);
# `not` and unary minus nest (`not not x`, `- -x`). The operands of `between` are additive expressions, so in
# `x between 1 and 5 and y` the first `and` belongs to `between`.

@lexer lexer

expr -> orExpr {% id %}

orExpr
    -> andExpr                  {% id %}
     | orExpr %kw_or andExpr       {% b.binary %}

andExpr
    -> notExpr                  {% id %}
     | andExpr %kw_and notExpr     {% b.binary %}

notExpr
    -> predicate                {% id %}
     | %kw_not notExpr             {% b.unary %}

predicate
    -> additive                                                                 {% id %}
     | additive comparisonOp additive                                           {% b.binary %}
     | additive %kw_not:? %kw_in "(" exprList ")"                                     {% b.inList %}
     | additive %kw_not:? %kw_in ("(" | "[") expr ":" expr (")" | "]")                {% b.inRange %}
     | additive %kw_not:? %kw_between additive %kw_and additive                          {% b.between %}
     | additive %kw_not:? %kw_like additive (%kw_escape %string):?                       {% b.like %}
     | additive %kw_not:? %kw_regexp additive                                         {% b.regexp %}
     | additive %kw_is %kw_not:? %kw_null                                                {% b.isNull %}

comparisonOp -> "=" {% id %} | "!=" {% id %} | "<>" {% id %} | "<" {% id %} | "<=" {% id %} | ">" {% id %} | ">=" {% id %}

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
     | name "(" exprList:? ")"      {% b.call %}
     | "(" expr ")"                 {% b.parenthesized %}

# `price`, `geo.country`, `items[0].sku`, `a[0].price`: the first segment may be a tag, the compiler decides.
path -> pathSegment ("." pathSegment):* {% b.path %}

pathSegment -> name ("[" %number "]"):? {% b.pathSegment %}

# Lists are left-recursive chains (builders.ts ListChain): linear in the number of items.
exprList -> expr {% b.listStart %} | exprList "," expr {% b.listAdd %}
