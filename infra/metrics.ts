/**
 * The app's Prometheus series (app/metrics.ts, scraped from `/metrics`) that reach CloudWatch, and
 * the CloudWatch dimension sets each one gets. The collector's awsemf `metric_declarations` are
 * built from this list, and the alarms name their metrics from it, so an alarm can only reference
 * a metric and dimensions that awsemf emits. Pure data: no Pulumi imports.
 *
 * What arrives in CloudWatch (awsemf in ADOT v0.49.0, after the cumulativetodelta processor):
 * - a counter (`*_total`): the increase per scrape; use the Sum statistic;
 * - a histogram: one statistic set per scrape with the number of observations and their sum
 *   (SampleCount, Sum, Average are meaningful; Minimum and Maximum are 0: Prometheus histograms
 *   carry neither);
 * - a gauge: its value at each scrape (Maximum / Average).
 * The metric name is the Prometheus family name (`_bucket`/`_sum`/`_count` folded into the
 * histogram; `_total` kept). Labels not listed as a dimension are dropped.
 */

export type MetricKind = 'counter' | 'histogram' | 'gauge';

export interface ExportedMetric {
  readonly name: string;
  readonly kind: MetricKind;
  /** CloudWatch dimension sets; `[[]]`: one metric without dimensions. */
  readonly dimensions: readonly (readonly string[])[];
}

const plain = (name: string, kind: MetricKind): ExportedMetric => ({ name, kind, dimensions: [[]] });

export const QUEUED_TEXTS_METRIC = 'embedding_queued_texts';
export const REQUEST_DURATION_METRIC = 'embedding_http_request_duration_seconds';

export const EXPORTED_METRICS: readonly ExportedMetric[] = Object.freeze([
  // Requests by route and status (the method is implied by the route).
  { name: REQUEST_DURATION_METRIC, kind: 'histogram', dimensions: [['route', 'status']] },
  // Queue depth, texts admitted, batches and stage timings.
  plain(QUEUED_TEXTS_METRIC, 'gauge'),
  plain('embedding_admitted_texts', 'gauge'),
  plain('embedding_http_requests_in_flight', 'gauge'),
  plain('embedding_batch_size', 'histogram'),
  plain('embedding_batch_padded_tokens', 'histogram'),
  plain('embedding_tokenize_duration_seconds', 'histogram'),
  plain('embedding_queue_duration_seconds', 'histogram'),
  plain('embedding_inference_duration_seconds', 'histogram'),
  // Volume, failures and the cache.
  plain('embedding_texts_total', 'counter'),
  plain('embedding_prompt_tokens_total', 'counter'),
  plain('embedding_failed_batches_total', 'counter'),
  plain('embedding_abandoned_texts_total', 'counter'),
  // Load shedding (503 before any work) by reason, and the inference worker's health.
  { name: 'embedding_shed_requests_total', kind: 'counter', dimensions: [['reason']] },
  { name: 'embedding_worker_failures_total', kind: 'counter', dimensions: [['cause']] },
  plain('embedding_worker_up', 'gauge'),
  plain('embedding_cache_hits_total', 'counter'),
  plain('embedding_cache_misses_total', 'counter'),
  // The Node process (prom-client's default metrics, under the app's `embedding_` prefix).
  plain('embedding_process_cpu_seconds_total', 'counter'),
  plain('embedding_process_resident_memory_bytes', 'gauge'),
  plain('embedding_nodejs_heap_size_used_bytes', 'gauge'),
  plain('embedding_nodejs_eventloop_lag_p99_seconds', 'gauge'),
]);

/** Exactly this metric name, as an awsemf `metric_name_selectors` regex. */
export function exactNameSelector(name: string): string {
  if (!/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(name)) throw new Error(`not a Prometheus metric name: ${name}`);
  // `$$`: the collector's configuration resolver reads `$$` as a literal `$` (and RE2 reads an
  // unresolved `$$` as the same end anchor twice), so the anchor survives either way.
  return `^${name}$$`;
}
