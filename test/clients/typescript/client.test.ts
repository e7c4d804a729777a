import { context, propagation, ROOT_CONTEXT, trace, TraceFlags } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator, TraceState } from '@opentelemetry/core';
import { createEmbeddingClient, EmbeddingRequestError, EmbeddingServiceUnavailableError, type ClientLogger, type EmbeddingClient } from '../../../clients/typescript';
import { ServiceProcess } from '../../app/support/child';
import { fullModelDir } from '../../app/support/models';
import { attributeOf, callerContext, SPAN_KIND_SERVER, startOtlpReceiver } from '../../app/support/otlp-receiver';
import { postJson } from '../../app/support/server';
import { relay, startStubServer } from '../../app/support/stub-server';

/** Acceptance tests of the TypeScript client against the real service (`node dist/app/main.js`) on loopback. */

const texts = (n: number, tag = 'text') => Array.from({ length: n }, (_, i) => `${tag} ${i}: jazz night, farmers market, book club number ${i}`);

function recordingLogger() {
  const lines: Array<{ level: 'warn' | 'info'; message: string; fields?: Record<string, unknown>; at: number }> = [];
  const logger: ClientLogger = {
    warn: (message, fields) => lines.push({ level: 'warn', message, fields, at: Date.now() }),
    info: (message, fields) => lines.push({ level: 'info', message, fields, at: Date.now() }),
  };
  return { logger, lines, count: (level: 'warn' | 'info') => lines.filter((l) => l.level === level).length };
}

async function startService(env: Record<string, string> = {}): Promise<{ service: ServiceProcess; url: string; port: number }> {
  const service = new ServiceProcess({ EMBEDDING_MODEL_DIR: await fullModelDir(), ...env });
  await service.waitHealthy();
  const port = await service.port();
  return { service, url: `http://127.0.0.1:${port}`, port };
}

async function stop(service: ServiceProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  service.kill(signal);
  await service.exited;
}

/** The service's own answer for these texts, one request per `perRequest` texts. */
async function serviceVectors(url: string, input: string[], perRequest = 100): Promise<number[][]> {
  const vectors: number[][] = [];
  for (let i = 0; i < input.length; i += perRequest) {
    const { status, body } = await postJson(`${url}/embed`, { texts: input.slice(i, i + perRequest) });
    expect(status).toBe(200);
    vectors.push(...(body.embeddings as number[][]));
  }
  return vectors;
}

const asArrays = (vectors: Float32Array[]) => vectors.map((v) => Array.from(v));
const float32 = (vectors: number[][]) => vectors.map((v) => Array.from(Float32Array.from(v)));
const maxDifference = (a: Float32Array[], b: number[][]) => Math.max(...a.flatMap((v, i) => Array.from(v, (x, j) => Math.abs(x - (b[i]![j] as number)))));
/** Waits (bounded) until the service has logged `count` POST /embed requests: it logs each as its response closes. */
async function loggedEmbeds(service: ServiceProcess, count: number): Promise<number> {
  const logged = () => service.logs.filter((e) => e.message === 'request' && e.path === '/embed').length;
  const deadline = Date.now() + 5000;
  while (logged() < count && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
  return logged();
}

/**
 * Sits in front of the real service, relaying every request and keeping what each POST /embed carried,
 * the vector answered for each text, and how many requests were open at once. A POST /embed is held
 * (up to 500 ms) until `gather` are open, so a client that keeps two in flight is seen doing it.
 */
async function countingRelay(target: string, gather = 0) {
  let open = 0;
  let maxOpen = 0;
  const waiting: Array<() => void> = [];
  const answered = new Map<string, number[]>();
  const served: string[][] = []; // the texts of each POST /embed answered 200, in the order answered
  const stub = await startStubServer(async (request, _index, res) => {
    if (request.path !== '/embed') return relay(request, target, res);
    open++;
    maxOpen = Math.max(maxOpen, open);
    waiting.splice(0).forEach((wake) => wake());
    if (open < gather) await new Promise<void>((resolve) => (waiting.push(resolve), setTimeout(resolve, 500)));
    let status: number;
    let body: string;
    let retryAfter: string | null;
    try {
      const response = await fetch(`${target}/embed`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: request.body });
      status = response.status;
      retryAfter = response.headers.get('retry-after');
      body = await response.text();
    } finally {
      open--; // before the client hears back, so its next request is not counted with this one
    }
    if (status === 200) {
      const texts = (JSON.parse(request.body) as { texts: string[] }).texts;
      served.push(texts);
      (JSON.parse(body) as { embeddings: number[][] }).embeddings.forEach((vector, i) => answered.set(texts[i] as string, vector));
    }
    res.writeHead(status, { 'content-type': 'application/json', ...(retryAfter ? { 'retry-after': retryAfter } : {}) }).end(body);
  });
  const embedBodies = () => stub.requests.filter((r) => r.path === '/embed').map((r) => (JSON.parse(r.body) as { texts: string[] }).texts);
  return { url: stub.url, embedBodies, servedBodies: () => [...served], embedSizes: () => embedBodies().map((b) => b.length), answered, maxOpen: () => maxOpen, close: stub.close };
}

