import { ROOT_CONTEXT, trace, TraceFlags, type Context } from '@opentelemetry/api';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import winston from 'winston';
import type { SchedulingEvent } from '../../../app/batching/events';
import { createMetrics } from '../../../app/metrics';
import type { SupervisorEvent } from '../../../app/model';
import { createTelemetry } from '../../../app/telemetry';
import { MemoryTransport } from '../support/server';

/** A source of events the test fires by hand, as admission, the scheduler and the supervisor would. */
function source<E>() {
  const listeners: Array<(event: E) => void> = [];
  return { subscribe: (listener: (event: E) => void) => void listeners.push(listener), fire: (event: E) => listeners.forEach((l) => l(event)) };
}

const requestContext = (spanId: string, traceFlags = TraceFlags.SAMPLED): Context =>
  trace.setSpanContext(ROOT_CONTEXT, { traceId: `${spanId}${spanId}`.padEnd(32, '0'), spanId, traceFlags });

describe('telemetry: events to metrics, log lines and spans, each in one place', () => {
  const exporter = new InMemorySpanExporter();
  beforeAll(() => trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] })));
  afterAll(() => trace.disable());

  const setUp = () => {
    const logs = new MemoryTransport();
    const metrics = createMetrics();
    const telemetry = createTelemetry(winston.createLogger({ level: 'debug', transports: [logs] }), metrics);
    const scheduling = source<SchedulingEvent>();
    const supervisor = source<SupervisorEvent>();
    telemetry.watchScheduling(scheduling);
    telemetry.watchModel(supervisor);
    const metric = async (pattern: RegExp) => Number(pattern.exec(await metrics.registry.metrics())?.[1]);
    return { logs, telemetry, scheduling, supervisor, metric };
  };

  it('counts every refusal, whoever made it, in the one shed metric by reason', async () => {
    const { telemetry, scheduling, metric } = setUp();
    scheduling.fire({ type: 'shed', reason: 'queue_wait', lane: 'interactive' });
    scheduling.fire({ type: 'shed', reason: 'bulk_finish', lane: 'bulk' });
    scheduling.fire({ type: 'shed', reason: 'bulk_finish', lane: 'bulk' });
    telemetry.shed('saturated');
    expect(await metric(/^embedding_shed_requests_total\{reason="bulk_finish"\} (\d+)$/m)).toBe(2);
    expect(await metric(/^embedding_shed_requests_total\{reason="queue_wait"\} (\d+)$/m)).toBe(1);
    expect(await metric(/^embedding_shed_requests_total\{reason="saturated"\} (\d+)$/m)).toBe(1);
  });

  it('records a run as metrics, a debug line and one inference span linked to its requests, a child of the oldest', async () => {
    const { logs, scheduling, metric } = setUp();
    exporter.reset();
    const requests = [requestContext('aaaaaaaaaaaaaaaa'), requestContext('bbbbbbbbbbbbbbbb')];
    const startedAt = performance.now() - 40;
    scheduling.fire({ type: 'run', lane: 'bulk', texts: 3, realTokens: 50, paddedTokens: 60, startedAt, durationMs: 40, maxQueueWaitMs: 7, requests });
    expect(await metric(/^embedding_batch_size_count (\d+)$/m)).toBe(1);
    expect(await metric(/^embedding_batch_padded_tokens_sum (\d+)$/m)).toBe(60);
    expect(await metric(/^embedding_inference_duration_seconds_sum ([\d.]+)$/m)).toBeCloseTo(0.04);
    expect(logs.entries).toContainEqual(expect.objectContaining({ level: 'debug', message: 'batch', lane: 'bulk', batch_size: 3, padded_tokens: 60, max_queue_wait_ms: 7 }));
    const [span] = exporter.getFinishedSpans();
    expect(span?.name).toBe('inference');
    expect(span?.attributes).toEqual({ 'batch.lane': 'bulk', 'batch.size': 3, 'batch.padded_tokens': 60, 'batch.real_tokens': 50 });
    expect(span?.parentSpanContext?.spanId).toBe('aaaaaaaaaaaaaaaa');
    expect(span?.links.map((link) => link.context.spanId)).toEqual(['aaaaaaaaaaaaaaaa', 'bbbbbbbbbbbbbbbb']);
    const ms = (hr: [number, number]) => hr[0] * 1000 + hr[1] / 1e6;
    expect(ms(span!.endTime) - ms(span!.startTime)).toBeCloseTo(40, 0);
    expect(ms(span!.startTime)).toBeCloseTo(performance.timeOrigin + startedAt, 0);
  });

  it('records a run led by a request its caller did not sample, as a child of the oldest sampled one', () => {
    const { scheduling } = setUp();
    exporter.reset();
    const requests = [requestContext('aaaaaaaaaaaaaaaa', TraceFlags.NONE), requestContext('bbbbbbbbbbbbbbbb'), requestContext('cccccccccccccccc')];
    scheduling.fire({ type: 'run', lane: 'interactive', texts: 3, realTokens: 30, paddedTokens: 30, startedAt: performance.now(), durationMs: 5, maxQueueWaitMs: 1, requests });
    const [span] = exporter.getFinishedSpans();
    expect(span?.parentSpanContext?.spanId).toBe('bbbbbbbbbbbbbbbb');
    expect(span?.links.map((link) => link.context.spanId)).toEqual(['aaaaaaaaaaaaaaaa', 'bbbbbbbbbbbbbbbb', 'cccccccccccccccc']);
    // A run that served no sampled request is not recorded (the sampler follows its parent).
    exporter.reset();
    scheduling.fire({ type: 'run', lane: 'interactive', texts: 1, realTokens: 5, paddedTokens: 5, startedAt: performance.now(), durationMs: 1, maxQueueWaitMs: 0, requests: [requestContext('dddddddddddddddd', TraceFlags.NONE)] });
    expect(exporter.getFinishedSpans()).toEqual([]);
  });

  it('logs a failed run at error with its stack, counts it, and marks its span', async () => {
    const { logs, scheduling, metric } = setUp();
    exporter.reset();
    scheduling.fire({ type: 'run', lane: 'interactive', texts: 1, realTokens: 5, paddedTokens: 5, startedAt: performance.now(), durationMs: 1, maxQueueWaitMs: 0, requests: [], error: new Error('onnxruntime: bad alloc') });
    expect(await metric(/^embedding_failed_batches_total (\d+)$/m)).toBe(1);
    expect(logs.entries).toContainEqual(expect.objectContaining({ level: 'error', message: 'inference failed', lane: 'interactive', error: expect.stringMatching(/bad alloc[\s\S]*at /) }));
    expect(exporter.getFinishedSpans()[0]?.events.map((event) => event.name)).toEqual(['exception']);
  });

  it('counts texts dropped because their caller left', async () => {
    const { scheduling, metric } = setUp();
    scheduling.fire({ type: 'abandoned', texts: 3 });
    scheduling.fire({ type: 'abandoned', texts: 2 });
    expect(await metric(/^embedding_abandoned_texts_total (\d+)$/m)).toBe(5);
  });

  it('logs and counts what the supervisor reports', async () => {
    const { logs, supervisor, metric } = setUp();
    supervisor.fire({ type: 'failed', cause: 'timeout', message: 'inference run exceeded its deadline of 10 ms', inFlight: 1 });
    supervisor.fire({ type: 'start_failed', message: 'cannot load', retryInMs: 1000 });
    supervisor.fire({ type: 'started', replacement: true, startMs: 12 });
    supervisor.fire({ type: 'started', replacement: false, startMs: 12 });
    supervisor.fire({ type: 'stuck', message: 'a terminated inference worker has not ended (stuck in native code)' });
    expect(await metric(/^embedding_worker_failures_total\{cause="timeout"\} (\d+)$/m)).toBe(1);
    expect(await metric(/^embedding_worker_failures_total\{cause="start"\} (\d+)$/m)).toBe(1);
    expect(logs.entries.map((e) => [e.level, e.message])).toEqual([
      ['error', 'inference worker failed'],
      ['error', 'inference worker could not start'],
      ['warn', 'inference worker replaced'],
      ['error', 'a terminated inference worker has not ended (stuck in native code)'],
    ]);
  });
});
