import type { EmbeddingModel } from '../../../app/model';
import { fullModelDir } from '../support/models';
import { postJson, readJson, startTestServer, type TestServer } from '../support/server';

/** A model that fails on purpose whenever a batch holds the poison text; everything else is real. */
function failingOn(poison: string) {
  return (model: EmbeddingModel): EmbeddingModel => {
    const poisonIds = model.tokenize(poison).ids.join();
    return {
      ...model,
      tokenize: (text) => model.tokenize(text),
      embed: (batch) => (batch.some((t) => t.ids.join() === poisonIds) ? Promise.reject(new Error('onnxruntime: bad alloc (simulated)')) : model.embed(batch)),
      close: () => model.close(),
    };
  };
}

describe('a failing inference', () => {
  let server: TestServer;

  beforeAll(async () => {
    // One text per run, so which requests share the failing batch is deterministic.
    server = await startTestServer({ EMBEDDING_MODEL_DIR: await fullModelDir(), MAX_BATCH_SIZE: '1' }, { wrapModel: failingOn('poison pill') });
  });
  afterAll(() => server.stop());

  it('fails only the requests in its batch with a 500 JSON error, and the server keeps serving', async () => {
    const [before, poisoned, concurrent] = await Promise.all([
      postJson(`${server.url}/embed`, { texts: ['a healthy request'] }),
      postJson(`${server.url}/embed`, { texts: ['fine text', 'poison pill'] }),
      postJson(`${server.url}/v1/embeddings`, { input: ['another healthy request', 'and one more'] }),
    ]);
    expect(before.status).toBe(200);
    expect(concurrent.status).toBe(200);
    expect(poisoned.status).toBe(500);
    expect(poisoned.headers.get('content-type')).toMatch(/application\/json/);
    expect(poisoned.body).toEqual({ detail: 'inference failed' });

    const after = await postJson(`${server.url}/embed`, { texts: ['still serving'] });
    expect(after.status).toBe(200);
    expect(await readJson(await fetch(`${server.url}/health`))).toMatchObject({ status: 'ok' });

    const logged = server.logs.entries.find((e) => e.message === 'inference failed');
    expect(String(logged?.error)).toContain('bad alloc (simulated)');
    const requestLine = server.logs.entries.find((e) => e.message === 'request' && e.status === 500);
    expect(requestLine?.level).toBe('error');
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toMatch(/^embedding_failed_batches_total 1$/m);
  });
});
