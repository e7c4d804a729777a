/**
 * The ADOT collector's configuration rules this program relies on, as code: no schema or parser of
 * the collector's configuration is published on npm or in Debian, so the YAML is parsed (js-yaml)
 * and checked here against the rules of the pinned release, ADOT v0.49.0 (collector-contrib
 * v0.156.0): its component list (pkg/defaultcomponents/defaults.go) and the options of the
 * components used (their READMEs and config.go).
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const yaml: { load(text: string): unknown } = require('js-yaml');

type Signal = 'traces' | 'metrics' | 'logs';
type Kind = 'receivers' | 'processors' | 'exporters';

/** Component types of ADOT v0.49.0 that matter here, with the signals each handles. */
const ADOT_COMPONENTS: Readonly<Record<Kind, Readonly<Record<string, readonly Signal[]>>>> = {
  receivers: {
    otlp: ['traces', 'metrics', 'logs'],
    prometheus: ['metrics'],
    awsxray: ['traces'],
    statsd: ['metrics'],
    zipkin: ['traces'],
    jaeger: ['traces'],
    filelog: ['logs'],
    awsecscontainermetrics: ['metrics'],
  },
  processors: {
    batch: ['traces', 'metrics', 'logs'],
    memory_limiter: ['traces', 'metrics', 'logs'],
    cumulativetodelta: ['metrics'],
    deltatorate: ['metrics'],
    filter: ['traces', 'metrics', 'logs'],
    attributes: ['traces', 'metrics', 'logs'],
    resource: ['traces', 'metrics', 'logs'],
    resourcedetection: ['traces', 'metrics', 'logs'],
    metricstransform: ['metrics'],
  },
  exporters: {
    awsemf: ['metrics'],
    awsxray: ['traces'],
    awscloudwatchlogs: ['logs'],
    otlp: ['traces', 'metrics', 'logs'],
    otlphttp: ['traces', 'metrics', 'logs'],
    debug: ['traces', 'metrics', 'logs'],
  },
};
const ADOT_EXTENSIONS = ['health_check', 'pprof', 'zpages', 'sigv4auth', 'ecs_observer', 'awsproxy', 'file_storage'];

/** Options each used component accepts (the subset of their documented options this program may set). */
const OPTIONS: Readonly<Record<string, readonly string[]>> = {
  'exporters.awsemf': [
    'region', 'namespace', 'log_group_name', 'log_stream_name', 'log_retention', 'tags', 'endpoint', 'role_arn',
    'max_retries', 'dimension_rollup_option', 'resource_to_telemetry_conversion', 'output_destination',
    'detailed_metrics', 'parse_json_encoded_attr_values', 'metric_declarations', 'metric_descriptors',
    'retain_initial_value_of_delta_metric',
  ],
  'exporters.awsxray': ['region', 'endpoint', 'role_arn', 'index_all_attributes', 'indexed_attributes', 'local_mode'],
  'processors.batch': ['timeout', 'send_batch_size', 'send_batch_max_size', 'metadata_keys', 'metadata_cardinality_limit'],
  'processors.cumulativetodelta': ['include', 'exclude', 'max_staleness', 'initial_value'],
  'receivers.otlp': ['protocols'],
  'receivers.prometheus': ['config', 'trim_metric_suffixes', 'use_start_time_metric', 'start_time_metric_regex'],
  'extensions.health_check': ['endpoint', 'path', 'check_collector_pipeline'],
};

const typeOf = (id: string) => id.split('/')[0];
const asObject = (v: unknown): Record<string, unknown> => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {});
const seconds = (d: unknown) => (typeof d === 'string' && /^\d+s$/.test(d) ? Number(d.slice(0, -1)) : NaN);

/** Every rule the configuration breaks (empty: it follows them all). */
export function collectorConfigProblems(text: string): string[] {
  const problems: string[] = [];
  if (text.includes('${')) problems.push('contains ${…}: the collector would expand it as a variable');
  if (text.replace(/\$\$/g, '').includes('$')) problems.push('contains a lone $: write $$ for a literal $');
  let doc: Record<string, unknown>;
  try {
    doc = asObject(yaml.load(text));
  } catch (err) {
    return [`not YAML: ${(err as Error).message}`];
  }
  const service = asObject(doc.service);
  const pipelines = asObject(service.pipelines);
  if (Object.keys(pipelines).length === 0) problems.push('service.pipelines is empty');

  const used: Record<Kind, Set<string>> = { receivers: new Set(), processors: new Set(), exporters: new Set() };
  for (const [pipelineId, raw] of Object.entries(pipelines)) {
    const signal = typeOf(pipelineId) as Signal;
    if (!['traces', 'metrics', 'logs'].includes(signal)) problems.push(`pipeline ${pipelineId}: not a traces, metrics or logs pipeline`);
    const pipeline = asObject(raw);
    for (const kind of ['receivers', 'processors', 'exporters'] as const) {
      const ids = pipeline[kind] ?? [];
      if (!Array.isArray(ids)) {
        problems.push(`pipeline ${pipelineId}: ${kind} is not a list`);
        continue;
      }
      if (kind !== 'processors' && ids.length === 0) problems.push(`pipeline ${pipelineId}: no ${kind}`);
      for (const id of ids as string[]) {
        used[kind].add(id);
        if (!(id in asObject(doc[kind]))) problems.push(`pipeline ${pipelineId}: ${kind.slice(0, -1)} ${id} is not defined`);
        const signals = ADOT_COMPONENTS[kind][typeOf(id)];
        if (signals !== undefined && !signals.includes(signal)) problems.push(`pipeline ${pipelineId}: ${id} does not handle ${signal}`);
      }
    }
  }
  for (const kind of ['receivers', 'processors', 'exporters'] as const) {
    for (const id of Object.keys(asObject(doc[kind]))) {
      if (!(typeOf(id) in ADOT_COMPONENTS[kind])) problems.push(`${kind}.${id}: not a ${kind.slice(0, -1)} of ADOT v0.49.0`);
      if (!used[kind].has(id)) problems.push(`${kind}.${id}: defined but in no pipeline`);
    }
  }
  const extensions = Array.isArray(service.extensions) ? (service.extensions as string[]) : [];
  for (const id of extensions) if (!(id in asObject(doc.extensions))) problems.push(`service.extensions: ${id} is not defined`);
  for (const id of Object.keys(asObject(doc.extensions))) {
    if (!ADOT_EXTENSIONS.includes(typeOf(id))) problems.push(`extensions.${id}: not an extension of ADOT v0.49.0`);
    if (!extensions.includes(id)) problems.push(`extensions.${id}: defined but not in service.extensions`);
  }

  for (const kind of ['receivers', 'processors', 'exporters', 'extensions'] as const) {
    for (const [id, settings] of Object.entries(asObject(doc[kind]))) {
      const allowed = OPTIONS[`${kind}.${typeOf(id)}`];
      if (allowed === undefined) continue;
      for (const key of Object.keys(asObject(settings))) if (!allowed.includes(key)) problems.push(`${kind}.${id}: unknown option ${key}`);
    }
  }
  problems.push(...awsemfProblems(doc), ...prometheusProblems(doc), ...cumulativeToDeltaProblems(doc));
  return problems;
}

