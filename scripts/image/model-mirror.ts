/**
 * A read-only hub mirror on 127.0.0.1 for one model directory: `GET /<repo>/resolve/<revision>/<path>`
 * answers the file, anything else 404. The image build downloads through it (HF_ENDPOINT) with the
 * same code and checks as a production build, against a pin made from the served bytes (MODEL_PIN).
 */
import { createHash } from 'node:crypto';
import { createReadStream, promises as fs } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { resolveUrl } from '../../app/provisioning/download';
import type { ModelPin } from '../../app/provisioning/manifest';

export interface ModelMirror {
  /** What HF_ENDPOINT is set to, e.g. http://127.0.0.1:40123. */
  readonly endpoint: string;
  readonly pin: ModelPin;
  /** Files answered so far, by path. */
  readonly served: string[];
  close(): Promise<void>;
}

async function sha256(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * Serves `dir` as `repo` at a revision derived from its content. `layout` names the files and which
 * of them are optional (the production pin's list), so the build asks for exactly what it would ask
 * the hub for.
 */
export async function startModelMirror(dir: string, repo: string, layout: ModelPin): Promise<ModelMirror> {
  const files = await Promise.all(
    layout.files.map(async (f) => {
      const absolute = path.join(dir, f.path);
      const { size } = await fs.stat(absolute);
      return { path: f.path, size, sha256: await sha256(absolute), ...(f.optional ? { optional: true } : {}) };
    }),
  );
  const revision = createHash('sha1').update(files.map((f) => f.sha256).join('\n')).digest('hex');
  const pin: ModelPin = { repo, revision, files };

  const served: string[] = [];
  const byUrl = new Map(files.map((f) => [new URL(resolveUrl('http://mirror', pin, f.path)).pathname, f.path]));
  const server = http.createServer((req, res) => {
    const file = req.method === 'GET' ? byUrl.get(new URL(req.url ?? '/', 'http://mirror').pathname) : undefined;
    if (file === undefined) {
      res.writeHead(404).end();
      return;
    }
    served.push(file);
    const size = files.find((f) => f.path === file)?.size ?? 0;
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': size });
    createReadStream(path.join(dir, file)).pipe(res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    pin,
    served,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
