import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ServiceProcess } from '../support/child';
import { closedPort } from '../support/fake-hub';
import { fullModelDir } from '../support/models';
import { attributeOf, SPAN_KIND_SERVER, startOtlpReceiver } from '../support/otlp-receiver';

const CANARY = 'canary-4f1d9e-private-query';

/** Nothing private leaves the process: no user text in spans or logs above debug, no credentials anywhere. */
describe('privacy', () => {
  it('puts no input text in any exported span or any log line above debug, whichever way the text came', async () => {
    const receiver = await startOtlpReceiver();
    const service = new ServiceProcess({ EMBEDDING_MODEL_DIR: await fullModelDir(), OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, LOG_LEVEL: 'info' });
    try {
      await service.waitHealthy();
      const base = `http://127.0.0.1:${await service.port()}`;
      const query = encodeURIComponent(CANARY);
      const post = (route: string, body?: string) => fetch(`${base}${route}`, { method: 'POST', headers: { 'content-type': 'application/json' }, ...(body === undefined ? {} : { body }) });
      const answers = [
        await post(`/embed/single?text=${query}`),
        await post(`/embed/single?other=${query}&text=x`),
        await post(`/embed/single?text=${query}&text=${query}`), // 422: repeated
        await post('/embed', JSON.stringify({ texts: [CANARY, `${CANARY} again`] })),
        await post('/embed', JSON.stringify({ texts: CANARY })), // 422: not a list
        await post('/embed', `{"texts": ["${CANARY}`), // 400: not JSON
        await post('/embed', `{"texts": [${'['.repeat(40)}"${CANARY}"${']'.repeat(40)}]}`), // 400: too deep
        await post('/v1/embeddings', JSON.stringify({ input: CANARY })),
        await post('/v1/embeddings', JSON.stringify({ input: [CANARY], dimensions: 1000 })), // 422
        await post('/v1/embeddings', JSON.stringify({ input: [CANARY], user: CANARY, model: CANARY })),
        await fetch(`${base}/nope?text=${query}`),
      ];
      expect(answers.map((a) => a.status)).toEqual([200, 200, 422, 200, 422, 400, 400, 200, 422, 200, 404]);
      service.kill('SIGTERM'); // shutdown flushes the exporter
      expect((await service.exited).code).toBe(0);

      const requestSpans = receiver.spans.filter((s) => s.kind === SPAN_KIND_SERVER);
      expect(requestSpans.length).toBeGreaterThanOrEqual(answers.length);
      const single = requestSpans.filter((s) => attributeOf(s, 'url.path')?.stringValue === '/embed/single');
      expect(single.map((s) => attributeOf(s, 'url.query')?.stringValue)).toEqual(['REDACTED', 'REDACTED', 'REDACTED']);
      expect(JSON.stringify(receiver.spans)).not.toContain(CANARY);
      expect(service.logs.filter((e) => e.message === 'request').length).toBeGreaterThanOrEqual(answers.length);
      expect(service.logs.filter((e) => e.level !== 'debug' && JSON.stringify(e).includes(CANARY))).toEqual([]);
      expect(service.stderr).not.toContain(CANARY);
    } finally {
      service.kill('SIGKILL');
      await receiver.close();
    }
  });

  it('never logs the credentials of a hub URL, at start-up or when the download fails', async () => {
    const port = await closedPort();
    const emptyDir = await fs.mkdtemp(path.join(os.tmpdir(), 'no-model-'));
    try {
      const service = new ServiceProcess({ EMBEDDING_MODEL_DIR: emptyDir, MODEL_AUTO_DOWNLOAD: 'true', HF_ENDPOINT: `http://mirror-user:hf_SECRETtoken@127.0.0.1:${port}` });
      expect((await service.exited).code).toBe(1);
      const everything = `${JSON.stringify(service.logs)}\n${service.stderr}`;
      expect(everything).toContain(`http://REDACTED@127.0.0.1:${port}`); // the URL is still shown, without its credentials
      expect(everything).not.toContain('hf_SECRETtoken');
      expect(everything).not.toContain('mirror-user');
    } finally {
      await fs.rm(emptyDir, { recursive: true, force: true });
    }
  });
});
