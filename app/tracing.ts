import type { Span } from '@opentelemetry/api';
import type { Config } from './config';

export interface Tracing {
  shutdown(): Promise<void>;
}

const disabled: Tracing = { shutdown: async () => {} };

/** Probes and scrapes: a trace each would bury the requests. */
const UNTRACED_PATHS = new Set(['/health', '/metrics']);

/**
 * OTLP/HTTP traces to OTEL_EXPORTER_OTLP_ENDPOINT (the ADOT collector sidecar on ECS); off when unset.
 * Must run before express and http are first required, so their instrumentations can patch them.
 * The SDK is required only when tracing is on: loading it costs a few hundred ms of start-up.
 *
 * Traces only: metrics are Prometheus' job (GET /metrics, scraped by the collector), so the SDK gets
 * no metric reader (no meter provider is registered, whatever OTEL_METRICS_EXPORTER says) and no log
 * processor. The standard OTEL_* variables for traces (sampler, batch processor, resource
 * attributes) still apply.
 */
export function startTracing(config: Config['tracing']): Tracing {
  if (!config.otlpEndpoint) return disabled;
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { NodeSDK } = require('@opentelemetry/sdk-node') as typeof import('@opentelemetry/sdk-node');
  const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-http') as typeof import('@opentelemetry/exporter-trace-otlp-http');
  const { ExpressInstrumentation, ExpressLayerType } = require('@opentelemetry/instrumentation-express') as typeof import('@opentelemetry/instrumentation-express');
  const { HttpInstrumentation } = require('@opentelemetry/instrumentation-http') as typeof import('@opentelemetry/instrumentation-http');
  const { resourceFromAttributes } = require('@opentelemetry/resources') as typeof import('@opentelemetry/resources');
  /* eslint-enable @typescript-eslint/no-require-imports */

  const sdk = new NodeSDK({
    resource: resourceFromAttributes({ 'service.name': config.serviceName }),
    traceExporter: new OTLPTraceExporter({ url: `${config.otlpEndpoint.replace(/\/+$/, '')}/v1/traces` }),
    metricReaders: [],
    logRecordProcessors: [],
    instrumentations: [
      new HttpInstrumentation({
        ignoreIncomingRequestHook: (req) => UNTRACED_PATHS.has((req.url ?? '').split('?')[0] as string),
        // Query strings carry users' texts (/embed/single?text=...), whatever the parameter is called:
        // `url.query` is replaced whole (the GenAI conventions make input content opt-in; it is never on).
        startIncomingSpanHook: (req) => ((req.url ?? '').includes('?') ? { 'url.query': 'REDACTED' } : {}),
        disableOutgoingRequestInstrumentation: true, // the service calls nothing worth a span
        applyCustomAttributesOnSpan: (span) => nameGenAiSpan(span),
      }),
      // Only for the route (the request span's name and http.route): every layer span is dropped, the
      // anonymous `middleware - <anonymous>` ones and the request handler that would duplicate the
      // request span. The request span stays active in the handlers and carries the stage timings.
      new ExpressInstrumentation({ ignoreLayersType: [ExpressLayerType.MIDDLEWARE, ExpressLayerType.ROUTER, ExpressLayerType.REQUEST_HANDLER] }),
    ],
  });
  sdk.start();
  return { shutdown: () => sdk.shutdown() };
}

/**
 * The HTTP instrumentation names a server span `{method} {route}` as it ends; a request that ran a
 * GenAI operation (see http/embedding-telemetry.ts) takes the GenAI conventions' name instead:
 * `{gen_ai.operation.name} {gen_ai.request.model}`, e.g. `embeddings all-MiniLM-L6-v2`.
 */
function nameGenAiSpan(span: Span): void {
  // The SDK's spans expose their attributes (ReadableSpan); the API's Span type does not.
  const attributes = (span as Partial<{ attributes: Record<string, unknown> }>).attributes ?? {};
  const operation = attributes['gen_ai.operation.name'];
  const model = attributes['gen_ai.request.model'];
  if (typeof operation === 'string' && typeof model === 'string') span.updateName(`${operation} ${model}`);
}
