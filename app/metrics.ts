import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * The prefix of every series, prom-client's default Node metrics included: `embedding_process_cpu_seconds_total`,
 * `embedding_nodejs_heap_size_used_bytes`, beside the service's own `embedding_texts_total`.
 */
export const METRIC_PREFIX = 'embedding_';

/**
 * Prometheus metrics, one registry per server (tests build several). One naming scheme, `embedding_*`,
 * for the same stage timings that go on spans and log lines.
 */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: METRIC_PREFIX });
  let queuedTexts: () => number = () => 0;
  let admittedTexts: () => number = () => 0;
  let workerUp: () => number = () => 0;
  let requestsInFlight: () => number = () => 0;
  const seconds = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
  return {
    registry,
    requestDuration: new Histogram({
      name: 'embedding_http_request_duration_seconds',
      help: 'HTTP request duration by route and status (499: the caller went away)',
      labelNames: ['method', 'route', 'status'] as const,
      buckets: seconds,
      registers: [registry],
    }),
    texts: new Counter({ name: 'embedding_texts_total', help: 'Texts embedded (cache hits included)', registers: [registry] }),
    promptTokens: new Counter({ name: 'embedding_prompt_tokens_total', help: 'Tokens of embedded texts after truncation', registers: [registry] }),
    tokenizeDuration: new Histogram({ name: 'embedding_tokenize_duration_seconds', help: 'Tokenisation time per request', buckets: seconds, registers: [registry] }),
    queueDuration: new Histogram({ name: 'embedding_queue_duration_seconds', help: 'Wait of a request before its first inference run', buckets: seconds, registers: [registry] }),
    inferenceDuration: new Histogram({ name: 'embedding_inference_duration_seconds', help: 'Duration of one inference run (batch)', buckets: seconds, registers: [registry] }),
    batchSize: new Histogram({ name: 'embedding_batch_size', help: 'Texts per inference run', buckets: [1, 2, 4, 8, 16, 32, 64, 128], registers: [registry] }),
    batchPaddedTokens: new Histogram({ name: 'embedding_batch_padded_tokens', help: 'Padded tokens (rows x longest row) per inference run', buckets: [16, 64, 256, 512, 1024, 2048, 4096, 8192], registers: [registry] }),
    failedBatches: new Counter({ name: 'embedding_failed_batches_total', help: 'Inference runs that failed', registers: [registry] }),
    shedRequests: new Counter({
      name: 'embedding_shed_requests_total',
      help: 'Requests refused with 503 overloaded, by reason (saturated, body_bytes, response_bytes, admitted_texts, queue_wait, bulk_finish, expired)',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    workerFailures: new Counter({
      name: 'embedding_worker_failures_total',
      help: 'Inference worker failures that replaced the worker, by cause (exit, timeout, start)',
      labelNames: ['cause'] as const,
      registers: [registry],
    }),
    workerUpGauge: new Gauge({
      name: 'embedding_worker_up',
      help: '1 while inference is healthy, 0 while the worker restarts or keeps failing',
      registers: [registry],
      collect() {
        this.set(workerUp());
      },
    }),
    queuedTextsGauge: new Gauge({
      name: 'embedding_queued_texts',
      help: 'Texts waiting in the queue for an inference run',
      registers: [registry],
      collect() {
        this.set(queuedTexts());
      },
    }),
    admittedTextsGauge: new Gauge({
      name: 'embedding_admitted_texts',
      help: 'Texts admitted and not yet answered (tokenising, queued or running), bounded by MAX_ADMITTED_TEXTS',
      registers: [registry],
      collect() {
        this.set(admittedTexts());
      },
    }),
    abandonedTexts: new Counter({ name: 'embedding_abandoned_texts_total', help: 'Queued texts dropped unrun because their caller went away', registers: [registry] }),
    requestsInFlightGauge: new Gauge({
      name: 'embedding_http_requests_in_flight',
      help: 'HTTP requests read by the server and not yet answered (a scrape counts itself)',
      registers: [registry],
      collect() {
        this.set(requestsInFlight());
      },
    }),
    /** Where the in-flight gauge reads from once the server exists. */
    observeRequests(inFlight: () => number): void {
      requestsInFlight = inFlight;
    },
    /** Where the queue, admission and worker gauges read from once the model and the scheduler exist. */
    observe(sources: { queuedTexts: () => number; admittedTexts: () => number; workerUp: () => number }): void {
      queuedTexts = sources.queuedTexts;
      admittedTexts = sources.admittedTexts;
      workerUp = sources.workerUp;
    },
    cacheHits: new Counter({ name: 'embedding_cache_hits_total', help: 'Texts answered from the embedding cache', registers: [registry] }),
    cacheMisses: new Counter({ name: 'embedding_cache_misses_total', help: 'Texts not in the embedding cache', registers: [registry] }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
