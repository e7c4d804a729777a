import { boundedMap } from './bounded-map';
import { EmbeddingServiceUnavailableError, OutageError } from './errors';
import { FallbackState } from './fallback-state';
import { InFlightWindow } from './in-flight-window';
import { checkTexts } from './input-check';
import { lazyLocalModel, type LocalModel } from './local-model';
import { defaultMaxBatchChars, planRequests } from './request-plan';
import { requestEmbeddings, serviceIsReady } from './service-call';
import type { EmbeddingClient, EmbeddingClientOptions } from './types';

const DEFAULTS = { timeoutMs: 10_000, maxBatch: 100, maxInFlight: 2, recheckIntervalMs: 30_000, maxRetries: 3 } as const;
/** A half-open probe is GET /health: it answers at once when the service is up, whatever its load. */
const PROBE_TIMEOUT_MS = 2000;

/**
 * A client for the embedding service with retries and, for outages only, a local fallback that
 * comes back to the service by itself. See README "Calling the service".
 */
export function createEmbeddingClient(options: EmbeddingClientOptions): EmbeddingClient {
  const settings = checkedSettings(options);
  const baseUrl = options.url.replace(/\/+$/, '');
  const local: LocalModel | undefined = options.fallback ? lazyLocalModel(options.fallback) : undefined;
  const state = new FallbackState(baseUrl, settings.recheckIntervalMs, options.logger ?? console);

  const embedLocally = async (texts: readonly string[]): Promise<Float32Array[]> => {
    try {
      return await (local as LocalModel).embed(texts);
    } catch (error) {
      throw new EmbeddingServiceUnavailableError(`embedding service unavailable and the local model failed: ${(error as Error).message}`, { cause: error });
    }
  };

  const embedChunk = async (texts: readonly string[], onBusy?: () => void): Promise<Float32Array[]> => {
    const route = state.route();
    if (route === 'local') return embedLocally(texts);
    if (route === 'probe') {
      let ready = false;
      try {
        ready = await serviceIsReady(baseUrl, Math.min(settings.timeoutMs, PROBE_TIMEOUT_MS));
      } finally {
        if (ready) state.probeSucceeded();
        else state.probeFailed();
      }
      if (!ready) return embedLocally(texts);
      void local?.release();
    }
    try {
      return await requestEmbeddings(baseUrl, texts, {
        timeoutMs: settings.timeoutMs,
        maxRetries: settings.maxRetries,
        giveUp: () => local !== undefined && state.mode === 'local',
        ...(onBusy ? { onBusy } : {}),
      });
    } catch (error) {
      if (!(error instanceof OutageError)) throw error;
      if (!local) throw new EmbeddingServiceUnavailableError(`embedding service unavailable: ${error.message}`, { cause: error });
      state.outage(error.message);
      return embedLocally(texts);
    }
  };

  // Requests sized by their expected work, a few in flight so the service never waits for the next one, vectors in input order.
  const embed = async (texts: readonly string[]): Promise<Float32Array[]> => {
    checkTexts(texts);
    const requests = planRequests(texts, settings.maxBatch, settings.maxBatchChars);
    if (requests.length <= 1) return texts.length === 0 ? [] : embedChunk(texts);
    const window = new InFlightWindow(settings.maxInFlight);
    const answers = await boundedMap(requests, window, async (indices) => {
      let refused = false;
      const vectors = await embedChunk(
        indices.map((i) => texts[i] as string),
        () => {
          refused = true;
          window.narrow();
        },
      );
      if (refused) window.widen(); // the request the service turned away has been served
      return vectors;
    });
    const vectors = new Array<Float32Array>(texts.length);
    requests.forEach((indices, r) => indices.forEach((index, k) => (vectors[index] = (answers[r] as Float32Array[])[k] as Float32Array)));
    return vectors;
  };

  return {
    embed,
    embedOne: async (text) => (await embed([text]))[0] as Float32Array,
    get mode() {
      return state.mode;
    },
    close: async () => local?.release(),
  };
}

function checkedSettings(options: EmbeddingClientOptions) {
  const timeoutMs = options.timeoutMs ?? DEFAULTS.timeoutMs;
  const settings = {
    timeoutMs,
    maxBatch: options.maxBatch ?? DEFAULTS.maxBatch,
    maxBatchChars: options.maxBatchChars ?? defaultMaxBatchChars(timeoutMs),
    maxInFlight: options.maxInFlight ?? DEFAULTS.maxInFlight,
    recheckIntervalMs: options.recheckIntervalMs ?? DEFAULTS.recheckIntervalMs,
    maxRetries: options.maxRetries ?? DEFAULTS.maxRetries,
  };
  const problems: string[] = [];
  if (!/^https?:\/\/[^/]/.test(options.url ?? '')) problems.push(`url must be an http(s) URL, got ${JSON.stringify(options.url)}`);
  if (!(settings.timeoutMs > 0)) problems.push('timeoutMs must be positive');
  for (const name of ['maxBatch', 'maxBatchChars', 'maxInFlight'] as const) {
    if (!Number.isInteger(settings[name]) || settings[name] < 1) problems.push(`${name} must be a positive integer`);
  }
  if (!(settings.recheckIntervalMs >= 0)) problems.push('recheckIntervalMs must be 0 or more');
  if (!Number.isInteger(settings.maxRetries) || settings.maxRetries < 0) problems.push('maxRetries must be an integer, 0 or more');
  if (problems.length > 0) throw new RangeError(`createEmbeddingClient: ${problems.join('; ')}`);
  return settings;
}
