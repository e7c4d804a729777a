import { ExpressInstrumentation } from '@opentelemetry/instrumentation-express';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { NodeSDK } from '@opentelemetry/sdk-node';
import type { Config } from './config';

export interface Tracing {
  shutdown(): Promise<void>;
}

const disabled: Tracing = { shutdown: async () => {} };

/**
 * OTLP/HTTP traces to OTEL_EXPORTER_OTLP_ENDPOINT (the ADOT collector sidecar on ECS); off when unset.
 * Must run before express and http are first required, so their instrumentations can patch them.
 */
export function startTracing(config: Config['tracing']): Tracing {
  if (!config.otlpEndpoint) return disabled;
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
