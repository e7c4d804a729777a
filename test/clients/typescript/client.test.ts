import { context, propagation, ROOT_CONTEXT, trace, TraceFlags } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator, TraceState } from '@opentelemetry/core';
import { createEmbeddingClient, EmbeddingRequestError, EmbeddingServiceUnavailableError, type ClientLogger, type EmbeddingClient } from '../../../app/client';
import { ServiceProcess } from '../support/child';
import { fullModelDir } from '../support/models';
import { attributeOf, callerContext, SPAN_KIND_SERVER, startOtlpReceiver } from '../support/otlp-receiver';
import { postJson } from '../support/server';
import { relay, startStubServer } from '../support/stub-server';

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

/** Sits in front of the real service, relaying every request and keeping how many texts each POST /embed carried. */
async function countingRelay(target: string) {
  const stub = await startStubServer((request, _index, res) => relay(request, target, res));
  const embedSizes = () => stub.requests.filter((r) => r.path === '/embed').map((r) => (JSON.parse(r.body) as { texts: string[] }).texts.length);
  return { url: stub.url, embedSizes, close: stub.close };
}

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
      up = await startService();
    });
    afterAll(() => stop(up.service, 'SIGKILL'));
    beforeEach(async () => {
      counter = await countingRelay(up.url); // counts what reaches the service
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

    it('splits 250 texts into requests of 100, 100 and 50 and keeps their order, without falling back', async () => {
      const log = recordingLogger();
      const c = client({ url: counter.url, fallback: { modelDir: await fullModelDir() }, logger: log.logger });
      const input = texts(250, 'bulk');
      const vectors = await c.embed(input);
      expect(counter.embedSizes()).toEqual([100, 100, 50]);
      expect(asArrays(vectors)).toEqual(float32(await serviceVectors(up.url, input)));
      expect(c.mode).toBe('service');
      expect(log.lines).toEqual([]);
    });

    it('raises a 422 as the caller\'s error and never switches to the local model', async () => {
      const log = recordingLogger();
      // 101 texts per request is over the service's MAX_TEXTS_PER_REQUEST (100).
      const c = client({ url: counter.url, maxBatch: 101, fallback: { modelDir: await fullModelDir() }, logger: log.logger });
      const failure = await c.embed(texts(101, 'too many')).catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(EmbeddingRequestError);
      expect((failure as EmbeddingRequestError).status).toBe(422);
      expect(c.mode).toBe('service');
      expect(log.lines).toEqual([]);
      await c.embed(['still served by the service']);
      expect(counter.embedSizes()).toEqual([101, 1]);
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
      expect(server).toMatchObject({ parentSpanId: caller.parentId, traceState: 'chat=ts', name: 'embeddings all-MiniLM-L6-v2' });
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
