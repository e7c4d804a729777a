import type { AddressInfo } from 'node:net';
import type { Logger } from 'winston';
import { Batcher } from './batching/batcher';
import type { Config } from './config';
import { createEmbeddingService } from './embedding-service';
import { createApp } from './http/app';
import { createHttpServer } from './http/http-server';
import { InFlightRequests } from './http/in-flight';
import { Lifecycle } from './http/lifecycle';
import { createMetrics, type Metrics } from './metrics';
import type { EmbeddingModel, WorkerEvent } from './model';
import type { LoadedModel } from './prepare-model';

export interface StopOutcome {
  /** Inference threads that would not end (stuck in native code): the process must be killed, not exited. */
  readonly stuckThreads: number;
}

export interface RunningServer {
  readonly port: number;
  readonly url: string;
  readonly lifecycle: Lifecycle;
  /** Settles when the model is loaded (or rejects when it cannot be). */
  readonly ready: Promise<void>;
  /**
   * Stops taking connections and lets in-flight requests finish for up to the grace period; then
   * answers what is left with 503 + Retry-After, closes every connection and releases the model.
   * Always resolves within the grace period plus about two seconds, even with a hung run.
   */
  stop(): Promise<StopOutcome>;
}

/** After the grace period: time for handlers to answer their cancelled requests, then for responses to flush. */
const CANCEL_ANSWER_MS = 250;
const FLUSH_MS = 500;
/** Longest wait for the batcher's current run to settle once everything is cancelled. */
const BATCHER_SETTLE_MS = 250;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());

/**
 * Listens at once (so /health can answer 503 "starting" while the model loads) and turns ready when
 * the model, already loading (see prepare-model.ts), is there.
 */
export async function startServer(config: Config, logger: Logger, loading: Promise<LoadedModel>): Promise<RunningServer> {
  const lifecycle = new Lifecycle();
  const metrics = createMetrics();
  const inFlight = new InFlightRequests();
  metrics.observeRequests(() => inFlight.size);
  const app = createApp({ config, logger, lifecycle, metrics, inFlight });
  const server = createHttpServer(config, app, logger, metrics);
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
    const current = loaded.model;
    model = current;
    current.subscribe((event) => reportWorkerEvent(event, logger, metrics));
    const queue = new Batcher(
      current,
      config.inference,
      (report) => {
        metrics.batchSize.observe(report.size);
        metrics.batchPaddedTokens.observe(report.paddedTokens);
        metrics.inferenceDuration.observe(report.durationMs / 1000);
        if (report.error !== undefined) {
          metrics.failedBatches.inc();
          logger.error('inference failed', { batch_size: report.size, error: (report.error as Error)?.stack ?? String(report.error) });
        } else {
          logger.debug('batch', { batch_size: report.size, padded_tokens: report.paddedTokens, real_tokens: report.realTokens, duration_ms: report.durationMs, max_queue_wait_ms: report.maxQueueWaitMs });
        }
      },
      (reason) => metrics.shedRequests.inc({ reason }),
    );
    batcher = queue;
    metrics.observe({ queuedTexts: () => queue.queuedTexts, workerUp: () => (current.health().state === 'ok' ? 1 : 0) });
    lifecycle.markReady(createEmbeddingService(current, queue, { cacheEntries: config.inference.cacheEntries }));
    logger.info(`model loaded in ${loaded.loadMs} ms`, { load_ms: loaded.loadMs, dir: config.model.dir, file: config.model.onnxFile, intra_op_threads: config.inference.intraOpThreads });
  })();
  ready.catch(() => {}); // the caller decides what a failed load means

  let stopping: Promise<StopOutcome> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      lifecycle.markStopping();
      inFlight.closeConnectionsAfterResponse();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      if (!(await inFlight.whenEmpty(config.shutdownGraceMs))) {
        logger.warn('shutdown grace period over; answering unfinished requests with 503', { grace_ms: config.shutdownGraceMs, in_flight: inFlight.size });
        lifecycle.service?.cancelAll();
        await inFlight.whenEmpty(CANCEL_ANSWER_MS);
        inFlight.answerUnfinished();
        await inFlight.whenEmpty(FLUSH_MS);
      }
      server.closeAllConnections();
      await closed;
      // A model still loading is being built on its worker thread: tearing the thread down in the
      // middle of onnxruntime's session creation aborts the whole process (exit 134, SIGABRT), so
      // let the load finish (within the grace) and release it like a loaded one.
      if (model === undefined) await Promise.race([ready.catch(() => {}), sleep(config.shutdownGraceMs)]);
      await Promise.race([batcher?.whenIdle(), sleep(BATCHER_SETTLE_MS)]);
      return (await model?.close()) ?? { stuckThreads: 0 };
    })());

  return { port, url: `http://127.0.0.1:${port}`, lifecycle, ready, stop };
}

function reportWorkerEvent(event: WorkerEvent, logger: Logger, metrics: Metrics): void {
  switch (event.type) {
    case 'started':
      if (event.replacement) logger.warn('inference worker replaced', { start_ms: event.startMs });
      return;
    case 'start_failed':
      metrics.workerFailures.inc({ cause: 'start' });
      logger.error('inference worker could not start', { error: event.message, retry_in_ms: event.retryInMs });
      return;
    case 'failed':
      metrics.workerFailures.inc({ cause: event.cause });
      logger.error('inference worker failed', { cause: event.cause, error: event.message, in_flight: event.inFlight });
      return;
    case 'stuck':
      logger.error(event.message);
      return;
  }
}
