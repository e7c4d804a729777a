import { OpenAIEmbeddings } from '@langchain/openai';
import OpenAI from 'openai';
import { startUnmarkedModelServer } from '../support/model-dirs';
import { fullModelDir } from '../support/models';
import { cosine, postJson, startTestServer, type TestServer } from '../support/server';

/** The served model's name: the synthetic model's, as the service reports it (the real one would be all-MiniLM-L6-v2). */
const SERVED = 'all-MiniLM-L6-v2-synthetic';

/** The official OpenAI SDK and LangChain's OpenAIEmbeddings against a real server on loopback. */
describe('OpenAI clients', () => {
  let server: TestServer;
  let client: OpenAI;

  beforeAll(async () => {
    server = await startTestServer({ EMBEDDING_MODEL_DIR: await fullModelDir() });
    // The SDK's defaults (two retries of 503s, honouring Retry-After): what a caller runs.
    client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'unused', maxRetries: 2 });
  });
  afterAll(() => server.stop());

  const reference = async (texts: string[]) => (await postJson(`${server.url}/embed`, { texts })).body.embeddings as number[][];

  it('embeddings.create: one text, with the SDK\'s default base64 encoding decoded to the same floats', async () => {
    const response = await client.embeddings.create({ model: SERVED, input: 'Jazz night at the Blue Room' });
    expect(response.model).toBe(SERVED);
    expect(response.data).toHaveLength(1);
    const vector = Array.from(response.data[0]?.embedding ?? []);
    expect(vector).toHaveLength(384);
    const [expected] = await reference(['Jazz night at the Blue Room']);
    expect(vector).toEqual(expected); // base64 carries float32 exactly
    expect(response.usage.prompt_tokens).toBeGreaterThan(2);
  });

  it('embeddings.create: a batch of 150 inputs, in order, with encoding_format float too', async () => {
    const input = Array.from({ length: 150 }, (_, i) => `event number ${i}: ${i % 3 === 0 ? 'concert' : 'market'}`);
    const asBase64 = await client.embeddings.create({ model: 'x', input });
    const asFloat = await client.embeddings.create({ model: 'x', input, encoding_format: 'float' });
    expect(asBase64.data.map((d) => d.index)).toEqual(input.map((_, i) => i));
    expect(asFloat.data).toHaveLength(150);
    const expected = [...(await reference(input.slice(0, 100))), ...(await reference(input.slice(100)))];
    asBase64.data.forEach((d, i) => expect(cosine(Array.from(d.embedding), expected[i] as number[])).toBeGreaterThan(0.99999));
    asFloat.data.forEach((d, i) => expect(cosine(d.embedding, expected[i] as number[])).toBeGreaterThan(0.99999));
  });

  it('honours dimensions: the first N values, L2-normalised again', async () => {
    const response = await client.embeddings.create({ model: 'x', input: 'truncate me', dimensions: 64, encoding_format: 'float' });
    const vector = response.data[0]?.embedding ?? [];
    expect(vector).toHaveLength(64);
    expect(Math.hypot(...vector)).toBeCloseTo(1, 5);
    const [full] = await reference(['truncate me']);
    expect(cosine(vector, (full as number[]).slice(0, 64))).toBeGreaterThan(0.99999);
  });

  it.each([
    ['too many inputs', { input: Array.from({ length: 2049 }, () => 'x') }, 422, /^422 input: input must contain at most 2048 items$/],
    ['token ids', { input: [[9906, 1917]] as unknown as string[] }, 422, /check_embedding_ctx_length=False/],
    ['dimensions over 384', { input: 'x', dimensions: 1000 }, 422, /dimensions: dimensions must be at most 384/],
    ['an unknown encoding', { input: 'x', encoding_format: 'int8' as 'float' }, 422, /encoding_format/],
  ])('shows our error message through the SDK for %s', async (_name, body, status, message) => {
    const error = await client.embeddings.create({ model: 'x', ...body }).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(OpenAI.APIError);
    const apiError = error as InstanceType<typeof OpenAI.APIError>;
    expect(apiError.status).toBe(status);
    expect(apiError.message).toMatch(message);
    expect(apiError.message).not.toMatch(/no body/);
    expect(apiError.type).toBe('invalid_request_error');
  });

  it('lists the served model', async () => {
    const models = [];
    for await (const model of client.models.list()) models.push(model);
    expect(models).toEqual([expect.objectContaining({ id: SERVED, object: 'model', owned_by: 'embedding-service' })]);
  });

  it('retrieves the served model, and answers another id with the SDK\'s NotFoundError and a message', async () => {
    expect(await client.models.retrieve(SERVED)).toMatchObject({ id: SERVED, object: 'model', owned_by: 'embedding-service' });
    const error = await client.models.retrieve('text-embedding-3-small').then(() => undefined, (caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.NotFoundError);
    expect((error as InstanceType<typeof OpenAI.NotFoundError>).message).toMatch(/^404 The model 'text-embedding-3-small' does not exist; this service serves 'all-MiniLM-L6-v2-synthetic'$/);
  });

  it('never passes the synthetic model off as the real one: asking for all-MiniLM-L6-v2 is the SDK\'s NotFoundError, saying what is served', async () => {
    for (const call of [() => client.embeddings.create({ model: 'all-MiniLM-L6-v2', input: 'x' }), () => client.models.retrieve('all-MiniLM-L6-v2')]) {
      const error = await call().then(() => undefined, (caught: unknown) => caught);
      expect(error).toBeInstanceOf(OpenAI.NotFoundError);
      expect((error as InstanceType<typeof OpenAI.NotFoundError>).message).toBe(
        "404 The model 'all-MiniLM-L6-v2' is not served here: this server has 'all-MiniLM-L6-v2-synthetic', a synthetic model (random weights, " +
          "written by npm run model:synthetic): its vectors are not meaningful embeddings. Ask for 'all-MiniLM-L6-v2-synthetic' to use it on purpose, or serve the real model",
      );
    }
  });

  it('tells a client whose base URL lacks /v1 where the API is, through the SDK\'s error', async () => {
    const unprefixed = new OpenAI({ baseURL: server.url, apiKey: 'unused', maxRetries: 0 });
    for (const call of [() => unprefixed.embeddings.create({ model: 'x', input: 'x' }), () => unprefixed.models.retrieve('all-MiniLM-L6-v2')]) {
      const error = await call().then(() => undefined, (caught: unknown) => caught);
      expect(error).toBeInstanceOf(OpenAI.NotFoundError);
      const { message } = error as InstanceType<typeof OpenAI.NotFoundError>;
      expect(message).toMatch(/the OpenAI-compatible API is under \/v1: (POST \/v1\/embeddings|GET \/v1\/models\/all-MiniLM-L6-v2)\. Set your client's base URL to end in \/v1/);
      expect(message).not.toMatch(/no body/);
    }
  });

  it('works from LangChain\'s OpenAIEmbeddings: documents in 512-text chunks, a query, and dimensions', async () => {
    // LangChain's defaults: 512 texts a request, 2 at once, and retries (a 503 for the second chunk,
    // when its expected wait is over MAX_QUEUE_WAIT_MS, is retried with back-off).
    const embeddings = new OpenAIEmbeddings({ model: SERVED, apiKey: 'unused', configuration: { baseURL: `${server.url}/v1` } });
    const documents = Array.from({ length: 600 }, (_, i) => `document ${i} about ${i % 2 ? 'jazz' : 'gardening'}`);
    const vectors = await embeddings.embedDocuments(documents);
    expect(vectors).toHaveLength(600);
    const expected = await reference([documents[0] as string, documents[599] as string]);
    expect(cosine(vectors[0] as number[], expected[0] as number[])).toBeGreaterThan(0.99999);
    expect(cosine(vectors[599] as number[], expected[1] as number[])).toBeGreaterThan(0.99999);
    expect(await embeddings.embedQuery('jazz tonight')).toHaveLength(384);
    const small = new OpenAIEmbeddings({ model: 'x', apiKey: 'unused', configuration: { baseURL: `${server.url}/v1` }, dimensions: 128, maxRetries: 0 });
    expect(await small.embedQuery('jazz tonight')).toHaveLength(128);
    const requests = server.logs.entries.filter((e) => e.message === 'request' && e.path === '/v1/embeddings' && e.texts === 512);
    expect(requests.length).toBeGreaterThanOrEqual(1);
    const shed = server.logs.entries.filter((e) => e.message === 'request' && e.path === '/v1/embeddings' && e.status === 503).length;
    process.stdout.write(`LangChain OpenAIEmbeddings: 600 documents embedded; ${shed} chunk request(s) shed with 503 and retried\n`);
  });
});

/** A model without the synthetic marker is, to the service, the real one: the callers' normal use, unchanged. */
describe('OpenAI clients, on a real model', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startUnmarkedModelServer();
  });
  afterAll(() => server.stop());

  it('embeds for model all-MiniLM-L6-v2 and retrieves it by that name', async () => {
    const client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'unused', maxRetries: 0 });
    const response = await client.embeddings.create({ model: 'all-MiniLM-L6-v2', input: 'Jazz night at the Blue Room', encoding_format: 'float' });
    expect(response.model).toBe('all-MiniLM-L6-v2');
    expect(response.data[0]?.embedding.length).toBeGreaterThan(0);
    expect(await client.models.retrieve('all-MiniLM-L6-v2')).toMatchObject({ id: 'all-MiniLM-L6-v2' });
    const embeddings = new OpenAIEmbeddings({ model: 'all-MiniLM-L6-v2', apiKey: 'unused', configuration: { baseURL: `${server.url}/v1` } });
    expect((await embeddings.embedQuery('jazz tonight')).length).toBe(response.data[0]?.embedding.length);
  });
});
