/**
 * The ADOT collector configuration the task runs: valid by the collector's rules (no schema or
 * parser of it exists on npm or in Debian: test/infra/support/collector-rules.ts), and its awsemf
 * declarations name series and labels the app really exposes on /metrics (app/metrics.ts), so
 * every metric and dimension an alarm or a dashboard uses really arrives in CloudWatch.
 */
import { collectDefaultMetrics, Registry } from 'prom-client';
import { createMetrics, METRIC_PREFIX } from '../../app/metrics';
import { collectorConfig } from '../../infra/containers';
import { EXPORTED_METRICS, exactNameSelector } from '../../infra/metrics';
import { collectorConfigProblems } from './support/collector-rules';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const yaml: { load(text: string): unknown } = require('js-yaml');

const params = { region: 'us-east-1', metricsNamespace: 'Superschedules/EmbeddingService', metricsLogGroupName: '/ecs/embedding-service/otel-metrics', appPort: 8003 };
const text = JSON.stringify(collectorConfig(params));
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const doc = yaml.load(text) as any;

/** Prometheus text exposition → family name → { type, label names of its samples }. */
function families(exposition: string): Map<string, { type: string; labels: Set<string> }> {
  const out = new Map<string, { type: string; labels: Set<string> }>();
  for (const line of exposition.split('\n')) {
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type) out.set(type[1], { type: type[2], labels: new Set() });
  }
  for (const line of exposition.split('\n')) {
    const sample = /^([a-zA-Z_:][\w:]*)(?:\{([^}]*)\})? /.exec(line);
    if (!sample || line.startsWith('#')) continue;
    const family = [...out.keys()].find((f) => sample[1] === f || new RegExp(`^${f}_(bucket|sum|count)$`).test(sample[1]));
    if (family === undefined) continue;
    for (const [, label] of (sample[2] ?? '').matchAll(/(\w+)="/g)) if (label !== 'le') out.get(family)?.labels.add(label);
  }
  return out;
}

describe('ADOT collector configuration', () => {
  it('follows the collector rules: pipelines use only defined components, every defined one is used, options exist', () => {
    expect(collectorConfigProblems(text)).toEqual([]);
  });

  it('the rules catch what would stop the collector or lose data', () => {
    const broken = JSON.parse(text);
    broken.service.pipelines.metrics.exporters.push('awsemf/other');
    broken.processors['batch/unused'] = {};
    broken.exporters.awsemf.dimension_rollup_option = 'Sometimes';
    broken.exporters.awsemf.metric_declarations[0].metric_name_selector = ['x'];
    broken.receivers.prometheus.config.scrape_configs[0].scrape_timeout = '30s';
    broken.service.pipelines.traces.exporters = ['awsemf'];
    broken.receivers.zipkinn = {};
    const problems = collectorConfigProblems(JSON.stringify(broken));
    for (const expected of [
      /exporter awsemf\/other is not defined/,
      /processors\.batch\/unused: defined but in no pipeline/,
      /dimension_rollup_option Sometimes/,
      /unknown option metric_name_selector/,
      /scrape_timeout must not exceed scrape_interval/,
      /awsemf does not handle traces/,
      /receivers\.zipkinn: not a receiver of ADOT v0\.49\.0/,
    ]) {
      expect(problems).toEqual(expect.arrayContaining([expect.stringMatching(expected)]));
    }
    expect(collectorConfigProblems('receivers: [')).toEqual([expect.stringMatching(/^not YAML/)]);
    expect(collectorConfigProblems(text.replace('embedding-service', '${HOSTNAME}'))).toEqual(expect.arrayContaining([expect.stringMatching(/expand/)]));
  });

  it('traces: OTLP/HTTP on loopback only, batched to X-Ray', () => {
    expect(doc.receivers.otlp.protocols).toEqual({ http: { endpoint: '127.0.0.1:4318' } });
    expect(doc.service.pipelines.traces).toEqual({ receivers: ['otlp'], processors: ['batch/traces'], exporters: ['awsxray'] });
  });

  it('metrics: scrapes the app over loopback, turns running totals into deltas, then awsemf', () => {
    expect(doc.receivers.prometheus.config.scrape_configs).toEqual([
      expect.objectContaining({ metrics_path: '/metrics', static_configs: [{ targets: ['127.0.0.1:8003'] }] }),
    ]);
    expect(doc.service.pipelines.metrics).toEqual({ receivers: ['prometheus'], processors: ['cumulativetodelta', 'batch/metrics'], exporters: ['awsemf'] });
    // No OTLP metrics pipeline: the app exports none (OTEL_METRICS_EXPORTER=none), nothing twice.
    expect(Object.values(doc.service.pipelines).filter((p) => (p as { receivers: string[] }).receivers.includes('otlp'))).toHaveLength(1);
    expect(doc.processors.cumulativetodelta).toEqual({ initial_value: 'auto' });
  });

  it('awsemf: the namespace and log group of the stack, only the declared dimension sets (no roll-ups)', () => {
    expect(doc.exporters.awsemf).toMatchObject({
      region: 'us-east-1',
      namespace: 'Superschedules/EmbeddingService',
      log_group_name: '/ecs/embedding-service/otel-metrics',
      dimension_rollup_option: 'NoDimensionRollup',
    });
    expect(doc.exporters.awsemf.metric_declarations).toEqual(
      EXPORTED_METRICS.map((m) => ({ dimensions: m.dimensions, metric_name_selectors: [exactNameSelector(m.name)] })),
    );
  });
});

