/** Types for scripts/esper-oracle/index.js (plain CommonJS, usable from TS tests). */

export interface EsperCase {
  pattern: string;
  events: Array<{ type: string; id: string; timestamp: number; [field: string]: unknown }>;
  /** Event types to declare besides those of the events. */
  types?: string[];
  /** Declared field types, instead of those inferred from the values. */
  fieldTypes?: Record<string, 'int' | 'long' | 'double' | 'string' | 'boolean'>;
  /** Run in a keyed segmented context on this field (Cepheus' partitionBy). */
  partitionBy?: string;
  /** Advance the clock here after the last event. */
  until?: number;
}

export type EsperResult =
  | { matches: Array<{ at: string | null; tags: Record<string, string | string[]> }>; error?: undefined }
  | { error: string; matches?: undefined };

/** Makes sure Esper's jars (mvn, once) and the compiled oracle are in .cache/esper; returns the classpath. */
export function ensureEsperOracle(): string;

/** Runs the cases on Esper 8.9 in one JVM; one result per case, in order. */
export function runEsper(cases: EsperCase[], opts?: { timeoutMs?: number }): EsperResult[];
