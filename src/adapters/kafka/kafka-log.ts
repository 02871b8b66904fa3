/**
 * kafkajs logs through the service's logger (JSON lines, `component: "kafkajs"`).
 *
 * kafkajs logs every error response at ERROR, even those it retries as a matter of course (a rebalance in
 * progress, a coordinator still loading, a leader moving): those go to debug. Real failures surface as
 * errors thrown to Cepheus, which logs them itself.
 */
import { logLevel, type logCreator } from 'kafkajs';
import type { Logger } from 'pino';

const ROUTINE = [
  /^Response /,
  /rebalanc/i,
  /coordinator.*(loading|not available)/i,
  /not (the )?leader/i,
  /group .* is rebalancing/i,
  /^Crash: KafkaJSNumberOfRetriesExceeded/,
  // Our retries are bounded on purpose: a send that fails stays in the partition's outbox and is sent again
  // (same records, same alert ids) before anything is committed.
  /Limiting retries for the idempotent producer/,
];

export function kafkaLogLevel(logger: Logger): logLevel {
  if (logger.isLevelEnabled('debug')) return logLevel.DEBUG;
  if (logger.isLevelEnabled('info')) return logLevel.WARN;
  return logLevel.ERROR;
}

export function kafkaLogCreator(logger: Logger): logCreator {
  const child = logger.child({ component: 'kafkajs' });
  return () =>
    ({ namespace, level, log }) => {
      const { message, timestamp: _t, logger: _l, ...extra } = log;
      const fields = { namespace, ...extra };
      const routine = ROUTINE.some((r) => r.test(message ?? ''));
      if (routine || level === logLevel.DEBUG) child.debug(fields, message);
      else if (level === logLevel.INFO) child.info(fields, message);
      else if (level === logLevel.WARN) child.warn(fields, message);
      else child.error(fields, message);
    };
}
