import { fullModelDir } from '../support/models';
import { cosine, postJson, readJson, startTestServer, type TestServer } from '../support/server';

/** Black-box tests of every route, status and error case, on a real server with the full-size synthetic model. */
describe('HTTP API', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer({ EMBEDDING_MODEL_DIR: await fullModelDir(), MAX_TEXTS_PER_REQUEST: '100' });
  });
  afterAll(() => server.stop());

  const url = (path: string) => `${server.url}${path}`;

  describe('GET /health', () => {
    it('reports ok with the model name once the model is loaded, and that the model is synthetic', async () => {
      const response = await fetch(url('/health'));
      expect(response.status).toBe(200);
      expect(await readJson(response)).toEqual({
        status: 'ok',
        model_loaded: true,
        model_name: 'all-MiniLM-L6-v2-synthetic',
        synthetic_model: true,
        warning: 'synthetic model (random weights, written by npm run model:synthetic): its vectors are not meaningful embeddings',
      });
    });
  });

  describe('POST /embed', () => {
    it('returns one normalised 384-dimensional vector per text, in input order', async () => {
      const texts = ['Jazz night at the Blue Room', 'Farmers market on Saturday', '', 'Jazz night at the Blue Room'];
      const { status, body } = await postJson(url('/embed'), { texts });
      expect(status).toBe(200);
      expect(body.model).toBe('all-MiniLM-L6-v2-synthetic');
      expect(typeof body.processing_time_ms).toBe('number');
      expect(body.embeddings).toHaveLength(4);
      for (const vector of body.embeddings) {
        expect(vector).toHaveLength(384);
        expect(Math.hypot(...vector)).toBeCloseTo(1, 5);
      }
      expect(cosine(body.embeddings[0], body.embeddings[3])).toBeGreaterThan(0.99999);
      expect(cosine(body.embeddings[0], body.embeddings[1])).toBeLessThan(0.9999);

      const alone = await postJson(url('/embed'), { texts: ['Farmers market on Saturday'] });
      expect(cosine(alone.body.embeddings[0], body.embeddings[1])).toBeGreaterThan(0.99999);
    });

    it('truncates texts over 256 tokens instead of rejecting them', async () => {
      const long = 'word '.repeat(400);
      const longer = `${long} and then something entirely different at the end`;
      const { status, body } = await postJson(url('/embed'), { texts: [long, longer] });
      expect(status).toBe(200);
      // Everything after token 255 is cut, so both texts embed identically.
      expect(cosine(body.embeddings[0], body.embeddings[1])).toBeGreaterThan(0.99999);
    });

    it('embeds a 1 MB text quickly, by capping the characters it tokenises', async () => {
      const huge = 'lorem ipsum dolor sit amet '.repeat(40_000).slice(0, 1_000_000);
      const started = Date.now();
      const { status, body } = await postJson(url('/embed'), { texts: [huge] });
      expect(status).toBe(200);
      expect(body.embeddings[0]).toHaveLength(384);
      expect(Date.now() - started).toBeLessThan(5000); // uncapped tokenisation of 1 MB takes far longer; this only guards a stall
    });

    it('accepts the maximum number of texts and rejects one more with 422', async () => {
      const ok = await postJson(url('/embed'), { texts: Array.from({ length: 100 }, (_, i) => `event ${i}`) });
      expect(ok.status).toBe(200);
      expect(ok.body.embeddings).toHaveLength(100);
      const tooMany = await postJson(url('/embed'), { texts: Array.from({ length: 101 }, (_, i) => `event ${i}`) });
      expect(tooMany.status).toBe(422);
      expect(tooMany.body.detail[0]).toMatchObject({ loc: ['body', 'texts'], type: 'too_big' });
    });

    it.each([
      ['missing texts', {}, ['body', 'texts']],
      ['empty texts', { texts: [] }, ['body', 'texts']],
      ['texts not a list', { texts: 'hello' }, ['body', 'texts']],
      ['a non-string item', { texts: ['ok', 7] }, ['body', 'texts', 1]],
      ['a null item', { texts: [null] }, ['body', 'texts', 0]],
      ['a JSON array body', [1, 2], ['body']],
      ['a JSON string body', '"just a string"', ['body']],
    ])('answers 422 with a FastAPI-style detail for %s', async (_name, body, loc) => {
      const response = await postJson(url('/embed'), body);
      expect(response.status).toBe(422);
      expect(Array.isArray(response.body.detail)).toBe(true);
      expect(response.body.detail[0].loc).toEqual(loc);
      expect(typeof response.body.detail[0].msg).toBe('string');
    });

    it('answers 422 for a JSON request without a body', async () => {
      const response = await fetch(url('/embed'), { method: 'POST', headers: { 'content-type': 'application/json' } });
      expect(response.status).toBe(422);
      expect((await readJson(response)).detail[0].loc).toEqual(['body']);
    });

    it('answers 400 for malformed JSON', async () => {
      const response = await postJson(url('/embed'), '{"texts": ["unterminated');
      expect(response.status).toBe(400);
      expect(response.body).toEqual({ detail: 'request body is not valid JSON' });
    });

    it('answers 413 for a body over the limit', async () => {
      const response = await postJson(url('/embed'), { texts: ['x'.repeat(2 * 1024 * 1024 + 10)] });
      expect(response.status).toBe(413);
      expect(response.body.detail).toBe('request body is larger than the limit of 2097152 bytes (MAX_BODY_BYTES)');
    });

    it.each(['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x'])('answers 415 for Content-Type %s', async (type) => {
      const response = await fetch(url('/embed'), { method: 'POST', headers: { 'content-type': type }, body: 'texts=hello' });
      expect(response.status).toBe(415);
      expect((await readJson(response)).detail).toMatch(/application\/json/);
    });

    it('never leaks a stack trace in an error body', async () => {
      const response = await postJson(url('/embed'), '{bad');
      expect(JSON.stringify(response.body)).not.toMatch(/at .*\.(js|ts):\d+/);
    });
  });

  describe('POST /embed/single', () => {
    it('embeds the text query parameter', async () => {
      const single = await postJson(url(`/embed/single?text=${encodeURIComponent('Café crème à la française')}`), undefined);
      expect(single.status).toBe(200);
      expect(single.body.model).toBe('all-MiniLM-L6-v2-synthetic');
      expect(single.body.embedding).toHaveLength(384);
      expect(typeof single.body.processing_time_ms).toBe('number');
      const batch = await postJson(url('/embed'), { texts: ['Café crème à la française'] });
      expect(cosine(single.body.embedding, batch.body.embeddings[0])).toBeGreaterThan(0.99999);
    });

    it('accepts an empty text', async () => {
      const response = await fetch(url('/embed/single?text='), { method: 'POST' });
      expect(response.status).toBe(200);
    });

    it('answers 422 when text is missing or repeated', async () => {
      const missing = await fetch(url('/embed/single'), { method: 'POST' });
      expect(missing.status).toBe(422);
      expect((await readJson(missing)).detail[0].loc).toEqual(['query', 'text']);
      const repeated = await fetch(url('/embed/single?text=a&text=b'), { method: 'POST' });
      expect(repeated.status).toBe(422);
    });
  });

  describe('POST /v1/embeddings (OpenAI-compatible)', () => {
    it('accepts a single string and reports token usage', async () => {
      const { status, body } = await postJson(url('/v1/embeddings'), { input: 'hello world', model: 'text-embedding-3-small' });
      expect(status).toBe(200);
      expect(body.object).toBe('list');
      expect(body.model).toBe('all-MiniLM-L6-v2-synthetic');
      expect(body.data).toHaveLength(1);
      expect(body.data[0]).toMatchObject({ object: 'embedding', index: 0 });
      expect(body.data[0].embedding).toHaveLength(384);
      // [CLS] hello world [SEP]
      expect(body.usage).toEqual({ prompt_tokens: 4, total_tokens: 4 });
    });

    it('accepts an array and keeps indexes in input order', async () => {
      const input = ['first text', 'second text', 'third'];
      const { body } = await postJson(url('/v1/embeddings'), { input });
      expect(body.data.map((d: { index: number }) => d.index)).toEqual([0, 1, 2]);
      const reference = await postJson(url('/embed'), { texts: input });
      body.data.forEach((d: { embedding: number[] }, i: number) => {
        expect(cosine(d.embedding, reference.body.embeddings[i])).toBeGreaterThan(0.99999);
      });
    });

    it('returns little-endian float32 base64 when asked', async () => {
      const [asFloat, asBase64] = await Promise.all([
        postJson(url('/v1/embeddings'), { input: ['base64 check'], encoding_format: 'float' }),
        postJson(url('/v1/embeddings'), { input: ['base64 check'], encoding_format: 'base64' }),
      ]);
      const bytes = Buffer.from(asBase64.body.data[0].embedding, 'base64');
      expect(bytes.length).toBe(384 * 4);
      const decoded = Array.from({ length: 384 }, (_, i) => bytes.readFloatLE(i * 4));
      expect(decoded).toEqual(asFloat.body.data[0].embedding);
    });

    it.each([
      ['missing input', {}, 'input'],
      ['empty array', { input: [] }, 'input'],
      ['token arrays', { input: [[1, 2, 3]] }, 'input'],
      ['a number', { input: 42 }, 'input'],
      ['a non-string item', { input: ['ok', 7] }, 'input.1'],
      ['unknown encoding_format', { input: 'x', encoding_format: 'int8' }, 'encoding_format'],
      ['too many inputs', { input: Array.from({ length: 2049 }, () => 'x') }, 'input'],
    ])('answers 422 in OpenAI\'s error shape for %s', async (_name, body, param) => {
      const response = await postJson(url('/v1/embeddings'), body);
      expect(response.status).toBe(422);
      expect(response.body).toEqual({ error: { message: expect.any(String), type: 'invalid_request_error', param, code: expect.any(String) } });
      expect(response.body.error.message.startsWith(`${param}: `)).toBe(true);
    });
  });

  describe('unknown routes and methods', () => {
    it.each([
      ['GET', '/nope'],
      ['POST', '/embedding'],
    ])('%s %s answers 404 JSON', async (method, path) => {
      const response = await fetch(url(path), { method });
      expect(response.status).toBe(404);
      expect(response.headers.get('content-type')).toMatch(/application\/json/);
      expect(typeof (await readJson(response)).detail).toBe('string');
    });

    it.each([
      ['POST', '/embeddings', 'POST /v1/embeddings'],
      ['GET', '/models', 'GET /v1/models'],
      ['GET', '/models/all-MiniLM-L6-v2', 'GET /v1/models/all-MiniLM-L6-v2'],
    ])('answers %s %s, a /v1 route without its prefix, in OpenAI\'s shape with the route it meant', async (method, path, meant) => {
      const response = await fetch(url(path), { method });
      expect(response.status).toBe(404);
      const { error } = await readJson(response);
      expect(error).toMatchObject({ type: 'invalid_request_error', code: 'not_found', param: null });
      expect(error.message).toContain(`under /v1: ${meant}.`);
    });

    it('answers a model id that is not valid percent-encoding with 400, in OpenAI\'s shape', async () => {
      const response = await fetch(url('/v1/models/%zz'));
      expect(response.status).toBe(400);
      expect((await readJson(response)).error).toMatchObject({ code: 'malformed_request', type: 'invalid_request_error' });
    });

    it('answers an unknown /v1 path in OpenAI\'s shape', async () => {
      const response = await fetch(url('/v1/completions'), { method: 'POST' });
      expect(response.status).toBe(404);
      expect((await readJson(response)).error).toMatchObject({ type: 'invalid_request_error', code: 'not_found' });
    });

    it.each([
      ['GET', '/embed', 'POST'],
      ['OPTIONS', '/embed', 'POST'],
      ['PUT', '/embed/single', 'POST'],
      ['DELETE', '/health', 'GET, HEAD'],
      ['POST', '/metrics', 'GET, HEAD'],
    ])('%s %s answers 405 JSON with Allow: %s, as FastAPI does', async (method, path, allow) => {
      const response = await fetch(url(path), { method });
      expect(response.status).toBe(405);
      expect(response.headers.get('allow')).toBe(allow);
      expect(response.headers.get('content-type')).toMatch(/application\/json/);
      expect(await readJson(response)).toEqual({ detail: 'Method Not Allowed' });
    });

    it('answers a wrong method on /v1 in OpenAI\'s shape', async () => {
      const response = await fetch(url('/v1/embeddings'), { method: 'GET' });
      expect(response.status).toBe(405);
      expect((await readJson(response)).error).toMatchObject({ message: 'Method Not Allowed', code: 'method_not_allowed' });
    });
  });

  describe('request logs', () => {
    it('logs each request with status, duration and stage timings', async () => {
      await postJson(url('/embed'), { texts: ['log me'] });
      const entry = server.logs.entries.filter((e) => e.message === 'request' && e.path === '/embed' && e.status === 200).pop();
      expect(entry).toMatchObject({ method: 'POST', texts: 1 });
      for (const field of ['duration_ms', 'tokenize_ms', 'queue_ms', 'inference_ms']) expect(typeof entry?.[field]).toBe('number');
    });
  });
});

describe('GET /metrics', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ EMBEDDING_MODEL_DIR: await fullModelDir(), EMBEDDING_CACHE_ENTRIES: '100' });
  });
  afterAll(() => server.stop());

  it('exposes request, batch, token and cache metrics in Prometheus text format', async () => {
    await postJson(`${server.url}/embed`, { texts: ['metrics one', 'metrics two'] });
    await postJson(`${server.url}/embed`, { texts: ['metrics one'] });
    const response = await fetch(`${server.url}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/text\/plain/);
    const text = await response.text();
    expect(text).toMatch(/^embedding_texts_total 3$/m);
    expect(text).toMatch(/^embedding_cache_hits_total 1$/m);
    expect(text).toMatch(/^embedding_cache_misses_total 2$/m);
    expect(text).toMatch(/^embedding_batch_size_count \d+$/m);
    expect(text).toMatch(/^embedding_http_request_duration_seconds_count\{method="POST",route="\/embed",status="200"\} 2$/m);
    expect(text).toMatch(/^embedding_queued_texts 0$/m);
  });
});
