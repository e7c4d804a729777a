import { Router } from 'express';
import type { Config } from '../../config';
import { jsonBodyOf } from '../json-body';
import { embedRequestSchema, parseOrThrow, singleQuerySchema } from '../schemas';
import { aroundList } from '../responses';
import { byteLengthOf, toJsonVector } from '../vectors';
import type { EmbeddingRunner } from './embedding-runner';

/** The Python service's routes: /embed (FastAPI's body and errors) and /embed/single. */
export function embedRoutes(config: Config, runner: EmbeddingRunner): Router {
  const router = Router();
  const modelName = runner.model.name;
  const embedSchema = embedRequestSchema(config.http.maxTextsPerRequest);
  const singleSchema = singleQuerySchema();

  router.post('/embed', ...runner.jsonBody, async (req, res) => {
    const { texts } = parseOrThrow(embedSchema, jsonBodyOf(req), 'body');
    const { outcome, processingMs } = await runner.run(req, texts);
    runner.respond(res, {
      ...aroundList({}, 'embeddings', { model: modelName, processing_time_ms: processingMs }),
      items: outcome.vectors,
      item: (vector) => JSON.stringify(toJsonVector(vector)),
      heldBytes: byteLengthOf(outcome.vectors),
    });
  });

  router.post('/embed/single', async (req, res) => {
    const { text } = parseOrThrow(singleSchema, req.query, 'query');
    const { outcome, processingMs } = await runner.run(req, [text]);
    const vector = outcome.vectors[0] as Float32Array;
    res.json({ embedding: toJsonVector(vector), model: modelName, processing_time_ms: processingMs });
  });

  return router;
}
