import { trace, TraceFlags, type Context, type Link } from '@opentelemetry/api';
import type { Logger } from 'winston';
import type { RunEvent, SchedulingEvent, ShedReason } from './batching/events';
import type { Metrics } from './metrics';
import type { SupervisorEvent } from './model';

/** Refusals made by the HTTP layer before a request reaches admission. */
export type HttpShedReason = 'saturated' | 'body_bytes' | 'response_bytes';

/** What telemetry listens to: admission and the scheduler (one event type), and the model's supervisor. */
interface Source<E> {
  subscribe(listener: (event: E) => void): void;
}

export interface Telemetry {
  /** Every 503 `overloaded`, whoever refused it: the one place the shed metric is counted. */
  shed(reason: ShedReason | HttpShedReason): void;
  watchScheduling(source: Source<SchedulingEvent>): void;
  watchModel(source: Source<SupervisorEvent>): void;
}

const tracer = trace.getTracer('embedding-service.scheduler');

const isSampled = (request: Context): boolean => ((trace.getSpanContext(request)?.traceFlags ?? 0) & TraceFlags.SAMPLED) !== 0;

/** Milliseconds since the epoch of a `performance.now()` time. */
const epochMs = (performanceMs: number) => performance.timeOrigin + performanceMs;

/**
 * Turns what admission, the scheduler and the supervisor report into metrics, log lines and spans,
 * each in one place. (Per-request telemetry, a log line and the stage timings, is the HTTP layer's:
 * http/middleware.ts and http/request-context.ts.)
 */
export function createTelemetry(logger: Logger, metrics: Metrics): Telemetry {
  const shed = (reason: ShedReason | HttpShedReason) => metrics.shedRequests.inc({ reason });

  const onRun = (run: RunEvent) => {
    metrics.batchSize.observe(run.texts);
    metrics.batchPaddedTokens.observe(run.paddedTokens);
    metrics.inferenceDuration.observe(run.durationMs / 1000);
    traceRun(run);
    if (run.error !== undefined) {
      metrics.failedBatches.inc();
      logger.error('inference failed', { lane: run.lane, batch_size: run.texts, error: (run.error as Error)?.stack ?? String(run.error) });
    } else {
      logger.debug('batch', { lane: run.lane, batch_size: run.texts, padded_tokens: run.paddedTokens, real_tokens: run.realTokens, duration_ms: run.durationMs, max_queue_wait_ms: run.maxQueueWaitMs });
    }
  };

  const onSupervisorEvent = (event: SupervisorEvent) => {
    switch (event.type) {
      case 'started':
        if (event.replacement) logger.warn('inference worker replaced', { start_ms: event.startMs });
        return;
      case 'start_failed':
        metrics.workerFailures.inc({ cause: 'start' });
        logger.error('inference worker could not start', { error: event.message, retry_in_ms: event.retryInMs });
        return;
      case 'failed':
        metrics.workerFailures.inc({ cause: event.cause });
        logger.error('inference worker failed', { cause: event.cause, error: event.message, in_flight: event.inFlight });
        return;
      case 'stuck':
        logger.error(event.message);
        return;
    }
  };

  return {
    shed,
    watchScheduling(source) {
      source.subscribe((event) => {
        if (event.type === 'run') onRun(event);
        else if (event.type === 'shed') shed(event.reason);
        else metrics.abandonedTexts.inc(event.texts);
      });
    },
    watchModel(source) {
      source.subscribe(onSupervisorEvent);
    },
  };
}

/**
 * One `inference` span per run, linked to every request it served and a child of the one that
 * waited longest (not of whichever request's context the run loop happened to start in) among
 * those whose caller sampled them: the sampler follows the parent, so a run led by an unsampled
 * request would otherwise go unrecorded for the sampled requests it also served.
 */
function traceRun(run: RunEvent): void {
  const links: Link[] = run.requests.flatMap((request) => {
    const spanContext = trace.getSpanContext(request);
    return spanContext ? [{ context: spanContext }] : [];
  });
  const span = tracer.startSpan(
    'inference',
    {
      startTime: epochMs(run.startedAt),
      links,
      attributes: { 'batch.lane': run.lane, 'batch.size': run.texts, 'batch.padded_tokens': run.paddedTokens, 'batch.real_tokens': run.realTokens },
    },
    run.requests.find(isSampled) ?? run.requests[0],
  );
  if (run.error !== undefined) span.recordException(run.error as Error);
  span.end(epochMs(run.startedAt + run.durationMs));
}
