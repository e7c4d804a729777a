import { EmbeddingServiceUnavailableError, OutageError } from './errors';
import { FallbackState } from './fallback-state';
import { lazyLocalModel, type LocalModel } from './local-model';
import { requestEmbeddings, serviceIsReady } from './service-call';
import type { EmbeddingClient, EmbeddingClientOptions } from './types';

const DEFAULTS = { timeoutMs: 10_000, maxBatch: 100, recheckIntervalMs: 30_000, maxRetries: 3 } as const;
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

  const embedChunk = async (texts: readonly string[]): Promise<Float32Array[]> => {
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
      });
    } catch (error) {
      if (!(error instanceof OutageError)) throw error;
      if (!local) throw new EmbeddingServiceUnavailableError(`embedding service unavailable: ${error.message}`, { cause: error });
      state.outage(error.message);
      return embedLocally(texts);
    }
  };

  const embed = async (texts: readonly string[]): Promise<Float32Array[]> => {
    const vectors: Float32Array[] = [];
    for (let start = 0; start < texts.length; start += settings.maxBatch) {
      vectors.push(...(await embedChunk(texts.slice(start, start + settings.maxBatch))));
    }
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
  const settings = {
    timeoutMs: options.timeoutMs ?? DEFAULTS.timeoutMs,
    maxBatch: options.maxBatch ?? DEFAULTS.maxBatch,
    recheckIntervalMs: options.recheckIntervalMs ?? DEFAULTS.recheckIntervalMs,
    maxRetries: options.maxRetries ?? DEFAULTS.maxRetries,
  };
  const problems: string[] = [];
  if (!/^https?:\/\/[^/]/.test(options.url ?? '')) problems.push(`url must be an http(s) URL, got ${JSON.stringify(options.url)}`);
  if (!(settings.timeoutMs > 0)) problems.push('timeoutMs must be positive');
  if (!Number.isInteger(settings.maxBatch) || settings.maxBatch < 1) problems.push('maxBatch must be a positive integer');
  if (!(settings.recheckIntervalMs >= 0)) problems.push('recheckIntervalMs must be 0 or more');
  if (!Number.isInteger(settings.maxRetries) || settings.maxRetries < 0) problems.push('maxRetries must be an integer, 0 or more');
  if (problems.length > 0) throw new RangeError(`createEmbeddingClient: ${problems.join('; ')}`);
  return settings;
}
