/** The metrics Cepheus exports (the service contract); the alerting rules may read only these. */
export const CEPHEUS_METRICS = [
  'cep_events_received_total',
  'cep_events_rejected_total',
  'cep_events_late_total',
  'cep_rule_matches_total',
  'cep_partial_matches',
  'cep_partial_matches_dropped_total',
  'cep_event_processing_duration_seconds',
  'cep_rules_loaded',
  'cep_rule_reloads_total',
  'cep_kafka_consumer_lag',
  'cep_alerts_produced_total',
  'cep_dependency_up',
];

/** Metric families a PromQL expression reads (histogram series mapped to their family). */
export function metricsIn(expr: string): string[] {
  const names = new Set<string>();
  for (const m of expr.matchAll(/\bcep_[a-z0-9_]+/g)) names.add(m[0].replace(/_(bucket|sum|count)$/, ''));
  return [...names];
}

/** Families declared in a Prometheus text exposition (# TYPE lines). */
export function exposedFamilies(text: string): string[] {
  return [...text.matchAll(/^# TYPE (\S+) \S+$/gm)].map((m) => m[1]);
}