/** Event texts as the callers' RAG service writes them for embedding: 150 to about 1,500 characters (up to and past 256 tokens). */
const SENTENCES = [
  'Join us for songs, rhymes and stories that build early literacy skills.',
  'Local musicians play standards and new work; bring a blanket and a picnic.',
  'Over forty vendors sell fresh produce, bread, cheese, honey and flowers.',
  'Students build and program robots in small teams guided by volunteer engineers.',
  'A gentle class focused on balance, breathing and flexibility; chairs are available.',
];
const eventText = (i: number) =>
  `Event #${i} ${Array.from({ length: 1 + (i % 19) }, (_, k) => SENTENCES[(i + k) % SENTENCES.length]).join(' ')} Newton Free Library, Newton MA Saturday 10:30 AM all ages family friendly`;

describe('TypeScript embedding client', () => {
  const clients: EmbeddingClient[] = [];
  const client = (options: Parameters<typeof createEmbeddingClient>[0]) => {
    const created = createEmbeddingClient(options);
    clients.push(created);
    return created;
  };
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
  });

  describe('with the service up', () => {
    let up: Awaited<ReturnType<typeof startService>>;
    let counter: Awaited<ReturnType<typeof countingRelay>>;
    beforeAll(async () => {
      // Admission's queue-wait bound is tested in test/app: a busy test machine must not decide whether these requests are admitted.
      up = await startService({ MAX_QUEUE_WAIT_MS: '60000' });
    });
    afterAll(() => stop(up.service, 'SIGKILL'));
    beforeEach(async () => {
      counter = await countingRelay(up.url); // counts what reaches the service, keeps what it answered
    });
    afterEach(() => counter.close());

    it('returns the service\'s vectors, for a list and for one text', async () => {
      const log = recordingLogger();
      const c = client({ url: up.url, fallback: { modelDir: await fullModelDir() }, logger: log.logger });
      const input = texts(5, 'normal');
      expect(asArrays(await c.embed(input))).toEqual(float32(await serviceVectors(up.url, input)));
      expect(Array.from(await c.embedOne(input[0]!))).toEqual(float32(await serviceVectors(up.url, [input[0]!]))[0]);
      expect(await c.embed([])).toEqual([]);
      expect(c.mode).toBe('service');
      expect(log.lines).toEqual([]);
    });

    it('splits 250 short texts into requests of 100, 100 and 50 and keeps their order, without falling back', async () => {
      const log = recordingLogger();
      const c = client({ url: counter.url, maxBatchChars: 1_000_000, fallback: { modelDir: await fullModelDir() }, logger: log.logger });
      const input = texts(250, 'bulk');
      const vectors = await c.embed(input);
      expect(counter.embedSizes()).toEqual([100, 100, 50]);
      expect(asArrays(vectors)).toEqual(float32(input.map((text) => counter.answered.get(text) as number[])));
      expect(c.mode).toBe('service');
      expect(log.lines).toEqual([]);
    });

    it('raises a 422 as the caller\'s error and never switches to the local model', async () => {
      const log = recordingLogger();
      // 101 texts per request is over the service's MAX_TEXTS_PER_REQUEST (100).
      const c = client({ url: counter.url, maxBatch: 101, maxBatchChars: 1_000_000, fallback: { modelDir: await fullModelDir() }, logger: log.logger });
      const failure = await c.embed(texts(101, 'too many')).catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(EmbeddingRequestError);
      expect((failure as EmbeddingRequestError).status).toBe(422);
      expect(c.mode).toBe('service');
      expect(log.lines).toEqual([]);
      await c.embed(['still served by the service']);
      expect(counter.embedSizes()).toEqual([101, 1]);
    });

    it('sends a bulk call in requests sized by their characters, texts of similar length together, two in flight, vectors in input order', async () => {
      const gathering = await countingRelay(up.url, 2);
      try {
        const log = recordingLogger();
        const c = client({ url: gathering.url, fallback: { modelDir: await fullModelDir() }, logger: log.logger });
        const input = Array.from({ length: 250 }, (_, i) => eventText(i));
        const vectors = await c.embed(input);
        expect(asArrays(vectors)).toEqual(float32(input.map((text) => gathering.answered.get(text) as number[])));
        const sent = gathering.servedBodies().flat();
        expect([...sent].sort()).toEqual([...input].sort()); // each text sent once
        // Requests hold texts of similar length (the service pads a batch to its longest), as many as fit.
        const span = (body: string[]) => [Math.min(...body.map((t) => t.length)), Math.max(...body.map((t) => t.length))] as const;
        const bodies = gathering.servedBodies().sort((a, b) => span(a)[0] - span(b)[0] || span(a)[1] - span(b)[1]);
        const lengths = bodies.flatMap((body) => body.map((t) => t.length).sort((a, b) => a - b));
        expect(lengths).toEqual([...lengths].sort((a, b) => a - b));
        const chars = (body: string[]) => body.reduce((sum, text) => sum + Math.min(text.length, 1200), 0);
        bodies.forEach((body, i) => {
          expect(body.length).toBeLessThanOrEqual(100);
          expect(chars(body)).toBeLessThanOrEqual(2000); // the default: 200 characters per second of the 10 s timeout
          const following = bodies[i + 1];
          if (following) expect(body.length === 100 || chars(body) + Math.min(following[0]!.length, 1200) > 2000).toBe(true);
        });
        expect(gathering.maxOpen()).toBe(2);
        expect(c.mode).toBe('service');
        expect(log.lines).toEqual([]);
      } finally {
        await gathering.close();
      }
    });

    it('refuses a non-string text with the service\'s own 422 before sending anything, and sends nothing for no texts', async () => {
      const { status, body } = await postJson(`${up.url}/embed`, { texts: ['ok', 5] });
      const c = client({ url: counter.url, logger: recordingLogger().logger });
      const failure = await c.embed(['ok', 5 as unknown as string]).catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(EmbeddingRequestError);
      expect(failure).toMatchObject({ status, detail: body.detail });
      await expect(c.embed('jazz' as unknown as string[])).rejects.toMatchObject({ status: 422 });
      expect(await c.embed([])).toEqual([]);
      expect(counter.embedSizes()).toEqual([]);
    });

    it('after a "busy" answer, sends nothing new until the refused request has been served', async () => {
      const input = texts(8, 'busy');
      let refused = false;
      let secondArrived: () => void = () => {};
      const second = new Promise<void>((resolve) => (secondArrived = resolve));
      const stub = await startStubServer(async (request, _index, res) => {
        if (!refused && request.body.includes(input[0]!)) {
          refused = true;
          await Promise.race([second, new Promise((resolve) => setTimeout(resolve, 5000))]); // both requests are out when the busy answer comes back
          res.writeHead(503, { 'content-type': 'application/json', 'retry-after': '1' }).end('{"detail":"server is at capacity"}');
          return;
        }
        if (request.body.includes(input[2]!) && stub.requests.filter((r) => r.body.includes(input[2]!)).length === 1) {
          secondArrived();
          await new Promise((resolve) => setTimeout(resolve, 500)); // answered once the client has read the busy answer
        }
        await relay(request, up.url, res);
      });
      try {
        const c = client({ url: stub.url, maxBatch: 2, logger: recordingLogger().logger });
        expect(maxDifference(await c.embed(input), await serviceVectors(up.url, input, 2))).toBeLessThan(1e-5);
        const firstTexts = stub.requests.map((r) => (JSON.parse(r.body) as { texts: string[] }).texts[0]);
        // The first two requests go together (either may arrive first); after the first is refused, nothing
        // new is sent until its retry has been served, then the next two go together again.
        expect(new Set(firstTexts.slice(0, 2))).toEqual(new Set([input[0], input[2]]));
        expect(firstTexts[2]).toBe(input[0]);
        expect(new Set(firstTexts.slice(3, 5))).toEqual(new Set([input[4], input[6]]));
      } finally {
        await stub.close();
      }
    });

    it('retries a 503 after its Retry-After, then returns the service\'s vectors', async () => {
      const stub = await startStubServer(async (request, index, res) => {
        if (index === 0) {
          res.writeHead(503, { 'content-type': 'application/json', 'retry-after': '1' }).end('{"detail":"model is loading"}');
          return;
        }
        await relay(request, up.url, res);
      });
      try {
        const log = recordingLogger();
        const c = client({ url: stub.url, fallback: { modelDir: await fullModelDir() }, logger: log.logger });
        const input = texts(3, 'retry');
        expect(asArrays(await c.embed(input))).toEqual(float32(await serviceVectors(up.url, input)));
        expect(stub.requests).toHaveLength(2);
        expect(stub.requests[1]!.at - stub.requests[0]!.at).toBeGreaterThanOrEqual(1000);
        expect(c.mode).toBe('service');
        expect(log.lines).toEqual([]);
      } finally {
        await stub.close();
      }
    });
  });

  it('falls back to the local pipeline (same vectors) while the service is stopped, and returns to the service within the recheck interval', async () => {
    const first = await startService();
    const log = recordingLogger();
    const recheckIntervalMs = 1500;
    const c = client({ url: first.url, recheckIntervalMs, timeoutMs: 3000, fallback: { modelDir: await fullModelDir() }, logger: log.logger });
    const input = texts(4, 'outage');
    const fromService = await serviceVectors(first.url, input);
    expect(asArrays(await c.embed(input))).toEqual(float32(fromService));

    await stop(first.service);
    for (let call = 0; call < 5; call++) {
      const vectors = await c.embed(input);
      expect(maxDifference(vectors, fromService)).toBeLessThan(1e-5); // this project's pipeline, in-process
    }
    expect(c.mode).toBe('local');
    expect(log.count('warn')).toBe(1); // the switch, once: not once per call

    const second = await startService({ PORT: String(first.port) });
    try {
      const back = Date.now();
      while (c.mode === 'local' && Date.now() - back < recheckIntervalMs + 3000) {
        await c.embed(input);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(c.mode).toBe('service');
      expect(Date.now() - back).toBeLessThanOrEqual(recheckIntervalMs + 1000);
      expect(asArrays(await c.embed(input))).toEqual(float32(fromService));
      expect(await loggedEmbeds(second.service, 1)).toBeGreaterThanOrEqual(1); // served by the restarted service
      expect(log.lines.map((l) => l.level)).toEqual(['warn', 'info']);
    } finally {
      await stop(second.service, 'SIGKILL');
    }
  });

  it('loses no call when the service is killed while 8 tasks are calling it', async () => {
    const up = await startService();
    const log = recordingLogger();
    const c = client({ url: up.url, timeoutMs: 3000, recheckIntervalMs: 60_000, fallback: { modelDir: await fullModelDir() }, logger: log.logger });
    let completed = 0;
    let failed = 0;
    const task = async (id: number) => {
      for (let call = 0; call < 30; call++) {
        try {
          const vectors = await c.embed(texts(3, `task ${id} call ${call}`));
          if (vectors.length !== 3 || vectors.some((v) => v.length !== 384)) failed++;
        } catch {
          failed++;
        }
        completed++;
      }
    };
    const killer = (async () => {
      while (completed < 40) await new Promise((resolve) => setTimeout(resolve, 5));
      up.service.kill('SIGKILL');
    })();
    try {
      await Promise.all([...Array.from({ length: 8 }, (_, id) => task(id)), killer]);
      expect(failed).toBe(0);
      expect(completed).toBe(240);
      expect(c.mode).toBe('local');
      expect(log.count('warn')).toBe(1);
    } finally {
      up.service.kill('SIGKILL');
    }
  });

  it('falls back within its timeout when the service does not answer, and without a fallback says the service is unavailable', async () => {
    const silent = await startStubServer(() => {}); // accepts, never answers
    try {
      const log = recordingLogger();
      const c = client({ url: silent.url, timeoutMs: 1000, fallback: { modelDir: await fullModelDir() }, logger: log.logger });
      const started = Date.now();
      expect(await c.embed(['nobody answers'])).toHaveLength(1);
      expect(c.mode).toBe('local');
      expect(log.lines).toHaveLength(1);
      expect(log.lines[0]).toMatchObject({ level: 'warn', fields: { reason: 'timed out' } });
      // It gave up on the service when its 1 s budget ran out (loading the local model came after).
      expect(log.lines[0]!.at - started).toBeGreaterThanOrEqual(950);
      expect(log.lines[0]!.at - started).toBeLessThan(2000); // margin for a loaded machine

      const strict = client({ url: silent.url, timeoutMs: 500, logger: recordingLogger().logger });
      await expect(strict.embed(['nobody answers'])).rejects.toBeInstanceOf(EmbeddingServiceUnavailableError);
    } finally {
      await silent.close();
    }
  });

  it('sends the caller\'s trace context, and the service\'s spans continue that trace', async () => {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    const receiver = await startOtlpReceiver();
    const up = await startService({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url });
    try {
      const caller = callerContext();
      const callerSpan = trace.setSpanContext(ROOT_CONTEXT, {
        traceId: caller.traceId,
        spanId: caller.parentId,
        traceFlags: TraceFlags.SAMPLED,
        traceState: new TraceState('chat=ts'),
      });
      const c = client({ url: up.url, logger: recordingLogger().logger });
      await context.with(callerSpan, () => c.embed(['where is the jazz night?']));
      await stop(up.service); // flushes the exporter

      const server = receiver.spans.find((s) => s.traceId === caller.traceId && s.kind === SPAN_KIND_SERVER);
      expect(server).toMatchObject({ parentSpanId: caller.parentId, traceState: 'chat=ts', name: 'embeddings all-MiniLM-L6-v2-synthetic' });
      expect(attributeOf(server!, 'gen_ai.operation.name')?.stringValue).toBe('embeddings');
      const inference = receiver.spans.find((s) => s.name === 'inference' && s.links?.some((l) => l.spanId === server!.spanId));
      expect(inference).toMatchObject({ traceId: caller.traceId, parentSpanId: server!.spanId });
    } finally {
      up.service.kill('SIGKILL');
      await receiver.close();
      context.disable();
      propagation.disable();
    }
  });
});
