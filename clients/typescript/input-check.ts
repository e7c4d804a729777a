import { EmbeddingRequestError } from './errors';

const jsonType = (value: unknown): string => (value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value === 'object' ? 'object' : typeof value);

/**
 * Input a JavaScript caller can pass despite the types (a non-array, a non-string text) is refused
 * before anything is sent, with the 422 and detail the service itself would answer.
 */
export function checkTexts(texts: unknown): asserts texts is readonly string[] {
  if (!Array.isArray(texts)) {
    throw new EmbeddingRequestError(422, [{ loc: ['body', 'texts'], msg: 'Input should be a valid list', type: 'invalid_type' }]);
  }
  const problems = texts.flatMap((text: unknown, index) =>
    typeof text === 'string' ? [] : [{ loc: ['body', 'texts', index], msg: `Invalid input: expected string, received ${jsonType(text)}`, type: 'invalid_type' }],
  );
  if (problems.length > 0) throw new EmbeddingRequestError(422, problems);
}
