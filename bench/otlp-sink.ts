import http from 'node:http';
import type { AddressInfo } from 'node:net';
import zlib from 'node:zlib';

/** What the sink has received since it started (or since the last `take()`). */
export interface OtlpCounts {
  /** Accepted export requests (POST /v1/traces, /v1/metrics, /v1/logs). */
  readonly exports: number;
  /** Spans in accepted JSON trace exports (binary protobuf exports are counted in `exports` and `bytes` only). */
  readonly spans: number;
  /** Request body bytes as sent (before gzip decoding). */
  readonly bytes: number;
  /** Requests answered 400 (undecodable body) or 404 (unknown path). */
  readonly rejected: number;
}

export interface OtlpSink {
  /** Base URL for OTEL_EXPORTER_OTLP_ENDPOINT, e.g. http://127.0.0.1:40123. */
  readonly url: string;
  /** Totals since start. */
  counts(): OtlpCounts;
  close(): Promise<void>;
}

const SIGNAL_PATHS = new Set(['/v1/traces', '/v1/metrics', '/v1/logs']);

/** Spans in a JSON-encoded ExportTraceServiceRequest. */
export function countJsonSpans(body: unknown): number {
  let spans = 0;
  const resourceSpans = (body as { resourceSpans?: unknown })?.resourceSpans;
  if (!Array.isArray(resourceSpans)) return 0;
  for (const rs of resourceSpans) {
    const scopeSpans = (rs as { scopeSpans?: unknown })?.scopeSpans;
    if (!Array.isArray(scopeSpans)) continue;
    for (const ss of scopeSpans) {
      const list = (ss as { spans?: unknown })?.spans;
      if (Array.isArray(list)) spans += list.length;
    }
  }
  return spans;
}

/**
 * A stand-in for the ADOT collector sidecar: an OTLP/HTTP receiver on loopback that accepts and
 * counts what the service exports and answers as the OTLP specification asks of a collector: 200 with
 * an empty Export<signal>ServiceResponse (`partial_success` unset) in the request's own encoding
 * (`{}` for application/json, an empty body for application/x-protobuf), gzip bodies accepted, 400
 * for a body it cannot decode, 404 elsewhere. It keeps nothing but the counts.
 */
export async function startOtlpSink(): Promise<OtlpSink> {
  let exports = 0;
  let spans = 0;
  let bytes = 0;
  let rejected = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      bytes += raw.length;
      const contentType = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
      const path = (req.url ?? '').split('?')[0] ?? '';
      if (req.method !== 'POST' || !SIGNAL_PATHS.has(path)) {
        rejected++;
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
        return;
      }
      const json = contentType === 'application/json';
      const fail = (why: string) => {
        rejected++;
        res.writeHead(400, { 'content-type': json ? 'application/json' : 'application/x-protobuf' }).end(json ? JSON.stringify({ message: why }) : undefined);
      };
      let body = raw;
      try {
        if ((req.headers['content-encoding'] ?? '').toLowerCase() === 'gzip') body = zlib.gunzipSync(raw);
      } catch {
        return fail('body is not valid gzip');
      }
      if (json) {
        let parsed: unknown;
        try {
          parsed = JSON.parse(body.toString('utf8'));
        } catch {
          return fail('body is not valid JSON');
        }
        if (path === '/v1/traces') spans += countJsonSpans(parsed);
      } else if (contentType !== 'application/x-protobuf') {
        return fail(`unsupported content-type ${contentType || '(none)'}`);
      }
      exports++;
      res.writeHead(200, { 'content-type': json ? 'application/json' : 'application/x-protobuf' }).end(json ? '{}' : undefined);
    });
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    counts: () => ({ exports, spans, bytes, rejected }),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
