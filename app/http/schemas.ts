import { z } from 'zod';
import { validationError, type ValidationIssue } from '../errors';

/** Request bodies, as the Python service (FastAPI + pydantic) and OpenAI's API accept them. */
export function embedRequestSchema(maxTexts: number) {
  return z.object({
    texts: z
      .array(z.string(), { error: (issue) => (issue.input === undefined ? 'Field required' : 'Input should be a valid list') })
      .min(1, 'texts must contain at least 1 item')
      .max(maxTexts, `texts must contain at most ${maxTexts} items`),
  });
}

export function singleQuerySchema() {
  return z.object({
    text: z.string({ error: (issue) => (issue.input === undefined ? 'Field required' : 'Input should be a single string') }),
  });
}

export function openAiRequestSchema(maxTexts: number) {
  return z.object({
    input: z.union(
      [
        z.string(),
        z
          .array(z.string())
          .min(1, 'input must contain at least 1 item')
          .max(maxTexts, `input must contain at most ${maxTexts} items`),
      ],
      { error: (issue) => (issue.input === undefined ? 'Field required' : 'input must be a string or an array of strings') },
    ),
    model: z.string().optional(),
    encoding_format: z.enum(['float', 'base64']).default('float'),
    user: z.string().optional(),
  });
}

/** Parses `input` with `schema`, turning zod's issues into FastAPI-style 422 details. */
export function parseOrThrow<S extends z.ZodType>(schema: S, input: unknown, location: 'body' | 'query'): z.infer<S> {
  if (location === 'body' && (input === undefined || input === null || typeof input !== 'object' || Array.isArray(input))) {
    throw validationError([{ loc: ['body'], msg: input === undefined ? 'Field required' : 'Input should be a valid JSON object', type: 'model_attributes_type' }]);
  }
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issues: ValidationIssue[] = result.error.issues.map((issue) => ({
    loc: [location, ...issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p))],
    msg: issue.message,
    type: issue.code,
  }));
  throw validationError(issues);
}
