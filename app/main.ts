import type { Logger } from 'winston';
import { ConfigError, loadConfig, type Config } from './config';
import { SHUTDOWN_SLACK_MS } from './defaults';
import { createLogger, describeConfig, redactUrlCredentials } from './logger';
import { identifyModel, SYNTHETIC_WARNING, type ServedModel } from './model-identity';
import { prepareModel } from './prepare-model';
import type { RunningServer } from './server';
import { StartupError } from './startup-errors';
import { startTracing } from './tracing';

/**
 * How long after the grace period shutdown may still take before the process kills itself: within
 * the slack ECS allows before its own SIGKILL, early enough to leave a last log line.
 */
const WATCHDOG_AFTER_GRACE_MS = SHUTDOWN_SLACK_MS - 500;
/** Bounds on the last steps of shutdown: flushing spans and log lines. */
const TRACING_FLUSH_MS = 1000;
const LOG_FLUSH_MS = 500;
/** Shutdown ends within the grace plus this (operations.md's promise); the span flush gets what is left of it. */
const SHUTDOWN_AFTER_GRACE_MS = 2000;

const within = <T>(promise: Promise<T>, ms: number) =>
  Promise.race([promise.catch(() => undefined), new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), ms).unref())]);

/**
 * A start-up that cannot go on ends with one message on stderr, what is wrong and how to fix it
 * (a StartupError's, with no stack trace), the same in the log, and exit code 1.
 */
function failStartup(logger: Logger, error: unknown): never {
  const message = redactUrlCredentials(error instanceof Error ? error.message : String(error));
  logger.error(`cannot start: ${message}`, error instanceof StartupError ? {} : { stack: (error as Error)?.stack });
  process.stderr.write(`\nembedding-service: cannot start: ${message}\n`);
  process.exit(1);
}

/** Entry point: config → tracing (before express/http load) → which model → server and model load; SIGTERM/SIGINT drain and exit. */
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
  let served: ServedModel;
  try {
    served = await identifyModel(config);
  } catch (error) {
    failStartup(logger, error);
  }
  logger.info('starting', { model: served.name, config: describeConfig(config) });
  if (served.synthetic) {
    logger.warn(`serving a ${SYNTHETIC_WARNING}; reported as ${served.name}`, { model: served.name, production: config.production });
  }

  const flushLogs = () => within(new Promise((resolve) => logger.on('finish', resolve).end()), LOG_FLUSH_MS);
  /**
   * A thread stuck in native code cannot be stopped, and process.exit() would wait for it forever:
   * only a signal ends the process then. The watchdog covers anything else that overruns.
   */
  const kill = (reason: string) => {
    process.stderr.write(`embedding-service: ${reason}; killing the process\n`);
    process.kill(process.pid, 'SIGKILL');
  };

  // A stop signal may come while Express still loads: shutdown then waits for the server.
  let resolveServer: (server: RunningServer) => void = () => {};
  const serverStarted = new Promise<RunningServer>((resolve) => (resolveServer = resolve));
  let exiting = false;
  const shutdown = async (signal: string): Promise<void> => {
    if (exiting) return;
    exiting = true;
    logger.info('shutting down', { signal, grace_ms: config.shutdownGraceMs });
    const deadline = performance.now() + config.shutdownGraceMs + SHUTDOWN_AFTER_GRACE_MS - LOG_FLUSH_MS;
    setTimeout(() => kill('shutdown overran its grace period'), config.shutdownGraceMs + WATCHDOG_AFTER_GRACE_MS).unref();
    const { stuckThreads } = await (await serverStarted).stop();
    await within(tracing.shutdown(), Math.max(0, Math.min(TRACING_FLUSH_MS, deadline - performance.now())));
    if (stuckThreads > 0) {
      logger.error('stopped with an inference thread stuck in native code', { stuck_threads: stuckThreads });
      await flushLogs();
      kill('an inference thread is stuck in native code');
      return;
    }
    logger.info('stopped');
    await flushLogs();
    process.exit(0);
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));

  const stopDownload = new AbortController();
  const loading = prepareModel(config, logger, stopDownload.signal);
  loading.catch(() => {}); // reported through server.ready below
  // Loaded only now, after tracing has patched http and express, while the model loads.
  const { startServer } = await import('./server');
  let server: RunningServer;
  try {
    server = await startServer(config, logger, loading, served);
  } catch (error) {
    // Not listening: stop a download, and let a session being built finish first (tearing its
    // thread down mid-way aborts the process) before releasing it.
    stopDownload.abort();
    const loaded = await loading.catch(() => undefined);
    await loaded?.model.close();
    failStartup(logger, error);
  }
  resolveServer(server);

  server.ready.catch(async (error: unknown) => {
    await server.stop().catch(() => {});
    failStartup(logger, error);
  });
}

process.on('unhandledRejection', (reason) => {
  process.stderr.write(`unhandled rejection: ${redactUrlCredentials((reason as Error)?.stack ?? String(reason))}\n`);
  process.exit(1);
});

void main();
