/**
 * Creating and running the service: the same application in production (`npm start`) and in the e2e tests.
 */
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { AppModule } from '../app.module';
import { createLogger, NestLogger, type Logger } from '../app/logging/logger';
import { RuleFilesInvalidError } from '../app/rules/file-rules';
import { RuleRegistry } from '../app/rules/rule-registry';
import { loadConfig, serviceMode, type ServiceConfig } from '../config/config';
import { settleBodyBeforeAnswer } from './common/body';
import { setupDocs } from './docs';

export interface CreateAppOptions {
  logger?: Logger;
}

/** The configured Nest application, not listening yet. */
export async function createApp(config: ServiceConfig, options: CreateAppOptions = {}): Promise<NestExpressApplication> {
  const logger = options.logger ?? createLogger(config.logLevel);
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config, logger), {
    // Bodies are read by the handlers, after authentication and with a limit per route.
    bodyParser: false,
    logger: new NestLogger(logger),
    abortOnError: false,
  });
  // Ahead of every route, the docs' included: no answer leaves an unread body to be read without bound.
  app.use(settleBodyBeforeAnswer);
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('query parser', 'simple');
  setupDocs(app);
  return app;
}

/**
 * `npm start`: validates the configuration (exit 1 with one line per bad value), starts the service, and
 * stops it gracefully on SIGTERM/SIGINT: no new input, in-flight work finished, alerts flushed, exit 0 (exit 1
 * when that takes longer than SHUTDOWN_TIMEOUT_MS).
 */
export async function runService(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const { config, errors, warnings } = loadConfig(env);
  if (!config) {
    for (const e of errors) process.stderr.write(`cepheus: invalid configuration: ${e}\n`);
    process.exit(1);
  }
  const logger = createLogger(config.logLevel);
  for (const w of warnings) logger.warn(w);
  if (config.apiToken === null) logger.warn('API_TOKEN is not set: REST writes are not authenticated');

  let app: NestExpressApplication;
  try {
    app = await createApp(config, { logger });
    app.enableShutdownHooks(['SIGTERM', 'SIGINT'], { useProcessExit: true });
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      process.once(signal, () => {
        logger.info({ signal }, `received ${signal}, shutting down`);
        setTimeout(() => {
          logger.error({ timeoutMs: config.shutdownTimeoutMs }, 'shutdown took longer than SHUTDOWN_TIMEOUT_MS; exiting');
          logger.flush();
          process.exit(1);
        }, config.shutdownTimeoutMs).unref();
      });
    }
    await app.listen(config.port, config.host);
  } catch (e) {
    if (e instanceof RuleFilesInvalidError) logger.fatal({ dir: e.dir, errors: e.errors.length }, e.message);
    else logger.fatal({ err: e }, `startup failed: ${(e as Error)?.message ?? String(e)}`);
    logger.flush();
    process.exit(1);
  }

  const address = app.getHttpServer().address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  const counts = app.get(RuleRegistry).counts();
  const mode = serviceMode(config);
  logger.info(
    { url: `http://${host}:${port}`, port, mode, rules: counts.running, fileRules: counts.files, apiRules: counts.api, rulesDir: config.rulesDir },
    `cepheus listening on http://${host}:${port} (${mode} mode): ${counts.running} rule${counts.running === 1 ? '' : 's'} loaded from ${config.rulesDir ?? 'no rules directory'}`,
  );
}
