export * from './alert';
export * from './alert-sink';
export * from './event-batch';
export * from './metrics';
export * from './rule-store';
export * from './rule-files';
