import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface OtlpAttribute {
  key: string;
  value: { stringValue?: string; intValue?: number | string; doubleValue?: number; boolValue?: boolean };
}

/** A span as OTLP/HTTP JSON carries it (the service's exporter sends JSON). */
export interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  traceState?: string;
  name: string;
  kind: number;
  attributes: OtlpAttribute[];
  links?: Array<{ traceId: string; spanId: string }>;
}

export interface OtlpReceiver {
  readonly url: string;
  readonly spans: OtlpSpan[];
  /** Every path the exporters posted to (only /v1/traces is expected). */
  readonly paths: string[];
  close(): Promise<void>;
}

export const SPAN_KIND_SERVER = 2;

/** A real OTLP/HTTP receiver on loopback: collects every span the service exports. */
export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const spans: OtlpSpan[] = [];
  const paths: string[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      paths.push(req.url ?? '');
      if (req.url === '/v1/traces') {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        for (const rs of body.resourceSpans ?? []) for (const ss of rs.scopeSpans ?? []) spans.push(...(ss.spans ?? []));
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    spans,
    paths,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export const attributeOf = (span: OtlpSpan, key: string): OtlpAttribute['value'] | undefined =>
  span.attributes.find((a) => a.key === key)?.value;

/** A random W3C trace id and parent span id, as a caller's propagator would send them. */
export function callerContext(): { traceId: string; parentId: string; traceparent: string } {
  const hex = (bytes: number) => Array.from({ length: bytes }, () => Math.floor(Math.random() * 256).toString(16).padStart(2, '0')).join('');
  const traceId = hex(16);
  const parentId = hex(8);
  return { traceId, parentId, traceparent: `00-${traceId}-${parentId}-01` };
}
