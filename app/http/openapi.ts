import { z } from 'zod';
import type { Config } from '../config';
import type { ServedRoute } from './route-table';
import {
  embedRequestSchema,
  embedResponseSchema,
  fastApiErrorSchema,
  healthResponseSchema,
  modelListSchema,
  modelSchema,
  openAiErrorSchema,
  openAiRequestSchema,
  openAiResponseSchema,
  singleQuerySchema,
  singleResponseSchema,
} from './schemas';

type Json = Record<string, unknown>;

/** JSON Schema (2020-12, what OpenAPI 3.1 uses) of what a client sends or receives. */
const schemaOf = (schema: z.ZodType, io: 'input' | 'output'): Json => {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as Json;
  return rest;
};
const json = (schema: z.ZodType, description: string) => ({ description, content: { 'application/json': { schema: schemaOf(schema, 'output') } } });

/** An Express path in OpenAPI's notation: `/v1/models/:id` → `/v1/models/{id}`. */
const openApiPath = (path: string) => path.replace(/:(\w+)/g, '{$1}');

/**
 * The OpenAPI 3.1 document served at /openapi.json, built from the zod schemas that validate the
 * requests (with the configured limits), so it always says what the server accepts. It must
 * document exactly the routes the routers serve, with their methods: building it throws otherwise,
 * so no app starts with a route undocumented or a documented route missing.
 */
export function buildOpenApiDocument(config: Config, routes: readonly ServedRoute[], modelName: string): Json {
  const document = describeRoutes(config, modelName);
  const served = Object.fromEntries(routes.map((route) => [openApiPath(route.path), [...route.methods].map((m) => m.toLowerCase()).sort()]));
  const documented = Object.fromEntries(Object.entries(document.paths).map(([path, operations]) => [path, Object.keys(operations).sort()]));
  const mismatched = [...new Set([...Object.keys(served), ...Object.keys(documented)])].sort().filter(
    (path) => (served[path] ?? []).join() !== (documented[path] ?? []).join(),
  );
  if (mismatched.length > 0) throw new Error(`/openapi.json does not describe what the routers serve: ${mismatched.join(', ')}`);
  return document;
}

function describeRoutes(config: Config, modelName: string) {
  const fastApiErrors = (...statuses: number[]) =>
    Object.fromEntries(statuses.map((status) => [String(status), json(fastApiErrorSchema, errorDescription(status))]));
  const openAiErrors = (...statuses: number[]) =>
    Object.fromEntries(statuses.map((status) => [String(status), json(openAiErrorSchema, errorDescription(status))]));
  const jsonBody = (schema: z.ZodType) => ({ required: true, content: { 'application/json': { schema: schemaOf(schema, 'input') } } });
  const textQuery = schemaOf(singleQuerySchema().shape.text, 'input');

  return {
    openapi: '3.1.0',
    info: {
      title: 'embedding-service',
      version: '1.0',
      description: `Sentence embeddings from ${modelName}: L2-normalised float32 vectors, texts truncated to the model's 256 tokens.`,
    },
    paths: {
      '/health': {
        get: {
          summary: 'Readiness: 200 when the model is loaded and inference works, else 503 with the reason',
          responses: { 200: json(healthResponseSchema, 'ready'), 503: json(healthResponseSchema, 'starting, stopping, restarting or failing') },
        },
      },
      '/metrics': { get: { summary: 'Prometheus metrics', responses: { 200: { description: 'Prometheus text format', content: { 'text/plain': { schema: { type: 'string' } } } } } } },
      '/openapi.json': { get: { summary: 'This document', responses: { 200: { description: 'OpenAPI 3.1', content: { 'application/json': { schema: { type: 'object' } } } } } } },
      '/embed': {
        post: {
          summary: 'Embed texts (the Python service\'s contract; errors in FastAPI\'s shape)',
          requestBody: jsonBody(embedRequestSchema(config.http.maxTextsPerRequest)),
          responses: { 200: json(embedResponseSchema, 'one vector per text, in input order'), ...fastApiErrors(400, 413, 415, 422, 500, 503) },
        },
      },
      '/embed/single': {
        post: {
          summary: 'Embed one text given as a query parameter',
          parameters: [{ name: 'text', in: 'query', required: true, schema: textQuery }],
          responses: { 200: json(singleResponseSchema, 'its vector'), ...fastApiErrors(422, 500, 503) },
        },
      },
      '/v1/embeddings': {
        post: {
          summary: 'OpenAI-compatible embeddings (errors in OpenAI\'s shape)',
          requestBody: jsonBody(openAiRequestSchema(config.http.maxOpenAiInputs)),
          responses: { 200: json(openAiResponseSchema, 'one item per input, in input order'), ...openAiErrors(400, 413, 415, 422, 500, 503) },
        },
      },
      '/v1/models': { get: { summary: 'The served model, as OpenAI lists models', responses: { 200: json(modelListSchema, 'one model') } } },
      '/v1/models/{id}': {
        get: {
          summary: 'The served model, as OpenAI retrieves a model; any other id is 404',
          parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
          responses: { 200: json(modelSchema, 'the model'), ...openAiErrors(404) },
        },
      },
    },
  };
}

function errorDescription(status: number): string {
  const descriptions: Record<number, string> = {
    400: 'malformed JSON or request',
    404: 'no such model',
    413: 'body over MAX_BODY_BYTES',
    415: 'not application/json',
    422: 'validation error',
    500: 'inference failed',
    503: 'loading, overloaded or shutting down (Retry-After)',
  };
  return descriptions[status] ?? 'error';
}
