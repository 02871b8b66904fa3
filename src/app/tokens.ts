/** Injection tokens of the ports (interfaces have no runtime identity). */
export const LOGGER = Symbol('LOGGER');
export const RULE_STORE = Symbol('RULE_STORE');
export const ALERT_SINK = Symbol('ALERT_SINK');
export const ALERT_FEED = Symbol('ALERT_FEED');
export const SERVICE_METRICS = Symbol('SERVICE_METRICS');
export const RULE_FILES = Symbol('RULE_FILES');
export const EVENT_INGRESS = Symbol('EVENT_INGRESS');
