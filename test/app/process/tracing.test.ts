import { ServiceProcess } from '../support/child';
import { fullModelDir } from '../support/models';
import { attributeOf, callerContext, SPAN_KIND_SERVER, startOtlpReceiver, type OtlpSpan } from '../support/otlp-receiver';
import { postJson } from '../support/server';

const MODEL = 'all-MiniLM-L6-v2-synthetic'; // the synthetic model, as the service names it
const intOf = (span: OtlpSpan, key: string) => Number(attributeOf(span, key)?.intValue);

describe('tracing', () => {
  it('names and annotates the request span by the GenAI conventions, continues the caller\'s trace, links every request to its inference run, and exports traces only', async () => {
    const receiver = await startOtlpReceiver();
    const service = new ServiceProcess({ EMBEDDING_MODEL_DIR: await fullModelDir(), OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url });
    try {
      await service.waitHealthy();
      const base = `http://127.0.0.1:${await service.port()}`;
      const callers = Array.from({ length: 4 }, () => callerContext());
      // Concurrent, so the batcher can serve several requests with one inference run.
      const responses = await Promise.all(
        callers.map((caller, i) =>
          postJson(`${base}/v1/embeddings`, { input: [`trace me ${i}`, `and me, a little longer ${i}`] }, { traceparent: caller.traceparent, tracestate: `caller=${i}` }),
        ),
      );
      const embed = callerContext();
      expect((await postJson(`${base}/embed`, { texts: ['one'] }, { traceparent: embed.traceparent })).status).toBe(200);
      // A caller that decided not to sample (flags 00): the service follows it (ParentBased), records nothing.
      const unsampled = callerContext();
      expect((await postJson(`${base}/embed`, { texts: ['not me'] }, { traceparent: unsampled.traceparent.replace(/-01$/, '-00') })).status).toBe(200);
      expect((await fetch(`${base}/metrics`)).status).toBe(200);
      service.kill('SIGTERM'); // shutdown flushes the exporter
      expect((await service.exited).code).toBe(0);

      responses.forEach((response, i) => {
        expect(response.status).toBe(200);
        const caller = callers[i]!;
        const span = receiver.spans.find((s) => s.traceId === caller.traceId && s.parentSpanId === caller.parentId);
        expect(span).toMatchObject({ kind: SPAN_KIND_SERVER, name: `embeddings ${MODEL}`, traceState: `caller=${i}` });
        expect(attributeOf(span!, 'gen_ai.operation.name')?.stringValue).toBe('embeddings');
        expect(attributeOf(span!, 'gen_ai.request.model')?.stringValue).toBe(MODEL);
        expect(intOf(span!, 'gen_ai.usage.input_tokens')).toBe(response.body.usage.prompt_tokens);
        expect(intOf(span!, 'gen_ai.embeddings.dimension.count')).toBe(384);
        expect(intOf(span!, 'embedding.texts')).toBe(2);
        expect(attributeOf(span!, 'embedding.inference_ms')?.doubleValue).toBeGreaterThan(0);
        expect(attributeOf(span!, 'http.route')?.stringValue).toBe('/v1/embeddings');
      });
      expect(receiver.spans.filter((s) => s.traceId === unsampled.traceId)).toEqual([]);
      const embedSpan = receiver.spans.find((s) => s.traceId === embed.traceId && s.kind === SPAN_KIND_SERVER);
      expect(embedSpan?.name).toBe(`embeddings ${MODEL}`);
      expect(service.logs.find((e) => e.message === 'request' && e.path === '/embed')?.trace_id).toBe(embed.traceId);

      // Every request is linked from the inference run that served it, which is a child of one of them.
      const requestSpans = receiver.spans.filter((s) => s.kind === SPAN_KIND_SERVER);
      const inferenceSpans = receiver.spans.filter((s) => s.name === 'inference');
      for (const request of requestSpans) {
        const runs = inferenceSpans.filter((s) => s.links?.some((l) => l.spanId === request.spanId && l.traceId === request.traceId));
        expect(runs.length).toBeGreaterThan(0);
        expect(runs.reduce((texts, run) => texts + intOf(run, 'batch.size'), 0)).toBeGreaterThanOrEqual(intOf(request, 'embedding.texts'));
      }
      for (const run of inferenceSpans) {
        expect(run.links?.some((l) => l.spanId === run.parentSpanId && l.traceId === run.traceId)).toBe(true);
        expect(new Set(run.links?.map((l) => l.spanId)).size).toBe(run.links?.length); // one link per request
      }

      // Nothing but request and inference spans: no Express layer spans, no /metrics or /health traces.
      expect(receiver.spans.map((s) => s.name).filter((name) => name !== 'inference' && name !== `embeddings ${MODEL}`)).toEqual([]);
      expect(requestSpans).toHaveLength(callers.length + 1);
      // Metrics are Prometheus' job: the SDK exports no metrics (or logs) of its own over OTLP.
      expect(new Set(receiver.paths)).toEqual(new Set(['/v1/traces']));
    } finally {
      service.kill('SIGKILL');
      await receiver.close();
    }
  });
});
