# Names: identifiers (plain or `quoted`), plus the words that are keywords only in a .cep statement
# (select from as partition by pattern), a case expression (case when then else end), a cast (cast) or a
# quantified comparison (any some all), and the time units
# (sec, minutes, ...), which stay usable as names.
# The reserved words (and or not every every-distinct where while until in between like regexp escape is
# null true false) are never names; write `every` with backticks for a property of that name.

@lexer lexer

name
    -> funcName     {% id %}
     | %kw_any         {% b.name %}
     | %kw_some        {% b.name %}
     | %kw_all         {% b.name %}

# A name that may be called as a function: not `any`, `some` or `all`, so that `x = any (1, 2)` has one reading.
funcName
    -> %ident       {% b.name %}
     | %timeunit    {% b.name %}
     | %kw_select      {% b.name %}
     | %kw_from        {% b.name %}
     | %kw_as          {% b.name %}
     | %kw_partition   {% b.name %}
     | %kw_by          {% b.name %}
     | %kw_pattern     {% b.name %}
     | %kw_case        {% b.name %}
     | %kw_when        {% b.name %}
     | %kw_then        {% b.name %}
     | %kw_else        {% b.name %}
     | %kw_end         {% b.name %}
     | %kw_cast        {% b.name %}

# `a.b.c` as one name: dotted event types and partition fields.
dottedName -> name ("." name):* {% b.dottedName %}