describe('exported metrics against the app', () => {
  let exposed: Map<string, { type: string; labels: Set<string> }>;
  /** prom-client's default Node metrics as the app names them (its prefix). */
  let processInternals: Set<string>;

  beforeAll(async () => {
    const metrics = createMetrics();
    // One observation per labelled series, so that their labels show in the exposition.
    metrics.requestDuration.observe({ method: 'POST', route: '/embed', status: '200' }, 0.01);
    metrics.shedRequests.inc({ reason: 'queue_wait' });
    metrics.workerFailures.inc({ cause: 'exit' });
    exposed = families(await metrics.registry.metrics());
    const defaults = new Registry();
    collectDefaultMetrics({ register: defaults, prefix: METRIC_PREFIX });
    processInternals = new Set(families(await defaults.metrics()).keys());
  });

  it.each(EXPORTED_METRICS.map((m) => [m.name, m] as const))('%s is a series of the app, of the declared kind, with the declared labels', (_name, m) => {
    const family = exposed.get(m.name);
    expect(family?.type).toBe(m.kind);
    for (const set of m.dimensions) for (const label of set) expect([...(family?.labels ?? [])]).toContain(label);
    // Labels that are not dimensions would be dropped: histograms and counters without dimensions must have no labels to merge.
    if (m.dimensions.every((set) => set.length === 0)) expect([...(family?.labels ?? [])]).toEqual([]);
  });

  it('each selector matches exactly its own series (as the collector reads it, $$ being $)', () => {
    for (const m of EXPORTED_METRICS) {
      const re = new RegExp(exactNameSelector(m.name).replace(/\$\$/g, '$'));
      expect([...exposed.keys()].filter((f) => re.test(f))).toEqual([m.name]);
    }
  });

  it('names every series once: the embedding_ prefix, then no word twice in a row (not embedding_process_process_...)', () => {
    const names = [...exposed.keys()];
    expect(names.filter((name) => !name.startsWith(METRIC_PREFIX) || /(^|_)([a-z]+)_\2(_|$)/.test(name))).toEqual([]);
    expect(names).toEqual(expect.arrayContaining(['embedding_process_cpu_seconds_total', 'embedding_nodejs_heap_size_used_bytes', 'embedding_texts_total']));
  });

  it('every series of the app reaches CloudWatch, but for the process internals left out on purpose', () => {
    const exported = new Set(EXPORTED_METRICS.map((m) => m.name));
    const missing = [...exposed.keys()].filter((name) => !exported.has(name) && !processInternals.has(name));
    expect(missing).toEqual([]);
    expect(processInternals.size).toBeGreaterThan(10);
  });

  it('the queue depth, batch sizes and stage timings are among them', () => {
    const names = EXPORTED_METRICS.map((m) => m.name);
    for (const n of [
      'embedding_queued_texts',
      'embedding_batch_size',
      'embedding_batch_padded_tokens',
      'embedding_tokenize_duration_seconds',
      'embedding_queue_duration_seconds',
      'embedding_inference_duration_seconds',
      'embedding_http_request_duration_seconds',
    ]) {
      expect(names).toContain(n);
    }
  });
});
