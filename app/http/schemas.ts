import { z } from 'zod';
import { validationError, type ValidationIssue } from '../errors';

/**
 * Request bodies, as the Python service (FastAPI + pydantic) and OpenAI's API accept them. The same
 * schemas validate requests and generate /openapi.json (openapi.ts), so the document cannot drift.
 */
export function embedRequestSchema(maxTexts: number) {
  return z.object({
    texts: z
      .array(z.string(), { error: (issue) => (issue.input === undefined ? 'Field required' : 'Input should be a valid list') })
      .min(1, 'texts must contain at least 1 item')
      .max(maxTexts, `texts must contain at most ${maxTexts} items`)
      .describe('Texts to embed; an empty string is a valid text. Texts over the model\'s 256 tokens are truncated.'),
  });
}

export function singleQuerySchema() {
  return z.object({
    text: z
      .string({ error: (issue) => (issue.input === undefined ? 'Field required' : 'Input should be a single string') })
      .describe('The text to embed'),
  });
}

export function openAiRequestSchema(maxInputs: number) {
  return z.object({
    input: z
      .union(
        [
          z.string(),
          z
            .array(z.string())
            .min(1, 'input must contain at least 1 item')
            .max(maxInputs, `input must contain at most ${maxInputs} items`),
        ],
        { error: (issue) => (issue.input === undefined ? 'Field required' : 'input must be a string or an array of strings') },
      )
      .describe('Text or texts to embed. Token-id arrays are refused: this service tokenises with its own model\'s tokenizer.'),
    model: z.string().optional().describe('Ignored (this service serves one model), except that a synthetic model refuses a request naming the real one (404 not_found).'),
    encoding_format: z.enum(['float', 'base64']).default('float').describe('base64: little-endian float32 bytes, as the OpenAI SDKs request by default'),
    dimensions: z
      .number()
      .int()
      .min(1)
      .optional()
      .describe('Keep the first N dimensions of each vector and L2-normalise them again (the model was not trained for truncation, so quality drops as N shrinks). At most the model\'s dimension.'),
    user: z.string().optional(),
  });
}

/** Responses: documentation only (and tests check real responses against them). */
const vector = z.array(z.number()).describe('An L2-normalised float32 vector');

export const embedResponseSchema = z.object({ embeddings: z.array(vector), model: z.string(), processing_time_ms: z.number() });
export const singleResponseSchema = z.object({ embedding: vector, model: z.string(), processing_time_ms: z.number() });
export const openAiResponseSchema = z.object({
  object: z.literal('list'),
  data: z.array(z.object({ object: z.literal('embedding'), index: z.number().int(), embedding: z.union([vector, z.string().describe('base64 of little-endian float32')]) })),
  model: z.string(),
  usage: z.object({ prompt_tokens: z.number().int(), total_tokens: z.number().int() }),
});
export const modelSchema = z.object({ id: z.string(), object: z.literal('model'), created: z.number().int(), owned_by: z.string() });
export const modelListSchema = z.object({ object: z.literal('list'), data: z.array(modelSchema) });
export const healthResponseSchema = z.object({
  status: z.enum(['ok', 'starting', 'stopping', 'restarting', 'failing']),
  model_loaded: z.boolean(),
  model_name: z.string().describe('The model served; `<name>-synthetic` for a synthetic model (random weights)'),
  synthetic_model: z.boolean().describe('true for a synthetic model (`npm run model:synthetic`): its vectors are not meaningful embeddings'),
  warning: z.string().optional().describe('Said of a synthetic model'),
  reason: z.string().optional().describe('Why the service is not healthy (restarting, failing)'),
});
export const fastApiErrorSchema = z.object({
  detail: z.union([z.string(), z.array(z.object({ loc: z.array(z.union([z.string(), z.number()])), msg: z.string(), type: z.string() }))]),
});
export const openAiErrorSchema = z.object({
  error: z.object({ message: z.string(), type: z.string(), param: z.string().nullable(), code: z.string() }),
});

const TOKEN_IDS_MESSAGE =
  'input holds token ids, but this service tokenises text with its own model\'s tokenizer, so ids from another ' +
  'tokenizer (e.g. tiktoken) mean nothing to it. Send the texts as strings instead; with LangChain\'s ' +
  'OpenAIEmbeddings (Python) pass check_embedding_ctx_length=False.';

const isTokenIds = (value: unknown): boolean => Array.isArray(value) && value.length > 0 && value.every((id) => Number.isInteger(id));

/** OpenAI also accepts token ids (`[1, 2]` or `[[1, 2], [3]]`); we refuse them with a message that says what to do. */
export function refuseTokenIds(body: unknown): void {
  const input = (body as { input?: unknown } | null)?.input;
  if (isTokenIds(input) || (Array.isArray(input) && input.length > 0 && input.every(isTokenIds))) {
    throw validationError([{ loc: ['body', 'input'], msg: TOKEN_IDS_MESSAGE, type: 'token_ids_unsupported' }]);
  }
}

type ZodIssue = z.core.$ZodIssue;

/** A union's failure, reported as the failure of the one branch whose type matched (e.g. "at most N items"). */
function unwrapUnion(issue: ZodIssue): ZodIssue[] {
  if (issue.code !== 'invalid_union') return [issue];
  const matching = issue.errors.filter((branch) => !branch.some((inner) => inner.code === 'invalid_type' && inner.path.length === 0));
  if (matching.length !== 1) return [issue];
  return (matching[0] as ZodIssue[]).map((inner) => ({ ...inner, path: [...issue.path, ...inner.path] }));
}

/** Parses `input` with `schema`, turning zod's issues into FastAPI-style 422 details. */
export function parseOrThrow<S extends z.ZodType>(schema: S, input: unknown, location: 'body' | 'query'): z.infer<S> {
  if (location === 'body' && (input === undefined || input === null || typeof input !== 'object' || Array.isArray(input))) {
    throw validationError([{ loc: ['body'], msg: input === undefined ? 'Field required' : 'Input should be a valid JSON object', type: 'model_attributes_type' }]);
  }
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issues: ValidationIssue[] = result.error.issues.flatMap(unwrapUnion).map((issue) => ({
    loc: [location, ...issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p))],
    msg: issue.message,
    type: issue.code,
  }));
  throw validationError(issues);
}
