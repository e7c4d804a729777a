import { Router } from 'express';
import type { Config } from '../../config';
import { jsonBodyOf } from '../middleware';
import { embedRequestSchema, parseOrThrow, singleQuerySchema } from '../schemas';
import { toJsonVector } from '../vectors';
import type { EmbeddingRunner } from './embedding-runner';

/** The Python service's routes: /embed (FastAPI's body and errors) and /embed/single. */
export function embedRoutes(config: Config, runner: EmbeddingRunner): Router {
  const router = Router();
  const modelName = config.model.name;
  const embedSchema = embedRequestSchema(config.http.maxTextsPerRequest);
  const singleSchema = singleQuerySchema();

  router.post('/embed', ...runner.jsonBody, async (req, res) => {
    const { texts } = parseOrThrow(embedSchema, jsonBodyOf(req), 'body');
    const { outcome, processingMs } = await runner.run(req, texts);
    res.json({ embeddings: outcome.vectors.map(toJsonVector), model: modelName, processing_time_ms: processingMs });
  });

  router.post('/embed/single', async (req, res) => {
    const { text } = parseOrThrow(singleSchema, req.query, 'query');
    const { outcome, processingMs } = await runner.run(req, [text]);
    res.json({ embedding: toJsonVector(outcome.vectors[0] as Float32Array), model: modelName, processing_time_ms: processingMs });
  });

  return router;
}