function awsemfProblems(doc: Record<string, unknown>): string[] {
  const problems: string[] = [];
  for (const [id, raw] of Object.entries(asObject(doc.exporters))) {
    if (typeOf(id) !== 'awsemf') continue;
    const emf = asObject(raw);
    for (const key of ['region', 'namespace', 'log_group_name']) if (typeof emf[key] !== 'string' || emf[key] === '') problems.push(`${id}: ${key} must be set`);
    const rollup = emf.dimension_rollup_option;
    if (rollup !== undefined && !['NoDimensionRollup', 'SingleDimensionRollupOnly', 'ZeroAndSingleDimensionRollup'].includes(String(rollup))) {
      problems.push(`${id}: dimension_rollup_option ${String(rollup)} is not an option`);
    }
    const declarations = emf.metric_declarations ?? [];
    if (!Array.isArray(declarations)) {
      problems.push(`${id}: metric_declarations is not a list`);
      continue;
    }
    declarations.forEach((raw, i) => {
      const d = asObject(raw);
      for (const key of Object.keys(d)) if (!['dimensions', 'metric_name_selectors', 'label_matchers'].includes(key)) problems.push(`${id}.metric_declarations[${i}]: unknown option ${key}`);
      const dims = d.dimensions;
      if (!Array.isArray(dims) || dims.length === 0 || !dims.every((set) => Array.isArray(set) && set.every((x) => typeof x === 'string'))) {
        problems.push(`${id}.metric_declarations[${i}]: dimensions must be a non-empty list of lists of label names`);
      } else if (dims.some((set) => (set as string[]).length > 30)) {
        problems.push(`${id}.metric_declarations[${i}]: CloudWatch takes at most 30 dimensions`);
      }
      const selectors = d.metric_name_selectors;
      if (!Array.isArray(selectors) || selectors.length === 0) problems.push(`${id}.metric_declarations[${i}]: metric_name_selectors is empty`);
      for (const selector of Array.isArray(selectors) ? selectors : []) {
        try {
          new RegExp(String(selector).replace(/\$\$/g, '$'));
        } catch {
          problems.push(`${id}.metric_declarations[${i}]: ${String(selector)} is not a regular expression`);
        }
      }
    });
  }
  return problems;
}

function prometheusProblems(doc: Record<string, unknown>): string[] {
  const problems: string[] = [];
  for (const [id, raw] of Object.entries(asObject(doc.receivers))) {
    if (typeOf(id) !== 'prometheus') continue;
    const jobs = asObject(asObject(raw).config).scrape_configs;
    if (!Array.isArray(jobs) || jobs.length === 0) {
      problems.push(`${id}: config.scrape_configs is empty`);
      continue;
    }
    jobs.forEach((raw, i) => {
      const job = asObject(raw);
      if (typeof job.job_name !== 'string' || job.job_name === '') problems.push(`${id}: scrape_configs[${i}] has no job_name`);
      const interval = seconds(job.scrape_interval ?? '60s');
      const timeout = seconds(job.scrape_timeout ?? '10s');
      if (!(timeout <= interval)) problems.push(`${id}: scrape_configs[${i}]: scrape_timeout must not exceed scrape_interval`);
      const targets = (Array.isArray(job.static_configs) ? job.static_configs : []).flatMap((c) => asObject(c).targets as string[] ?? []);
      if (targets.length === 0 || !targets.every((t) => /^[\w.-]+:\d+$/.test(t))) problems.push(`${id}: scrape_configs[${i}]: static_configs targets must be host:port`);
    });
  }
  return problems;
}

function cumulativeToDeltaProblems(doc: Record<string, unknown>): string[] {
  const problems: string[] = [];
  for (const [id, raw] of Object.entries(asObject(doc.processors))) {
    if (typeOf(id) !== 'cumulativetodelta') continue;
    const initial = asObject(raw).initial_value;
    if (initial !== undefined && !['auto', 'keep', 'drop'].includes(String(initial))) problems.push(`${id}: initial_value ${String(initial)} is not auto, keep or drop`);
  }
  return problems;
}
