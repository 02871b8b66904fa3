import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/**
 * Get-or-create for metric families on one registry: a second instance of a metrics class on the same
 * registry (tests, a runtime built again) reuses the families instead of failing to register them twice.
 */
export function registeredMetrics(registry: Registry) {
  const registers = [registry];
  const existing = <T>(name: string) => registry.getSingleMetric(name) as T | undefined;
  return {
    counter: <L extends string = never>(name: string, help: string, labelNames: L[] = []): Counter<L> =>
      existing<Counter<L>>(name) ?? new Counter<L>({ name, help, labelNames, registers }),
    gauge: <L extends string = never>(name: string, help: string, labelNames: L[] = []): Gauge<L> =>
      existing<Gauge<L>>(name) ?? new Gauge<L>({ name, help, labelNames, registers }),
    histogram: (name: string, help: string, buckets: number[]): Histogram =>
      existing<Histogram>(name) ?? new Histogram({ name, help, buckets, registers }),
  };
}
