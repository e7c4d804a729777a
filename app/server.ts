import type { AddressInfo } from 'node:net';
import type { Logger } from 'winston';
import { Admission } from './batching/admission';
import { Scheduler } from './batching/scheduler';
import type { Config } from './config';
import { createEmbedder } from './embedder';
import { createApp } from './http/app';
import { createHttpServer } from './http/http-server';
import { InFlightRequests } from './http/in-flight';
import { Lifecycle } from './http/lifecycle';
import { createMetrics } from './metrics';
import type { EmbeddingModel } from './model';
import type { ServedModel } from './model-identity';
import type { LoadedModel } from './prepare-model';
import { drainOnStop, type StopOutcome } from './shutdown';
import { listenFailure } from './startup-errors';
import { createTelemetry } from './telemetry';

export type { StopOutcome } from './shutdown';

export interface RunningServer {
  readonly port: number;
  readonly url: string;
  readonly lifecycle: Lifecycle;
  /** Settles when the model is loaded (or rejects when it cannot be). */
  readonly ready: Promise<void>;
  /** The graceful stop (shutdown.ts): always resolves within the grace period plus about two seconds. */
  stop(): Promise<StopOutcome>;
}


/**
 * The composition root. Listens at once (so /health can answer 503 "starting" while the model
 * loads) and, when the model, already loading (see prepare-model.ts), is there, builds admission,
 * the scheduler and the embedder around it and turns ready. A port it cannot listen on is a
 * StartupError saying why (startup-errors.ts).
 */
export async function startServer(config: Config, logger: Logger, loading: Promise<LoadedModel>, served: ServedModel): Promise<RunningServer> {
  const lifecycle = new Lifecycle();
  const metrics = createMetrics();
  const telemetry = createTelemetry(logger, metrics);
  const inFlight = new InFlightRequests();
  metrics.observeRequests(() => inFlight.size);
  const app = createApp({ config, model: served, logger, lifecycle, metrics, inFlight, onShed: telemetry.shed });
  const server = createHttpServer(config, app, logger, metrics);
  await new Promise<void>((resolve, reject) => {
    const refused = (error: Error) => reject(listenFailure(error, config.host, config.port));
    server.once('error', refused);
    server.listen(config.port, config.host, () => {
      server.off('error', refused);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  logger.info('listening', { port, host: config.host });

  let loaded: { model: EmbeddingModel; scheduler: Scheduler } | undefined;
  const ready = (async () => {
    const { model, loadMs } = await loading;
    const admission = new Admission(config.scheduling);
    const scheduler = new Scheduler(model, admission, config.scheduling);
    telemetry.watchModel(model);
    telemetry.watchScheduling(admission);
    telemetry.watchScheduling(scheduler);
    metrics.observe({ queuedTexts: () => scheduler.queuedTexts, admittedTexts: () => admission.texts, workerUp: () => (model.health().state === 'ok' ? 1 : 0) });
    loaded = { model, scheduler };
    lifecycle.markReady(createEmbedder(model, admission, scheduler, { cacheEntries: config.cache.entries }));
    logger.info(`model loaded in ${loadMs} ms`, { load_ms: loadMs, model: served.name, dir: config.model.dir, file: config.model.onnxFile, intra_op_threads: config.session.intraOpThreads });
  })();
  ready.catch(() => {}); // the caller decides what a failed load means

  const stop = drainOnStop({ server, inFlight, lifecycle, logger, graceMs: config.shutdownGraceMs, ready, loaded: () => loaded });
  return { port, url: `http://127.0.0.1:${port}`, lifecycle, ready, stop };
}
