import type { Diagnostic } from '../language/diagnostics';

export type Severity = 'info' | 'warning' | 'critical';

/** Where the rule's pattern text starts inside the file it came from, to report errors in file coordinates. */
export interface TextOrigin {
  file?: string;
  line: number;
  column: number;
  /**
   * Where the text is not a verbatim copy of the file (a quoted YAML or JSON string with escapes or folded
   * lines): `[offset, line, column]`, ascending by offset, says that from that offset of the text on, the
   * characters continue at that file line and column. The first entry is at offset 0.
   */
  segments?: ReadonlyArray<readonly [number, number, number]>;
}

/**
 * A rule as written by a user (YAML, .cep or REST), validated against the schema but not compiled yet.
 * YAML and .cep forms of the same rule produce equal definitions (apart from `origin`).
 */
export interface RuleDefinition {
  id: string;
  description?: string;
  severity: Severity;
  /** Source topic. */
  source: string;
  /** Field whose value keys independent pattern instances; absent = one instance for the whole rule. */
  partitionBy?: string;
  /** The source's producers already key records by this field (no repartitioning needed). */
  keyedBy?: string;
  pattern: string;
  /** Output field → expression over tags. */
  emit: Record<string, string>;
  labels: Record<string, string>;
  enabled: boolean;
  event: { typeField: string; timeField: string };
  /** Where `pattern` and each `emit` expression start in the source file. */
  origin?: { file?: string; pattern?: TextOrigin; emit?: Record<string, TextOrigin> };
}

export const RULE_DEFAULTS = {
  severity: 'warning' as Severity,
  source: 'events',
  enabled: true,
  event: { typeField: 'type', timeField: 'timestamp' },
};

export type { Diagnostic };

/** A definition with every optional field at its default (tests, benchmarks, programmatic rules). */
export function ruleDefinition(id: string, pattern: string, extra: Partial<RuleDefinition> = {}): RuleDefinition {
  return {
    id,
    pattern,
    severity: RULE_DEFAULTS.severity,
    source: RULE_DEFAULTS.source,
    emit: {},
    labels: {},
    enabled: RULE_DEFAULTS.enabled,
    event: { ...RULE_DEFAULTS.event },
    ...extra,
  };
}
