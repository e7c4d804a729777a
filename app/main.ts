import { ConfigError, loadConfig, type Config } from './config';
import { createLogger, describeConfig } from './logger';
import { prepareModel } from './prepare-model';
import { startTracing } from './tracing';

/** Entry point: config → tracing (before express/http load) → server → model; SIGTERM/SIGINT drain and exit. */
async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    process.stderr.write(`${error instanceof ConfigError ? error.message : String(error)}\n`);
    process.exit(2);
  }
  const tracing = startTracing(config.tracing);
  const logger = createLogger(config);
  logger.info('starting', { config: describeConfig(config) });

  const loading = prepareModel(config, logger);
  loading.catch(() => {}); // reported through server.ready below
  // Loaded only now, after tracing has patched http and express, while the model loads.
  const { startServer } = await import('./server');
  const server = await startServer(config, logger, loading);

  let exiting = false;
  const shutdown = async (signal: string) => {
    if (exiting) return;
    exiting = true;
    logger.info('shutting down', { signal });
    await server.stop();
    await tracing.shutdown().catch(() => {});
    logger.info('stopped');
    logger.on('finish', () => process.exit(0));
    logger.end();
    setTimeout(() => process.exit(0), 2000).unref();
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));

  server.ready.catch(async (error: Error) => {
    logger.error(`model could not be loaded: ${error.message}`);
    process.stderr.write(`\nembedding-service: ${error.message}\n`);
    await server.stop().catch(() => {});
    process.exit(1);
  });
}

process.on('unhandledRejection', (reason) => {
  process.stderr.write(`unhandled rejection: ${(reason as Error)?.stack ?? String(reason)}\n`);
  process.exit(1);
});

void main();
