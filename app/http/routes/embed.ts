import express, { Router, type Request } from 'express';
import type { Config } from '../../config';
import { notReady } from '../../errors';
import type { EmbeddingService } from '../../embedding-service';
import type { Metrics } from '../../metrics';
import type { Lifecycle } from '../lifecycle';
import { embedRequestSchema, openAiRequestSchema, parseOrThrow, singleQuerySchema } from '../schemas';
import { toBase64Vector, toJsonVector } from '../vectors';
import { jsonBodyOf, requireJsonBody } from '../middleware';
import { recordTimings, requestAbortSignal, roundMs, traceEmbeddingsRequest } from '../request-context';

/** The Python service's routes (/embed, /embed/single) and the OpenAI-compatible /v1/embeddings. */
export function embedRoutes(config: Config, lifecycle: Lifecycle, metrics: Metrics): Router {
  const router = Router();
  const modelName = config.model.name;
  const embedSchema = embedRequestSchema(config.limits.maxTextsPerRequest);
  const singleSchema = singleQuerySchema();
  const openAiSchema = openAiRequestSchema(config.limits.maxTextsPerRequest);
  const jsonBody = [requireJsonBody, express.json({ limit: config.limits.maxBodyBytes, strict: false, type: 'application/json' })];

  const serviceFor = (): EmbeddingService => {
    const service = lifecycle.service;
    if (!service) throw notReady();
    return service;
  };

  const run = async (req: Request, texts: readonly string[]) => {
    const started = performance.now();
    traceEmbeddingsRequest(modelName);
    const outcome = await serviceFor().embed(texts, requestAbortSignal(req));
    recordTimings(req, texts.length, outcome, metrics);
    return { outcome, processingMs: roundMs(performance.now() - started) };
  };

  router.post('/embed', ...jsonBody, async (req, res) => {
    const { texts } = parseOrThrow(embedSchema, jsonBodyOf(req), 'body');
    const { outcome, processingMs } = await run(req, texts);
    res.json({ embeddings: outcome.vectors.map(toJsonVector), model: modelName, processing_time_ms: processingMs });
  });

  router.post('/embed/single', async (req, res) => {
    const { text } = parseOrThrow(singleSchema, req.query, 'query');
    const { outcome, processingMs } = await run(req, [text]);
    res.json({ embedding: toJsonVector(outcome.vectors[0] as Float32Array), model: modelName, processing_time_ms: processingMs });
  });

  router.post('/v1/embeddings', ...jsonBody, async (req, res) => {
    const body = parseOrThrow(openAiSchema, jsonBodyOf(req), 'body');
    const texts = typeof body.input === 'string' ? [body.input] : body.input;
    const { outcome } = await run(req, texts);
    const encode = body.encoding_format === 'base64' ? toBase64Vector : toJsonVector;
    res.json({
      object: 'list',
      data: outcome.vectors.map((vector, index) => ({ object: 'embedding', index, embedding: encode(vector) })),
      model: modelName,
      usage: { prompt_tokens: outcome.promptTokens, total_tokens: outcome.promptTokens },
    });
  });

  return router;
}
