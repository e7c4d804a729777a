import http from 'node:http';
import type { AddressInfo } from 'node:net';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { postJson, readJson, startTestServer } from '../support/server';

/** While the model is still being fetched, the service answers but is not ready. */
describe('before the model is loaded', () => {
  it('answers /health with 503 "starting" and model routes with 503 + Retry-After', async () => {
    // A hub that accepts the download request and never answers keeps the service in "starting".
    const hangingHub = http.createServer(() => {});
    await new Promise<void>((resolve) => hangingHub.listen(0, '127.0.0.1', resolve));
    const hubUrl = `http://127.0.0.1:${(hangingHub.address() as AddressInfo).port}`;
    const emptyDir = await fs.mkdtemp(path.join(os.tmpdir(), 'no-model-'));
    const server = await startTestServer({ EMBEDDING_MODEL_DIR: emptyDir, MODEL_AUTO_DOWNLOAD: 'true', HF_ENDPOINT: hubUrl }, { waitReady: false });
    try {
      const health = await fetch(`${server.url}/health`);
      expect(health.status).toBe(503);
      // Being downloaded: the pinned (real) model.
      expect(await readJson(health)).toEqual({ status: 'starting', model_loaded: false, model_name: 'all-MiniLM-L6-v2', synthetic_model: false });

      const embed = await postJson(`${server.url}/embed`, { texts: ['x'] });
      expect(embed.status).toBe(503);
      expect(embed.headers.get('retry-after')).toBe('5');
      expect(typeof embed.body.detail).toBe('string');
      const openAi = await postJson(`${server.url}/v1/embeddings`, { input: 'x' });
      expect(openAi.status).toBe(503);
      expect(openAi.headers.get('retry-after')).toBe('5');
      expect(openAi.body.error).toMatchObject({ type: 'server_error', code: 'not_ready', message: 'model is loading' });
      // Not a fault: logged at warn.
      const logged = server.logs.entries.find((e) => e.message === 'request' && e.path === '/embed' && e.status === 503);
      expect(logged?.level).toBe('warn');
      const healthLine = server.logs.entries.find((e) => e.message === 'request' && e.path === '/health');
      expect(healthLine?.level).toBe('warn');
      const single = await fetch(`${server.url}/embed/single?text=x`, { method: 'POST' });
      expect(single.status).toBe(503);
      // Validation still answers first: a bad request is a bad request whatever the model's state.
      expect((await postJson(`${server.url}/embed`, {})).status).toBe(422);
    } finally {
      hangingHub.closeAllConnections();
      await new Promise((resolve) => hangingHub.close(resolve));
      await server.ready.catch(() => {});
      await server.stop();
      await fs.rm(emptyDir, { recursive: true, force: true });
    }
  });
});
