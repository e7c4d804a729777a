import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'winston';
import { Batcher } from './batching/batcher';
import type { Config } from './config';
import { createEmbeddingService } from './embedding-service';
import { createApp } from './http/app';
import { Lifecycle } from './http/lifecycle';
import { createMetrics } from './metrics';
import type { EmbeddingModel } from './model';
import type { LoadedModel } from './prepare-model';

export interface RunningServer {
  readonly port: number;
  readonly url: string;
  readonly lifecycle: Lifecycle;
  /** Settles when the model is loaded (or rejects when it cannot be). */
  readonly ready: Promise<void>;
  /** Stops taking connections, finishes what is in flight (up to the grace period), releases the model. */
  stop(): Promise<void>;
}

/**
 * Listens at once (so /health can answer 503 "starting" while the model loads) and turns ready when
 * the model, already loading (see prepare-model.ts), is there.
 */
export async function startServer(config: Config, logger: Logger, loading: Promise<LoadedModel>): Promise<RunningServer> {
  const lifecycle = new Lifecycle();
  const metrics = createMetrics();
  const app = createApp({ config, logger, lifecycle, metrics });
  const server = http.createServer(app);
  server.keepAliveTimeout = 65_000; // longer than typical client pools' idle timeout, so callers don't race a close
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  logger.info('listening', { port, host: config.host });

  let model: EmbeddingModel | undefined;
  let batcher: Batcher | undefined;
  const ready = (async () => {
    const loaded = await loading;
    model = loaded.model;
    batcher = new Batcher(model, config.inference, (report) => {
      metrics.batchSize.observe(report.size);
      metrics.batchPaddedTokens.observe(report.paddedTokens);
      metrics.inferenceDuration.observe(report.durationMs / 1000);
      if (report.error !== undefined) {
        metrics.failedBatches.inc();
        logger.error('inference failed', { batch_size: report.size, error: (report.error as Error)?.stack ?? String(report.error) });
      } else {
        logger.debug('batch', { batch_size: report.size, padded_tokens: report.paddedTokens, real_tokens: report.realTokens, duration_ms: report.durationMs, max_queue_wait_ms: report.maxQueueWaitMs });
      }
    });
    const queue = batcher;
    metrics.observeQueue(() => queue.queuedTexts);
    lifecycle.markReady(createEmbeddingService(model, batcher, { cacheEntries: config.inference.cacheEntries }));
    logger.info(`model loaded in ${loaded.loadMs} ms`, { load_ms: loaded.loadMs, dir: config.model.dir, file: config.model.onnxFile, intra_op_threads: config.inference.intraOpThreads });
  })();
  ready.catch(() => {}); // the caller decides what a failed load means

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      lifecycle.markStopping();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const timer = setTimeout(() => {
        logger.warn('shutdown grace period over; closing remaining connections', { grace_ms: config.shutdownGraceMs });
        server.closeAllConnections();
      }, config.shutdownGraceMs);
      await closed;
      clearTimeout(timer);
      await batcher?.whenIdle();
      await model?.close();
    })());

  return { port, url: `http://127.0.0.1:${port}`, lifecycle, ready, stop };
}
