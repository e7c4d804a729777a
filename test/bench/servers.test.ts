import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createTaskCgroup } from '../../bench/cgroup';
import { productionStack } from '../../bench/production';
import { freePort, startServer } from '../../bench/server-process';
import { OURS_MAIN, runServer, type ServerContext } from '../../bench/servers';
import { TextStream } from '../../bench/texts';
import { smallModelDir } from '../app/support/models';
import { REPO_ROOT } from '../app/support/paths';
import { postJson } from '../app/support/server';

/** The benchmark's servers for real: the service in its production and quiet configurations, with the OTLP sink and a log file. */
describe('benchmark servers', () => {
  const logDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-logs-'));
  afterAll(() => fs.rmSync(logDir, { recursive: true, force: true }));
  const context = async (): Promise<ServerContext> => ({ repo: REPO_ROOT, modelDir: await smallModelDir(), tuning: {}, stack: productionStack(), logDir });
  const send = async (port: number, count: number) => {
    const texts = new TextStream('short', 0);
    for (let i = 0; i < count; i++) expect((await postJson(`http://127.0.0.1:${port}/embed`, { texts: texts.take(1) })).status).toBe(200);
  };

  it('production: spans reach the sink (flushed at shutdown) and every request leaves a log line in the file', async () => {
    const run = await runServer(await context(), { label: 'prod-test', plan: { kind: 'ours', config: 'production', taskCpu: 1024 } }, async (server, tally) => {
      await send(server.port, 6);
      tally.add(6);
    });
    expect(run.stop.diedEarly).toBeUndefined();
    const t = run.telemetry;
    expect(t.requestsServed).toBe(6);
    expect(t.traces?.rejected).toBe(0);
    expect(t.traces?.spans).toBeGreaterThanOrEqual(12); // at least the request span and the inference span of each
    expect(t.logLines).toBeGreaterThanOrEqual(6);
    expect(t.errorLines).toBe(0);
    expect(fs.readFileSync(path.join(logDir, 'prod-test.log'), 'utf8')).toMatch(/"message":"request".*"path":"\/embed"/);
  });

  it('quiet: no tracing, and no line per request', async () => {
    const run = await runServer(await context(), { label: 'quiet-test', plan: { kind: 'ours', config: 'quiet', taskCpu: 1024 } }, async (server, tally) => {
      await send(server.port, 6);
      tally.add(6);
    });
    expect(run.telemetry.traces).toBeUndefined();
    expect(run.telemetry.logLines).toBeLessThan(6);
  });

  // Where this machine lets the benchmark make cgroups: the service finds the quota of its own group by itself.
  const probe = createTaskCgroup('jest-servers-probe', { cpuCores: 0.5, memoryBytes: 512 * 2 ** 20 });
  const canLimit = probe.group?.dirs.cpu !== undefined;
  probe.group?.remove();
  (canLimit ? it : it.skip)('in a 0.5-vCPU cgroup the service picks 1 intra-op thread without ORT_INTRA_OP_THREADS', async () => {
    const { group } = createTaskCgroup('jest-servers', { cpuCores: 0.5, memoryBytes: 512 * 2 ** 20 });
    const logFile = path.join(logDir, 'cgroup-test.log');
    try {
      const port = await freePort();
      const env = { EMBEDDING_MODEL_DIR: await smallModelDir(), MODEL_AUTO_DOWNLOAD: 'false', HOST: '127.0.0.1', PORT: String(port) };
      const server = await startServer({ name: 'cgroup-test', script: OURS_MAIN, env, cwd: REPO_ROOT, stdoutFile: logFile, launchPrefix: group!.launchPrefix() }, port);
      const cgroup = fs.readFileSync(`/proc/${server.pid}/cgroup`, 'utf8');
      await server.stop();
      expect(cgroup).toContain(`embedding-bench-${process.pid}-jest-servers`);
      const loaded = fs.readFileSync(logFile, 'utf8').split('\n').find((line) => line.includes('model loaded'));
      expect(JSON.parse(loaded ?? '{}').intra_op_threads).toBe(1);
    } finally {
      group!.remove();
    }
  });
});
