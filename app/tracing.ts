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
 *
 * Traces only: a tracer provider, the W3C propagators and two instrumentations, not the NodeSDK,
 * which also starts OTLP metric and log exporters (metrics are Prometheus' job, GET /metrics) and
 * costs about twice the load time. Nothing here reads OTEL_METRICS_EXPORTER: no meter provider is
 * ever registered, so the HTTP instrumentation's own histograms go to the API's no-op meter.
 */
export function startTracing(config: Config['tracing']): Tracing {
  if (!config.otlpEndpoint) return disabled;
  /* eslint-disable @typescript-eslint/no-require-imports */
  const api = require('@opentelemetry/api') as typeof import('@opentelemetry/api');
  const { AsyncLocalStorageContextManager } = require('@opentelemetry/context-async-hooks') as typeof import('@opentelemetry/context-async-hooks');
  const { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } = require('@opentelemetry/core') as typeof import('@opentelemetry/core');
  const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-http') as typeof import('@opentelemetry/exporter-trace-otlp-http');
  const { registerInstrumentations } = require('@opentelemetry/instrumentation') as typeof import('@opentelemetry/instrumentation');
  const { ExpressInstrumentation, ExpressLayerType } = require('@opentelemetry/instrumentation-express') as typeof import('@opentelemetry/instrumentation-express');
  const { HttpInstrumentation } = require('@opentelemetry/instrumentation-http') as typeof import('@opentelemetry/instrumentation-http');
  const { resourceFromAttributes } = require('@opentelemetry/resources') as typeof import('@opentelemetry/resources');
  const { BatchSpanProcessor, TracerProvider } = require('@opentelemetry/sdk-trace') as typeof import('@opentelemetry/sdk-trace');
  /* eslint-enable @typescript-eslint/no-require-imports */

  const provider = new TracerProvider({
    resource: resourceFromAttributes({ 'service.name': config.serviceName }),
    spanProcessors: [new BatchSpanProcessor({ exporter: new OTLPTraceExporter({ url: `${config.otlpEndpoint.replace(/\/+$/, '')}/v1/traces` }) })],
  });
  api.context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  api.propagation.setGlobalPropagator(new CompositePropagator({ propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()] }));
  api.trace.setGlobalTracerProvider(provider);
  registerInstrumentations({
    tracerProvider: provider,
    instrumentations: [
      new HttpInstrumentation({
        ignoreIncomingRequestHook: (req) => UNTRACED_PATHS.has((req.url ?? '').split('?')[0] as string),
        disableOutgoingRequestInstrumentation: true, // the service calls nothing worth a span
        applyCustomAttributesOnSpan: (span) => nameGenAiSpan(span),
      }),
      // Only for the route (the request span's name and http.route): every layer span is dropped, the
      // anonymous `middleware - <anonymous>` ones and the request handler that would duplicate the
      // request span. The request span stays active in the handlers and carries the stage timings.
      new ExpressInstrumentation({ ignoreLayersType: [ExpressLayerType.MIDDLEWARE, ExpressLayerType.ROUTER, ExpressLayerType.REQUEST_HANDLER] }),
    ],
  });
  return { shutdown: () => provider.shutdown() };
}

/**
 * The HTTP instrumentation names a server span `{method} {route}` as it ends; a request that ran a
 * GenAI operation (see http/request-context.ts) takes the GenAI conventions' name instead:
 * `{gen_ai.operation.name} {gen_ai.request.model}`, e.g. `embeddings all-MiniLM-L6-v2`.
 */
function nameGenAiSpan(span: Span): void {
  // The SDK's spans expose their attributes (ReadableSpan); the API's Span type does not.
  const attributes = (span as Partial<{ attributes: Record<string, unknown> }>).attributes ?? {};
  const operation = attributes['gen_ai.operation.name'];
  const model = attributes['gen_ai.request.model'];
  if (typeof operation === 'string' && typeof model === 'string') span.updateName(`${operation} ${model}`);
}
