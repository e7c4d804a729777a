import { startUnmarkedModelServer } from '../support/model-dirs';
import { smallModelDir } from '../support/models';
import { postJson, readJson, startTestServer, type TestServer } from '../support/server';

const WARNING = 'synthetic model (random weights, written by npm run model:synthetic): its vectors are not meaningful embeddings';

/** Every place a response names the model, read from one server: /health, the three embedding routes, /v1/models, /openapi.json. */
async function reportedNames(base: string): Promise<Record<string, unknown>> {
  const get = async (path: string) => readJson(await fetch(`${base}${path}`));
  const health = await get('/health');
  const list = await get('/v1/models');
  return {
    health: health.model_name,
    embed: (await postJson(`${base}/embed`, { texts: ['a'] })).body.model,
    single: (await postJson(`${base}/embed/single?text=a`, {})).body.model,
    openai: (await postJson(`${base}/v1/embeddings`, { input: 'a' })).body.model,
    models: list.data.map((model: { id: string }) => model.id),
    openapi: /^Sentence embeddings from (\S+):/.exec((await get('/openapi.json')).info.description)?.[1],
  };
}

describe('the model name a server reports', () => {
  describe('a synthetic model (the marker of npm run model:synthetic in its ONNX file)', () => {
    let server: TestServer;
    beforeAll(async () => {
      server = await startTestServer({ EMBEDDING_MODEL_DIR: await smallModelDir() });
    });
    afterAll(() => server.stop());

    it('is all-MiniLM-L6-v2-synthetic everywhere, and /health says it is synthetic', async () => {
      const name = 'all-MiniLM-L6-v2-synthetic';
      expect(await reportedNames(server.url)).toEqual({ health: name, embed: name, single: name, openai: name, models: [name], openapi: name });
      expect(await readJson(await fetch(`${server.url}/health`))).toMatchObject({ synthetic_model: true, warning: WARNING });
      expect((await fetch(`${server.url}/v1/models/${name}`)).status).toBe(200);
    });

    it.each(['all-MiniLM-L6-v2', 'sentence-transformers/all-MiniLM-L6-v2', 'ALL-MINILM-L6-V2'])(
      'refuses a request for the real model (%s) with a 404 that says what it serves, before any work',
      async (requested) => {
        const { status, body } = await postJson(`${server.url}/v1/embeddings`, { input: 'a', model: requested });
        expect(status).toBe(404);
        expect(body.error).toEqual({
          message: `The model '${requested}' is not served here: this server has 'all-MiniLM-L6-v2-synthetic', a ${WARNING}. Ask for 'all-MiniLM-L6-v2-synthetic' to use it on purpose, or serve the real model`,
          type: 'invalid_request_error',
          param: null,
          code: 'not_found',
        });
        const texts = server.logs.entries.filter((entry) => entry.message === 'request' && entry.status === 404 && entry.texts !== undefined);
        expect(texts).toEqual([]);
      },
    );

    it('answers models.retrieve of the real model with the same 404', async () => {
      const response = await fetch(`${server.url}/v1/models/all-MiniLM-L6-v2`);
      expect(response.status).toBe(404);
      expect((await readJson(response)).error.message).toMatch(/^The model 'all-MiniLM-L6-v2' is not served here: this server has 'all-MiniLM-L6-v2-synthetic'/);
    });

    it('serves a request that names its own name, another model or none (model is otherwise ignored, as before)', async () => {
      for (const model of ['all-MiniLM-L6-v2-synthetic', 'text-embedding-3-small', undefined]) {
        const { status, body } = await postJson(`${server.url}/v1/embeddings`, { input: 'a', model });
        expect({ model, status, name: body.model }).toEqual({ model, status: 200, name: 'all-MiniLM-L6-v2-synthetic' });
      }
    });
  });

  describe('a model without the marker (the real one, to the service)', () => {
    let server: TestServer;
    beforeAll(async () => {
      server = await startUnmarkedModelServer();
    });
    afterAll(() => server.stop());

    it('is all-MiniLM-L6-v2 everywhere, with no warning, and serves requests naming it', async () => {
      const name = 'all-MiniLM-L6-v2';
      expect(await reportedNames(server.url)).toEqual({ health: name, embed: name, single: name, openai: name, models: [name], openapi: name });
      expect(await readJson(await fetch(`${server.url}/health`))).toEqual({ status: 'ok', model_loaded: true, model_name: name, synthetic_model: false });
      expect((await postJson(`${server.url}/v1/embeddings`, { input: 'a', model: name })).status).toBe(200);
      expect((await fetch(`${server.url}/v1/models/${name}`)).status).toBe(200);
      expect(server.logs.entries.filter((entry) => entry.level === 'warn' || entry.level === 'error')).toEqual([]);
    });
  });
});
