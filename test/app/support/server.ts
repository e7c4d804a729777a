import winston from 'winston';
import Transport from 'winston-transport';
import { loadConfig, type Config } from '../../../app/config';
import type { EmbeddingModel } from '../../../app/model';
import { identifyModel, type ServedModel } from '../../../app/model-identity';
import { prepareModel } from '../../../app/prepare-model';
import { startServer, type RunningServer } from '../../../app/server';

/** Keeps log entries in memory so tests can assert on what the service logged. */
export class MemoryTransport extends Transport {
  readonly entries: Array<Record<string, unknown>> = [];
  override log(info: Record<string, unknown>, next: () => void): void {
    this.entries.push(info);
    next();
  }
}

export interface TestServer extends RunningServer {
  readonly config: Config;
  readonly served: ServedModel;
  readonly logs: MemoryTransport;
}

export interface TestServerOptions {
  readonly waitReady?: boolean;
  /** Replace the loaded model, e.g. with one that fails on purpose. */
  readonly wrapModel?: (model: EmbeddingModel) => EmbeddingModel;
}

/** A real server on an ephemeral loopback port, configured like production but for the given overrides. */
export async function startTestServer(env: Record<string, string>, options: TestServerOptions = {}): Promise<TestServer> {
  const config = loadConfig({ HOST: '127.0.0.1', PORT: '0', MODEL_AUTO_DOWNLOAD: 'false', LOG_LEVEL: 'debug', ...env });
  const logs = new MemoryTransport();
  const logger = winston.createLogger({ level: 'debug', transports: [logs] });
  const wrap = options.wrapModel ?? ((model: EmbeddingModel) => model);
  const served = await identifyModel(config);
  const loading = prepareModel(config, logger).then((loaded) => ({ ...loaded, model: wrap(loaded.model) }));
  loading.catch(() => {});
  const server = await startServer(config, logger, loading, served);
  if (options.waitReady ?? true) await server.ready;
  return { ...server, config, served, logs, stop: server.stop, ready: server.ready };
}

/** A response body as the tests read it: whatever JSON came back, navigated freely and asserted on. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the assertions check the shape
export type ResponseJson = any;

export async function postJson(url: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; headers: Headers; body: ResponseJson }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = text;
  }
  return { status: response.status, headers: response.headers, body: parsed };
}

export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += (a[i] as number) * (b[i] as number);
    na += (a[i] as number) ** 2;
    nb += (b[i] as number) ** 2;
  }
  return dot / Math.sqrt(na * nb);
}

export const readJson = async (response: Response): Promise<ResponseJson> => response.json();
