import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ServiceProcess } from '../support/child';
import { fullModelDir } from '../support/models';
import { postJson } from '../support/server';

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes: Array<{ key: string; value: Record<string, unknown> }>;
  links?: Array<{ traceId: string; spanId: string }>;
}

/** A real OTLP/HTTP receiver on loopback: collects every span the service exports. */
async function startOtlpReceiver() {
  const spans: OtlpSpan[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.url === '/v1/traces') {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        for (const rs of body.resourceSpans ?? []) for (const ss of rs.scopeSpans ?? []) spans.push(...(ss.spans ?? []));
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, spans, close: () => new Promise((r) => server.close(r)) };
}

const attribute = (span: OtlpSpan, key: string) => span.attributes.find((a) => a.key === key)?.value;

describe('tracing', () => {
  it('exports the request span (continuing the caller\'s trace) and a linked inference span over OTLP', async () => {
    const receiver = await startOtlpReceiver();
    const service = new ServiceProcess({
      EMBEDDING_MODEL_DIR: await fullModelDir(),
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_BSP_SCHEDULE_DELAY: '100',
    });
    try {
      await service.waitHealthy();
      const base = `http://127.0.0.1:${await service.port()}`;
      const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
      const parentId = '00f067aa0ba902b7';
      const response = await postJson(`${base}/embed`, { texts: ['trace me', 'and me'] }, { traceparent: `00-${traceId}-${parentId}-01` });
      expect(response.status).toBe(200);
      service.kill('SIGTERM'); // shutdown flushes the exporter
      expect((await service.exited).code).toBe(0);

      const server = receiver.spans.find((s) => s.traceId === traceId && s.kind === 2 && s.parentSpanId === parentId);
      expect(server).toBeDefined();
      const annotated = receiver.spans.find((s) => s.traceId === traceId && attribute(s, 'embedding.texts') !== undefined);
      expect(Number(attribute(annotated as OtlpSpan, 'embedding.texts')?.intValue)).toBe(2);
      expect(attribute(annotated as OtlpSpan, 'embedding.inference_ms')).toBeDefined();
      const logged = service.logs.find((e) => e.message === 'request' && e.path === '/embed');
      expect(logged?.trace_id).toBe(traceId);

      const inference = receiver.spans.find((s) => s.name === 'inference' && s.links?.some((l) => l.traceId === traceId));
      expect(inference).toBeDefined();
      expect(Number(attribute(inference as OtlpSpan, 'batch.size')?.intValue)).toBe(2);
    } finally {
      service.kill('SIGKILL');
      await receiver.close();
    }
  });
});
