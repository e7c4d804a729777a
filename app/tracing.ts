import type { Config } from './config';

export interface Tracing {
  shutdown(): Promise<void>;
}

const disabled: Tracing = { shutdown: async () => {} };

/**
 * OTLP/HTTP traces to OTEL_EXPORTER_OTLP_ENDPOINT (the ADOT collector sidecar on ECS); off when unset.
 * Must run before express and http are first required, so their instrumentations can patch them.
 * The SDK is required only when tracing is on: loading it costs about 0.4 s of start-up.
 */
export function startTracing(config: Config['tracing']): Tracing {
  if (!config.otlpEndpoint) return disabled;
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { NodeSDK } = require('@opentelemetry/sdk-node') as typeof import('@opentelemetry/sdk-node');
  const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-http') as typeof import('@opentelemetry/exporter-trace-otlp-http');
  const { HttpInstrumentation } = require('@opentelemetry/instrumentation-http') as typeof import('@opentelemetry/instrumentation-http');
  const { ExpressInstrumentation } = require('@opentelemetry/instrumentation-express') as typeof import('@opentelemetry/instrumentation-express');
  const { resourceFromAttributes } = require('@opentelemetry/resources') as typeof import('@opentelemetry/resources');
  /* eslint-enable @typescript-eslint/no-require-imports */
  const sdk = new NodeSDK({
    resource: resourceFromAttributes({ 'service.name': config.serviceName }),
    traceExporter: new OTLPTraceExporter({ url: `${config.otlpEndpoint.replace(/\/+$/, '')}/v1/traces` }),
    instrumentations: [
      new HttpInstrumentation({ ignoreIncomingRequestHook: (req) => req.url === '/health' }),
      new ExpressInstrumentation(),
    ],
  });
  sdk.start();
  return { shutdown: () => sdk.shutdown() };
}
