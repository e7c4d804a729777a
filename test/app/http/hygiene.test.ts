import zlib from 'node:zlib';
import {
  embedResponseSchema,
  healthResponseSchema,
  modelListSchema,
  openAiResponseSchema,
  singleResponseSchema,
} from '../../../app/http/schemas';
import { fullModelDir } from '../support/models';
import { waitForMetric } from '../support/metrics';
import { holdConnection, rawRequest } from '../support/raw-http';
import { postJson, readJson, startTestServer, type TestServer } from '../support/server';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** What a hostile or careless client sees: JSON for every error, no 500 for its own mistakes, no hanging connections. */
describe('HTTP hygiene', () => {
  let server: TestServer;
  const url = (path: string) => `${server.url}${path}`;
  const requestLines = () => server.logs.entries.filter((e) => e.message === 'request' || e.message === 'client error');

  beforeAll(async () => {
    server = await startTestServer({
      EMBEDDING_MODEL_DIR: await fullModelDir(),
      REQUEST_TIMEOUT_MS: '1500',
      MAX_BODY_BYTES: String(2 * 1024 * 1024),
      MAX_INFLIGHT_BODY_BYTES: String(3 * 1024 * 1024),
      // A wait bound far above what these requests need: the tests here are about the HTTP edge, not shedding.
      MAX_QUEUE_WAIT_MS: '60000',
      LOG_LEVEL: 'info',
    });
  });
  afterAll(() => server.stop());

  describe('the HTTP parser\'s own refusals are JSON', () => {
    it.each([
      ['a malformed request line', 'GARBAGE / NOT-HTTP\r\n\r\n', 400],
      ['a bad header', 'GET /health HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n', 400],
      ['invalid chunked encoding', 'POST /embed HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n', 400],
      ['headers over 16 KiB', `GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`, 431],
      ['an HTTP/1.1 request without Host', 'GET /health HTTP/1.1\r\n\r\n', 400],
      ['an HTTP/2 preface (prior knowledge)', 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 400],
    ])('%s is answered with its status and a JSON body', async (_name, payload, status) => {
      const response = await rawRequest(server.port, [payload]);
      expect(response.status).toBe(status);
      expect(response.headers['content-type']).toMatch(/application\/json/);
      expect(JSON.parse(response.body)).toEqual({ detail: expect.any(String) });
      expect(response.closed).toBe(true);
    });

    it('answers CONNECT with 405 JSON and closes the connection: this is not a proxy', async () => {
      const response = await rawRequest(server.port, ['CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n']);
      expect(response.status).toBe(405);
      expect(JSON.parse(response.body)).toEqual({ detail: expect.stringMatching(/not a proxy/) });
      expect(response.closed).toBe(true);
    });

    it('answers an unsupported Expect header with 417 JSON', async () => {
      const response = await rawRequest(server.port, ['POST /v1/embeddings HTTP/1.1\r\nHost: x\r\nExpect: something-else\r\nContent-Length: 0\r\n\r\n'], 2000);
      expect(response.status).toBe(417);
      expect(JSON.parse(response.body).error).toMatchObject({ code: 'expectation_failed' });
    });

    it('closes a connection whose body never finishes with 408 JSON after REQUEST_TIMEOUT_MS', async () => {
      const response = await rawRequest(
        server.port,
        ['POST /embed HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"texts": ["slow'],
        8000,
      );
      expect(response.status).toBe(408);
      expect(JSON.parse(response.body)).toEqual({ detail: 'the request was not received in time' });
      expect(response.closed).toBe(true);
      expect(response.ms).toBeLessThan(4000);
      await sleep(50);
      expect(requestLines().filter((e) => e.status === 408)).toEqual([expect.objectContaining({ path: '/embed', level: 'warn' })]);
    });
  });

  describe('compressed bodies', () => {
    const body = JSON.stringify({ texts: ['compressed text'] });
    it.each([
      ['gzip', zlib.gzipSync(body)],
      ['deflate', zlib.deflateSync(body)],
      ['br', zlib.brotliCompressSync(body)],
    ])('accepts a valid %s body', async (encoding, bytes) => {
      const response = await fetch(url('/embed'), { method: 'POST', headers: { 'content-type': 'application/json', 'content-encoding': encoding }, body: bytes });
      expect(response.status).toBe(200);
    });

    it.each([
      ['gzip', Buffer.from('definitely not gzip')],
      ['gzip', zlib.gzipSync(body).subarray(0, 20)],
      ['deflate', Buffer.from('not deflate either')],
      ['br', Buffer.from('nor brotli, whatever it is')],
    ])('answers a corrupt %s body with 400 JSON, logged at warn, never 500', async (encoding, bytes) => {
      const response = await fetch(url('/v1/embeddings'), { method: 'POST', headers: { 'content-type': 'application/json', 'content-encoding': encoding }, body: bytes });
      expect(response.status).toBe(400);
      expect((await readJson(response)).error).toMatchObject({ code: 'malformed_request', message: expect.stringMatching(/could not be decompressed/) });
      expect(server.logs.entries.some((e) => e.message === 'request failed')).toBe(false);
    });
  });

  it('logs a caller that hangs up as 499 at info, never as an error', async () => {
    const texts = Array.from({ length: 100 }, (_, i) => `a text long enough to take a while to embed, number ${i} `.repeat(4));
    const controller = new AbortController();
    const pending = fetch(url('/embed'), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ texts }), signal: controller.signal }).catch(() => undefined);
    await sleep(100);
    controller.abort();
    await pending;
    await sleep(300);
    const line = requestLines().find((e) => e.path === '/embed' && e.status === 499);
    expect(line).toMatchObject({ level: 'info' });
    expect(server.logs.entries.filter((e) => e.level === 'error')).toEqual([]);
    const metrics = await (await fetch(url('/metrics'))).text();
    expect(metrics).toMatch(/embedding_http_request_duration_seconds_count\{method="POST",route="\/embed",status="499"\} 1/);
  });

  it('refuses a body that would exceed MAX_INFLIGHT_BODY_BYTES with 503 + Retry-After before reading it', async () => {
    const length = 2 * 1024 * 1024 - 100;
    // A first upload that has sent most of its body, then stalls, holds those bytes of the 3 MiB budget.
    const head = `POST /embed HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${length}\r\n\r\n`;
    const stalled = await holdConnection(server.port, [head, `{"texts": ["${'x'.repeat(length - 1000)}`]);
    try {
      expect(await waitForMetric(server.url, 'embedding_http_body_bytes_held', (bytes) => bytes >= length - 1000)).toBeGreaterThanOrEqual(length - 1000);
      const second = await rawRequest(server.port, [head.replace('\r\n\r\n', '\r\nConnection: close\r\n\r\n')], 5000);
      expect(second.status).toBe(503); // answered while its body was never sent: refused unread
      expect(second.headers['retry-after']).toBe('1');
      expect(JSON.parse(second.body).detail).toMatch(/request bodies/);
    } finally {
      stalled.destroy();
    }
    // Once the stalled one is gone, a body of the same size is read again.
    expect(await waitForMetric(server.url, 'embedding_http_body_bytes_held', (bytes) => bytes === 0)).toBe(0);
    const ok = await postJson(url('/embed'), { texts: ['x'.repeat(1024 * 1024)] });
    expect(ok.status).toBe(200);
  });

  describe('GET /openapi.json', () => {
    it('documents the served paths and methods (the 405 answers agree), with the configured limits', async () => {
      const response = await fetch(url('/openapi.json'));
      expect(response.status).toBe(200);
      const doc = await readJson(response);
      expect(doc.openapi).toBe('3.1.0');
      const documented = Object.entries(doc.paths as Record<string, object>).map(([path, ops]) => [path, Object.keys(ops).map((m) => m.toUpperCase())] as const);
      expect(documented.map(([path]) => path).sort()).toEqual(['/embed', '/embed/single', '/health', '/metrics', '/openapi.json', '/v1/embeddings', '/v1/models', '/v1/models/{id}']);
      for (const [path, methods] of documented) {
        const refused = await fetch(url(path.replace('{id}', 'all-MiniLM-L6-v2')), { method: 'PATCH' });
        expect({ path, status: refused.status, allow: refused.headers.get('allow') }).toEqual({ path, status: 405, allow: [...methods, ...(methods.includes('GET') ? ['HEAD'] : [])].join(', ') });
      }
      const embed = doc.paths['/embed'].post.requestBody.content['application/json'].schema;
      expect(embed.properties.texts).toMatchObject({ type: 'array', maxItems: 100, minItems: 1 });
      const openAi = doc.paths['/v1/embeddings'].post.requestBody.content['application/json'].schema;
      expect(openAi.properties.input.anyOf[1]).toMatchObject({ maxItems: 2048 });
      expect(openAi.properties.encoding_format).toMatchObject({ enum: ['float', 'base64'], default: 'float' });
      expect(openAi.required).toEqual(['input']);
    });

    it('describes what the routes really answer', async () => {
      expect(embedResponseSchema.safeParse((await postJson(url('/embed'), { texts: ['a'] })).body).success).toBe(true);
      expect(singleResponseSchema.safeParse(await readJson(await fetch(url('/embed/single?text=a'), { method: 'POST' }))).success).toBe(true);
      expect(openAiResponseSchema.safeParse((await postJson(url('/v1/embeddings'), { input: ['a'], encoding_format: 'base64' })).body).success).toBe(true);
      expect(modelListSchema.safeParse(await readJson(await fetch(url('/v1/models')))).success).toBe(true);
      expect(healthResponseSchema.safeParse(await readJson(await fetch(url('/health')))).success).toBe(true);
    });
  });
});
