import { z } from 'zod';
import type { Config } from '../config';
import {
  embedRequestSchema,
  embedResponseSchema,
  fastApiErrorSchema,
  healthResponseSchema,
  modelListSchema,
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

/**
 * The OpenAPI 3.1 document served at /openapi.json, built from the zod schemas that validate the
 * requests (with the configured limits), so it always says what the server accepts.
 */
export function buildOpenApiDocument(config: Config): Json {
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
      description: `Sentence embeddings from ${config.model.name}: L2-normalised float32 vectors, texts truncated to the model's 256 tokens.`,
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
    },
  };
}

function errorDescription(status: number): string {
  const descriptions: Record<number, string> = {
    400: 'malformed JSON or request',
    413: 'body over MAX_BODY_BYTES',
    415: 'not application/json',
    422: 'validation error',
    500: 'inference failed',
    503: 'loading, overloaded or shutting down (Retry-After)',
  };
  return descriptions[status] ?? 'error';
}
