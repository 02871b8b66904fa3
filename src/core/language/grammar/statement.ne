# The statements of a .cep file, separated by `;` (the last one optional):
#
#   @name('impossible-travel') @severity('critical') @source('user-events')
#   partition by user_id
#   select login.user_id as user, purchase.country as to_country
#   from pattern [every login=login -> purchase=purchase(country != login.country) where timer:within(5 min)]
#
# Annotations are any `@name` or `@name(literal, ...)` (the rule loader validates names and arguments);
# `select *` selects nothing explicitly; a select item without `as alias` is named by its text, as in Esper.

@lexer lexer

cepFile
    -> statements               {% (d) => b.items(d[0]) %}
     | statements ";"           {% (d) => b.items(d[0]) %}

statements
    -> statement                    {% b.listStart %}
     | statements ";" statement     {% b.listAdd %}

statement -> annotations partitionClause:? %kw_select selectList %kw_from %kw_pattern "[" pattern "]" {% b.statement %}

annotations -> null {% () => null %} | annotations annotation {% b.listAppend %}

annotation -> %annotation ("(" annotationArgs:? ")"):? {% b.annotation %}

annotationArgs -> annotationArg {% b.listStart %} | annotationArgs "," annotationArg {% b.listAdd %}

annotationArg
    -> %string          {% b.annotationArg %}
     | %number          {% b.annotationArg %}
     | "-" %number      {% b.annotationArg %}
     | %kw_true            {% b.annotationArg %}
     | %kw_false           {% b.annotationArg %}
     | %kw_null            {% b.annotationArg %}

partitionClause -> %kw_partition %kw_by dottedName {% b.partitionBy %}

selectList
    -> "*"                                  {% id %}
     | selectItems                          {% id %}

selectItems -> selectItem {% b.listStart %} | selectItems "," selectItem {% b.listAdd %}

selectItem -> expr (%kw_as name):? {% b.selectItem %}
