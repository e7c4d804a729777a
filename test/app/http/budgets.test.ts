import zlib from 'node:zlib';
import { metricValue, waitForMetric } from '../support/metrics';
import { fullModelDir, smallModelDir } from '../support/models';
import { holdConnection, parseResponse, rawRequest, type HeldConnection } from '../support/raw-http';
import { postJson, readJson, startTestServer, type TestServer } from '../support/server';

const MiB = 1024 * 1024;
/** A wait bound far above what these requests need: the tests are about budgets, not about shedding by the queue. */
const QUEUE_WAIT = '60000';
/** Bounds a wait the test expects to end: resolves false if it does not within `ms`. */
async function within(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([promise.then(() => true), expired]);
  } finally {
    clearTimeout(timer);
  }
}
const requestHead = (path: string, length: number, extra = '') =>
  `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${length}\r\n${extra}\r\n`;

/**
 * Shared budgets that no few connections can hold hostage (issue 20): each is charged by what a
 * request really holds and given back when the request ends, however it ends, over real sockets.
 */
describe('shared budgets', () => {
  let modelDir: string;
  /** Where the size of a response does not matter: the 2-layer model, for speed. */
  let smallDir: string;
  const held: HeldConnection[] = [];
  beforeAll(async () => {
    modelDir = await fullModelDir();
    smallDir = await smallModelDir();
  });
  afterEach(() => {
    for (const connection of held.splice(0)) connection.destroy();
  });
  const hold = async (port: number, chunks: Array<string | Buffer>) => {
    const connection = await holdConnection(port, chunks);
    held.push(connection);
    return connection;
  };

  describe('request bodies', () => {
    let server: TestServer;
    beforeAll(async () => {
      server = await startTestServer({ EMBEDDING_MODEL_DIR: smallDir, MAX_QUEUE_WAIT_MS: QUEUE_WAIT, MAX_BODY_BYTES: String(2 * MiB), MAX_INFLIGHT_BODY_BYTES: String(3 * MiB), REQUEST_TIMEOUT_MS: '1500', LOG_LEVEL: 'info' });
    });
    afterAll(() => server.stop());

    it('holds nothing for connections that announce bodies and send none: a normal request is read and answered', async () => {
      // Between them they announce more than the 3 MiB budget.
      for (let i = 0; i < 3; i++) await hold(server.port, [requestHead('/embed', 1.5 * MiB)]);
      expect(await waitForMetric(server.url, 'embedding_http_requests_in_flight', (n) => n >= 4)).toBeGreaterThanOrEqual(4); // three and the scrape
      const normal = await postJson(`${server.url}/embed`, { texts: ['a normal request'] });
      expect(normal.status).toBe(200);
    });

    it('returns a stalled body\'s bytes when it is answered 408, and closes its connection although the client keeps its side open', async () => {
      const sent = 1.9 * MiB;
      const stalled = await hold(server.port, [requestHead('/embed', 2 * MiB), `{"texts": ["${'x'.repeat(sent)}`]);
      expect(await waitForMetric(server.url, 'embedding_http_body_bytes_held', (bytes) => bytes >= sent)).toBeGreaterThanOrEqual(sent);
      // What it holds leaves too little of the 3 MiB for another 1.5 MiB: refused unread (only its headers are sent).
      const refused = await rawRequest(server.port, [requestHead('/embed', 1.5 * MiB, 'Connection: close\r\n')], 5000);
      expect(refused.status).toBe(503);

      expect(await within(stalled.serverClosed, 10_000)).toBe(true);
      expect(parseResponse(stalled.received()).status).toBe(408);
      // The client still holds its half: the request is over for the server all the same.
      expect(await waitForMetric(server.url, 'embedding_http_requests_in_flight', (n) => n === 1)).toBe(1);
      expect(metricValue(await (await fetch(`${server.url}/metrics`)).text(), 'embedding_http_body_bytes_held')).toBe(0);
      const again = await postJson(`${server.url}/embed`, { texts: ['y'.repeat(MiB)] });
      expect(again.status).toBe(200);
    });
  });

  it('does not hold the shutdown drain for a request answered 408 whose client keeps its side open', async () => {
    const server = await startTestServer({ EMBEDDING_MODEL_DIR: smallDir, MAX_QUEUE_WAIT_MS: QUEUE_WAIT, REQUEST_TIMEOUT_MS: '1000', SHUTDOWN_GRACE_MS: '3000', LOG_LEVEL: 'info' });
    try {
      const stalled = await hold(server.port, [requestHead('/embed', 1000), '{"texts": ["stalls']);
      expect(await within(stalled.serverClosed, 10_000)).toBe(true);
      expect(parseResponse(stalled.received()).status).toBe(408);
    } finally {
      await server.stop();
    }
    // Nothing was left in flight: the drain ended before its grace, with nothing to answer 503.
    expect(server.logs.entries.filter((e) => e.message === 'shutdown grace period over; answering unfinished requests with 503')).toEqual([]);
  });

  describe('compressed and nested bodies', () => {
    let server: TestServer;
    beforeAll(async () => {
      server = await startTestServer({ EMBEDDING_MODEL_DIR: smallDir, MAX_QUEUE_WAIT_MS: QUEUE_WAIT, MAX_BODY_BYTES: String(2 * MiB), LOG_LEVEL: 'info' });
    });
    afterAll(() => server.stop());

    const postCompressed = (path: string, bytes: Buffer) =>
      fetch(`${server.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' }, body: bytes });

    it('refuses a body nested deeper than any schema before parsing it, compressed or not', async () => {
      const nested = `{"texts": ${'['.repeat(100_000)}${']'.repeat(100_000)}}`; // valid JSON, 100,000 levels
      for (const response of [await postCompressed('/embed', zlib.gzipSync(nested)), await postJson(`${server.url}/embed`, nested)]) {
        expect(response.status).toBe(400);
        const body = response instanceof Response ? await readJson(response) : response.body;
        expect(body).toEqual({ detail: 'request body is nested deeper than 16 levels' });
      }
      // A 2 KB gzip body that inflates to 2 MB of brackets: the same answer, in OpenAI's shape under /v1.
      const bomb = zlib.gzipSync(Buffer.alloc(2 * MiB - 16, '['));
      expect(bomb.length).toBeLessThan(4096);
      const response = await postCompressed('/v1/embeddings', bomb);
      expect(response.status).toBe(400);
      expect((await readJson(response)).error).toMatchObject({ code: 'malformed_request', message: expect.stringMatching(/nested deeper/) });
    });

    it('stops inflating at the limit and says the limit in the 413', async () => {
      const inflatesTooFar = zlib.gzipSync(JSON.stringify({ texts: ['x'.repeat(3 * MiB)] }));
      const response = await postCompressed('/embed', inflatesTooFar);
      expect(response.status).toBe(413);
      expect(await response.json()).toEqual({ detail: `request body is larger than the limit of ${2 * MiB} bytes (MAX_BODY_BYTES) once decompressed` });
      const plain = await postJson(`${server.url}/embed`, { texts: ['x'.repeat(2 * MiB)] });
      expect(plain).toMatchObject({ status: 413, body: { detail: `request body is larger than the limit of ${2 * MiB} bytes (MAX_BODY_BYTES)` } });
    });

    it('still accepts the largest bodies the schemas allow, compressed', async () => {
      const embed = { texts: Array.from({ length: 100 }, (_, i) => `${i} ${'word '.repeat(3500)}`) }; // 100 texts, about 1.75 MB
      expect(JSON.stringify(embed).length).toBeGreaterThan(1.5 * MiB);
      expect((await postCompressed('/embed', zlib.gzipSync(JSON.stringify(embed)))).status).toBe(200);
      const openAi = { input: Array.from({ length: 2048 }, (_, i) => `input ${i}`), encoding_format: 'base64' };
      const response = await postCompressed('/v1/embeddings', zlib.gzipSync(JSON.stringify(openAi)));
      expect(response.status).toBe(200);
      expect((await readJson(response)).data).toHaveLength(2048);
      // Token ids, three levels deep, still get their own explanation (422), not the depth refusal.
      const tokenIds = await postJson(`${server.url}/v1/embeddings`, { input: [[9906, 1917]] });
      expect(tokenIds.status).toBe(422);
    });
  });

  describe('responses', () => {
    // The window in which the unread response holds its bytes: long enough for the test to look at
    // the budget and be refused inside it on a busy machine (with 1 s, a slow /metrics poll missed
    // the whole window under a load average of 5).
    const WRITE_TIMEOUT_MS = 5000;
    let server: TestServer;
    beforeAll(async () => {
      // A budget below one 16 MB response: while one is held, nothing else may start.
      server = await startTestServer({ EMBEDDING_MODEL_DIR: modelDir, MAX_QUEUE_WAIT_MS: QUEUE_WAIT, MAX_INFLIGHT_RESPONSE_BYTES: String(MiB), RESPONSE_WRITE_TIMEOUT_MS: String(WRITE_TIMEOUT_MS), LOG_LEVEL: 'info' });
    });
    afterAll(() => server.stop());

    it('cuts a response its client does not read within the write timeout, refusing new work while its bytes are held', async () => {
      // 2,048 empty strings: an 8 KB request, a 16 MB response.
      const body = JSON.stringify({ input: Array.from({ length: 2048 }, () => ''), encoding_format: 'float' });
      const reader = await hold(server.port, [requestHead('/v1/embeddings', Buffer.byteLength(body)), body]);
      reader.pause();
      // It holds its 2,048 vectors (3 MiB) while it is written: over the whole budget.
      // Bounded by the 2,048 texts' inference first, which takes over 10 s when the machine is busy.
      expect(await waitForMetric(server.url, 'embedding_http_response_bytes_held', (bytes) => bytes >= 3 * MiB, 90_000)).toBe(2048 * 384 * 4);
      const refused = await postJson(`${server.url}/embed`, { texts: ['while the big one is held'] });
      expect(refused.status).toBe(503);
      expect(refused.body.detail).toMatch(/responses are waiting/);

      expect(await waitForMetric(server.url, 'embedding_http_response_write_timeouts_total', (n) => n >= 1, 2 * WRITE_TIMEOUT_MS + 10_000)).toBe(1);
      reader.resume();
      expect(await within(reader.serverClosed, 10_000)).toBe(true);
      expect(parseResponse(reader.received())).toMatchObject({ status: 200, complete: false }); // cut, not completed
      expect(metricValue(await (await fetch(`${server.url}/metrics`)).text(), 'embedding_http_response_bytes_held')).toBe(0);
      expect((await postJson(`${server.url}/embed`, { texts: ['after'] })).status).toBe(200);
    });
  });

  describe('connections', () => {
    let server: TestServer;
    beforeAll(async () => {
      server = await startTestServer({ EMBEDDING_MODEL_DIR: smallDir, MAX_QUEUE_WAIT_MS: QUEUE_WAIT, MAX_CONNECTIONS: '4', LOG_LEVEL: 'info' });
    });
    afterAll(() => server.stop());

    it('caps open connections, counting what it drops, and closes idle keep-alive connections to make room', async () => {
      const idle = await Promise.all(Array.from({ length: 4 }, () => hold(server.port, ['GET /health HTTP/1.1\r\nHost: x\r\n\r\n'])));
      const answered = async (connection: HeldConnection) => {
        while (parseResponse(connection.received()).status === undefined) await new Promise((resolve) => setTimeout(resolve, 10));
      };
      expect(await within(Promise.all(idle.map(answered)), 10_000)).toBe(true);
      // All four are open and idle: a fifth is closed unread, which closes the idle ones.
      const fifth = await rawRequest(server.port, ['GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'], 5000);
      expect(fifth.status).toBeUndefined();
      expect(await within(Promise.all(idle.map((c) => c.serverClosed)), 10_000)).toBe(true);
      const metrics = await (await fetch(`${server.url}/metrics`)).text();
      expect(metricValue(metrics, 'embedding_http_dropped_connections_total')).toBe(1);
      expect(metricValue(metrics, 'embedding_http_open_connections')).toBe(1); // this scrape's
    });
  });
});
