export * from './api';
export {
  CompiledRule,
  Engine,
  InvalidEventError,
  compileRule,
  engineLimits,
  DEFAULT_MAX_PARTIAL_MATCHES_PER_KEY,
  DEFAULT_TIMER_CATCH_UP_LIMIT,
  DEFAULT_TIMER_MOVE_LIMIT,
} from './engine';
export type { EngineLimits, EngineOptions, InvalidEventReason, KeyChange, KeySnapshot } from './engine';
export { compilePattern } from './compile';
export { stateRuntimeMarker } from './sequence';
export { eventTime } from './time';
export type { EvictableKey } from './engine';
export { KeyEvictor, capTarget, chooseEvictions, type EvictionSettings } from './eviction';
