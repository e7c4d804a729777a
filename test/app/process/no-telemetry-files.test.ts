import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ServiceProcess } from '../support/child';
import { smallModelDir } from '../support/models';
import { postJson } from '../support/server';

/**
 * onnxruntime-node 1.30 on Linux starts Microsoft's telemetry with the first session unless
 * ORT_DISABLE_TELEMETRY says no; it then writes ~/.cache/Microsoft/DeveloperTools/.onnxruntime/ and
 * /tmp/mat-debug-<pid>.log. The service turns it off itself, so it writes neither outside the image
 * too (the image check covers the container). The child gets no CI variable, which the library
 * also obeys.
 */
describe('the service writes no onnxruntime telemetry files', () => {
  it('leaves HOME empty and no /tmp/mat-debug-<pid>.log after loading the model and embedding', async () => {
    const home = await fs.mkdtemp(path.join(os.tmpdir(), 'embedding-home-'));
    const service = new ServiceProcess({ EMBEDDING_MODEL_DIR: await smallModelDir(), HOME: home });
    try {
      await service.waitHealthy();
      const { status } = await postJson(`http://127.0.0.1:${await service.port()}/embed`, { texts: ['hello world'] });
      expect(status).toBe(200);
      service.kill('SIGTERM');
      expect((await service.exited).code).toBe(0);
      expect(await fs.readdir(home, { recursive: true })).toEqual([]);
      await expect(fs.access(`/tmp/mat-debug-${service.child.pid}.log`)).rejects.toThrow();
    } finally {
      service.kill('SIGKILL');
      await fs.rm(home, { recursive: true, force: true });
    }
  });
});
