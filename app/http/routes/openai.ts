import { Router } from 'express';
import type { Config } from '../../config';
import { ServiceError, validationError } from '../../errors';
import { refusalOfRealModel } from '../../model-identity';
import { jsonBodyOf } from '../json-body';
import { openAiRequestSchema, parseOrThrow, refuseTokenIds } from '../schemas';
import { aroundList } from '../responses';
import { byteLengthOf, toBase64Vector, toJsonVector, truncateVector } from '../vectors';
import type { EmbeddingRunner } from './embedding-runner';

/** OpenAI-compatible /v1/embeddings, /v1/models and /v1/models/{id}; their errors use OpenAI's shape (error-response.ts). */
export function openAiRoutes(config: Config, runner: EmbeddingRunner): Router {
  const router = Router();
  const modelName = runner.model.name;
  const schema = openAiRequestSchema(config.http.maxOpenAiInputs);
  const created = Math.floor(Date.now() / 1000);

  router.post('/v1/embeddings', ...runner.jsonBody, async (req, res) => {
    const raw = jsonBodyOf(req);
    refuseTokenIds(raw);
    const body = parseOrThrow(schema, raw, 'body');
    const refusal = refusalOfRealModel(runner.model, body.model);
    if (refusal !== undefined) throw new ServiceError('not_found', refusal);
    const { dimension } = runner.embedder();
    if (body.dimensions !== undefined && body.dimensions > dimension) {
      throw validationError([{ loc: ['body', 'dimensions'], msg: `dimensions must be at most ${dimension}, the dimension of ${modelName}`, type: 'too_big' }]);
    }
    const texts = typeof body.input === 'string' ? [body.input] : body.input;
    const { outcome } = await runner.run(req, texts);
    const encode = body.encoding_format === 'base64' ? toBase64Vector : toJsonVector;
    const dimensions = body.dimensions ?? dimension;
    runner.respond(res, {
      ...aroundList({ object: 'list' }, 'data', { model: modelName, usage: { prompt_tokens: outcome.promptTokens, total_tokens: outcome.promptTokens } }),
      items: outcome.vectors,
      item: (vector, index) => JSON.stringify({ object: 'embedding', index, embedding: encode(truncateVector(vector, dimensions)) }),
      heldBytes: byteLengthOf(outcome.vectors),
    });
  });

  const model = { id: modelName, object: 'model', created, owned_by: 'embedding-service' } as const;
  router.get('/v1/models', (_req, res) => {
    res.json({ object: 'list', data: [model] });
  });
  // What the OpenAI SDKs' models.retrieve(id) asks.
  router.get('/v1/models/:id', (req, res) => {
    if (req.params.id !== modelName) {
      throw new ServiceError('not_found', refusalOfRealModel(runner.model, req.params.id) ?? `The model '${req.params.id}' does not exist; this service serves '${modelName}'`);
    }
    res.json(model);
  });

  return router;
}
