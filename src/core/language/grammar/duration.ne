# Time periods and the parameters of guards and observers.
#
# A time period is Esper's: one or more `<number> <unit>` parts from the largest unit to the smallest, each unit
# at most once (checked by b.duration), e.g. `5 min`, `1.5 sec`, `2 minutes 5 seconds`, `1 day 12 hours`.
# Units: year(s), month(s), week(s), day(s), hour(s), minute(s)/min, second(s)/sec, millisecond(s)/msec,
# microsecond(s)/usec, case-insensitive, with fixed lengths (a month is 30 days, a year 365 days).
# Where a time period is expected a bare number means seconds (`timer:within(10)`); b.* decides that per
# guard/observer, since the grammar accepts any expression as a parameter. An expression reading tags is a
# period computed when the guard or observer starts: `timer:interval(a.delay)` (seconds, as in Esper), or with
# one unit, `timer:within(a.ttl sec)` (Esper allows only seconds there; we take any unit up to weeks). A period
# of one part, `5 min` included, is always read as `expr unit` (b.duration rejects its other reading).
#
# `timer:schedule` takes named parameters (`iso: 'R/PT10S'`, `date: ...`, `period: 5 sec`, `repetitions: 3`);
# their names and values are checked by b.observer.
#
# `timer:at` parameters (Esper's crontab syntax) are numbers, `*`, ranges `lo:hi`, steps `*/n` and lists
# `[a, b, lo:hi, */n]`; field ranges are checked by b.observer.

@lexer lexer

duration -> durationPart:+ {% b.duration %}

durationPart -> %number %timeunit {% b.durationPart %}

# The parameters of `ns:name(...)`: an observer or a `where` guard.
timeArgs -> timeArg {% b.listStart %} | timeArgs "," timeArg {% b.listAdd %}

timeArg
    -> namedValue                   {% id %}
     | "*"                          {% (d) => b.cronArg([b.cronStar(d)]) %}
     | cronStepOrRange              {% b.cronArg %}
     | "[" cronListItems "]"        {% b.cronList %}
     | name ":" namedValue          {% b.namedArg %}

# An expression or a time period: a parameter's value, named or not.
namedValue
    -> expr                         {% b.exprArg %}
     | duration                     {% b.durationArg %}
     | expr %timeunit               {% b.durationOfOnePart %}

cronStepOrRange
    -> "*" "/" %number              {% b.cronStep %}
     | %number ":" %number          {% b.cronRange %}

cronListItems -> cronListItem {% b.listStart %} | cronListItems "," cronListItem {% b.listAdd %}

cronListItem
    -> %number                      {% b.cronValue %}
     | cronStepOrRange              {% id %}

# The parameters of every-distinct: key expressions, then optionally a time period (the expiry).
distinctArgs -> distinctArg {% b.listStart %} | distinctArgs "," distinctArg {% b.listAdd %}

distinctArg
    -> expr                         {% b.exprArg %}
     | duration                     {% b.durationArg %}
     | expr %timeunit               {% b.durationOfOnePart %}
