/**
 * What a caller sees of a running container: health, the Python service's /embed and the OpenAI
 * route, checked against the response schemas the service documents.
 */
import { embedResponseSchema, healthResponseSchema, openAiResponseSchema } from '../../app/http/schemas';

export const DIMENSION = 384;

/** The image is built with a synthetic model: the service must say so, and never answer as the real one. */
export const SERVED_MODEL = 'all-MiniLM-L6-v2-synthetic';
const REAL_MODEL = 'all-MiniLM-L6-v2';

/** Polls GET /health until 200 (the model is loaded); resolves with the seconds since `since`. */
export async function waitHealthy(base: string, since: number, timeoutMs: number): Promise<number> {
  const deadline = since + timeoutMs;
  for (;;) {
    const status = await fetch(`${base}/health`, { signal: AbortSignal.timeout(2000) }).then(
      (r) => r.status,
      () => 0,
    );
    if (status === 200) return (performance.now() - since) / 1000;
    if (performance.now() > deadline) throw new Error(`${base}/health not 200 after ${timeoutMs} ms (last: ${status || 'no answer'})`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function post(url: string, body: unknown): Promise<unknown> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await response.text();
  if (response.status !== 200) throw new Error(`POST ${url}: ${response.status} ${text.slice(0, 300)}`);
  return JSON.parse(text);
}

/** Throws unless the vector has the model's dimension and unit length. */
function checkVector(vector: readonly number[], what: string): void {
  if (vector.length !== DIMENSION) throw new Error(`${what}: ${vector.length} dimensions, expected ${DIMENSION}`);
  const norm = Math.sqrt(vector.reduce((sum, x) => sum + x * x, 0));
  if (Math.abs(norm - 1) > 1e-3) throw new Error(`${what}: norm ${norm}, expected 1`);
}

export async function checkHealth(base: string): Promise<string> {
  const body = healthResponseSchema.parse(await (await fetch(`${base}/health`)).json());
  if (body.status !== 'ok' || !body.model_loaded || body.model_name !== SERVED_MODEL || !body.synthetic_model) throw new Error(`/health: ${JSON.stringify(body)}`);
  return `status ok, model ${body.model_name}, synthetic_model ${body.synthetic_model}`;
}

const TEXTS = ['Farmers market on Saturday morning', 'Jazz night at the library, free entry, all ages welcome'];

export async function checkEmbed(base: string): Promise<number[]> {
  const body = embedResponseSchema.parse(await post(`${base}/embed`, { texts: TEXTS }));
  if (body.embeddings.length !== TEXTS.length) throw new Error(`/embed: ${body.embeddings.length} vectors for ${TEXTS.length} texts`);
  body.embeddings.forEach((v, i) => checkVector(v, `/embed vector ${i}`));
  return body.embeddings[0] as number[];
}

/** The OpenAI route, and the same vector as /embed for the same text; a request for the real model is refused. */
export async function checkOpenAi(base: string, fromEmbed: readonly number[]): Promise<void> {
  const refused = await fetch(`${base}/v1/embeddings`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ input: 'x', model: REAL_MODEL }) });
  if (refused.status !== 404) throw new Error(`/v1/embeddings for ${REAL_MODEL}: ${refused.status}, expected 404 from a synthetic model`);
  const body = openAiResponseSchema.parse(await post(`${base}/v1/embeddings`, { input: [TEXTS[0]], model: SERVED_MODEL }));
  if (body.model !== SERVED_MODEL) throw new Error(`/v1/embeddings: model ${body.model}`);
  const vector = body.data[0]?.embedding;
  if (!Array.isArray(vector)) throw new Error('/v1/embeddings: no float vector');
  checkVector(vector, '/v1/embeddings vector');
  const furthest = Math.max(...vector.map((x, i) => Math.abs(x - (fromEmbed[i] as number))));
  if (furthest > 1e-5) throw new Error(`/v1/embeddings differs from /embed for the same text by up to ${furthest}`);
}
