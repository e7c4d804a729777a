import type { Config } from './config';

export interface Tracing {
  shutdown(): Promise<void>;
}

const disabled: Tracing = { shutdown: async () => {} };

/**
 * OTLP/HTTP traces to OTEL_EXPORTER_OTLP_ENDPOINT (the ADOT collector sidecar on ECS); off when unset.
 * The SDK is required only when tracing is on: loading it costs a few hundred ms of start-up.
 *
 * The SDK provides the tracer, the sampler, the W3C propagator, batching and export; the spans are
 * the service's own: one per request (http/request-span.ts) and one per inference run
 * (telemetry.ts). No instrumentation patches http or Express, and no context manager is registered:
 * a request's span and context travel with the request (its response's locals, the queue entry),
 * not in AsyncLocalStorage, which on Node 20 costs every promise of the process a hook.
 *
 * Traces only: metrics are Prometheus' job (GET /metrics, scraped by the collector), so the SDK gets
 * no metric reader (no meter provider is registered, whatever OTEL_METRICS_EXPORTER says) and no log
 * processor. The sampler is config.ts's (OTEL_TRACES_SAMPLER, OTEL_TRACES_SAMPLER_ARG); the standard
 * variables for the batch processor and resource attributes still apply.
 */
export function startTracing(config: Config['tracing']): Tracing {
  if (!config.otlpEndpoint) return disabled;
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { NodeSDK } = require('@opentelemetry/sdk-node') as typeof import('@opentelemetry/sdk-node');
  const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-http') as typeof import('@opentelemetry/exporter-trace-otlp-http');
  const { resourceFromAttributes } = require('@opentelemetry/resources') as typeof import('@opentelemetry/resources');
  const { AlwaysOffSampler, AlwaysOnSampler, ParentBasedSampler, TraceIdRatioBasedSampler } = require('@opentelemetry/sdk-trace') as typeof import('@opentelemetry/sdk-trace');
  /* eslint-enable @typescript-eslint/no-require-imports */

  const { ratio, parentBased } = config.sampler;
  const root = ratio >= 1 ? new AlwaysOnSampler() : ratio <= 0 ? new AlwaysOffSampler() : new TraceIdRatioBasedSampler(ratio);
  const sdk = new NodeSDK({
    resource: resourceFromAttributes({ 'service.name': config.serviceName }),
    traceExporter: new OTLPTraceExporter({ url: `${config.otlpEndpoint.replace(/\/+$/, '')}/v1/traces` }),
    sampler: parentBased ? new ParentBasedSampler({ root }) : root,
    // NodeSDK registers no context manager for null (its setupContextManager); its types leave that out.
    contextManager: null as unknown as undefined,
    instrumentations: [],
    metricReaders: [],
    logRecordProcessors: [],
  });
  sdk.start();
  return { shutdown: () => sdk.shutdown() };
}
