# Patterns (Esper's "EPL Reference: Patterns"). Operators, tightest first:
#   1. guard postfix   X where timer:within(d) | X where timer:withinmax(d, n) | X while (expr)
#   2. unary           every X | every-distinct(k, ... [, expiry]) X | not X
#                      (as in Esper, the operand is an atom or a parenthesised pattern, optionally preceded by a
#                      repeat range: `every [2] A`; unary operators do not nest without parentheses)
#   3. repeat          [n] X | [lo:hi] X | [:hi] X | [lo:] X, each optionally followed by `until Y`; X until Y
#   4. and             (n-ary)
#   5. or              (n-ary)
#   6. followed-by     X -> Y | X -[n]> Y   (n-ary, limits per arrow)
# Atoms: event filters `[tag=]type[(expr, ...)]` and observers `timer:interval(d)`, `timer:at(...)`.

@lexer lexer

pattern -> followedBy {% id %}

followedBy
    -> orPattern                        {% id %}
     | followedBy arrow orPattern       {% b.followedBy %}

arrow
    -> "->"                             {% b.arrow %}
     | %followMax %number "]" ">"       {% b.limitedArrow %}

orPattern
    -> andPattern                       {% id %}
     | orPattern %kw_or andPattern         {% b.orPattern %}

andPattern
    -> matchUntil                       {% id %}
     | andPattern %kw_and matchUntil       {% b.andPattern %}

matchUntil
    -> qualify                                  {% id %}
     | repeatRange qualify                      {% b.repeat %}
     | qualify %kw_until qualify                   {% b.until %}
     | repeatRange qualify %kw_until qualify       {% b.repeatUntil %}

qualify
    -> guardPostfix                                                     {% id %}
     | %kw_every repeatRange:? guardPostfix                                {% b.every %}
     | %kw_not repeatRange:? guardPostfix                                  {% b.not %}
     | %everyDistinct "(" distinctArgs ")" repeatRange:? guardPostfix   {% b.everyDistinct %}

guardPostfix
    -> patternAtom                                              {% id %}
     | patternAtom %kw_where name ":" name "(" timeArgs:? ")"      {% b.whereGuard %}
     | patternAtom %kw_while "(" expr ")"                          {% b.whileGuard %}

patternAtom
    -> filter                   {% id %}
     | observer                 {% id %}
     | "(" pattern ")"          {% b.parenthesizedPattern %}

observer -> name ":" name "(" timeArgs:? ")" {% b.observer %}

filter -> (name "=" {% id %}):? dottedName ("(" exprList:? ")"):? {% b.filter %}

repeatRange
    -> "[" %number "]"                      {% b.exactRange %}
     | "[" %number:? ":" %number:? "]"      {% b.boundedRange %}
