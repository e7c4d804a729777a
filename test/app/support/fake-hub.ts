/**
 * A stand-in for the Hugging Face hub on 127.0.0.1: serves `/<repo>/resolve/<revision>/<path>`
 * from an in-memory map. Files marked `lfs` are answered with a 302 to `/cdn-lfs/<sha256>?...`
 * on the same server, as the hub redirects LFS files to its CDN. Per-file scripted misbehaviour
 * (HTTP errors, cut-off transfers, stalls, wrong bytes) is consumed one request at a time.
 */
import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ModelPin, PinnedFile } from '../../../app/provisioning/manifest';

export interface FakeFile {
  path: string;
  body: Buffer;
  /** Served through a 302 to the fake CDN, like the hub's LFS files. */
  lfs?: boolean;
  optional?: boolean;
}

/**
 * What the next request for a file gets, once:
 * - a number: that HTTP status (with a short body);
 * - 'truncate': Content-Length of the whole file, half the bytes, then the socket is destroyed;
 * - 'stall': headers and half the bytes, then nothing (until the client gives up);
 * - 'corrupt': the right length, one byte flipped;
 * - 'ok': the file.
 */
export type Behaviour = number | 'truncate' | 'stall' | 'corrupt' | 'ok';

export interface FakeHub {
  /** Base URL, e.g. http://127.0.0.1:40123 (what HF_ENDPOINT would be). */
  url: string;
  repo: string;
  revision: string;
  /** A pin whose sizes and hashes are computed from the served bytes. */
  pin: ModelPin;
  /** Queue behaviours for the next requests of a file; 'ok' once the queue is empty. */
  script(path: string, ...behaviours: Behaviour[]): void;
  /** Requests to `/resolve/` for this file (one per attempt). */
  resolveCount(path: string): number;
  /** Every request path (with query), in order. */
  readonly requests: string[];
  close(): Promise<void>;
}

export const FAKE_REPO = 'sentence-transformers/all-MiniLM-L6-v2';
export const FAKE_REVISION = '0123456789abcdef0123456789abcdef01234567';

export function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Small files laid out like the real repository; the ONNX files are binary and "LFS". */
export function fakeModelFiles(): FakeFile[] {
  const json = (value: unknown): Buffer => Buffer.from(`${JSON.stringify(value, null, 2)}\n`);
  const binary = (size: number, seed: number): Buffer => {
    const out = Buffer.alloc(size);
    let x = seed;
    for (let i = 0; i < size; i += 1) {
      x = (x * 1103515245 + 12345) & 0x7fffffff;
      out[i] = x >>> 16;
    }
    return out;
  };
  return [
    { path: 'onnx/model.onnx', body: binary(300_000, 1), lfs: true },
    { path: 'tokenizer.json', body: json({ version: '1.0', model: { type: 'WordPiece', vocab: { '[PAD]': 0 } } }) },
    { path: 'tokenizer_config.json', body: json({ do_lower_case: true, model_max_length: 512 }) },
    { path: 'special_tokens_map.json', body: json({ cls_token: '[CLS]', sep_token: '[SEP]' }) },
    { path: 'vocab.txt', body: Buffer.from('[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nthe\n') },
    { path: 'config.json', body: json({ model_type: 'bert', hidden_size: 384 }) },
    { path: 'config_sentence_transformers.json', body: json({ __version__: { sentence_transformers: '2.0.0' } }) },
    { path: 'sentence_bert_config.json', body: json({ max_seq_length: 256, do_lower_case: false }) },
    { path: 'modules.json', body: json([{ idx: 0, name: '0', path: '', type: 'sentence_transformers.models.Transformer' }]) },
    { path: '1_Pooling/config.json', body: json({ word_embedding_dimension: 384, pooling_mode_mean_tokens: true }) },
    { path: 'onnx/model_quint8_avx2.onnx', body: binary(70_000, 2), lfs: true, optional: true },
  ];
}

export function pinFor(files: readonly FakeFile[], repo = FAKE_REPO, revision = FAKE_REVISION): ModelPin {
  return {
    repo,
    revision,
    files: files.map((f): PinnedFile => ({
      path: f.path,
      size: f.body.length,
      sha256: sha256(f.body),
      ...(f.optional ? { optional: true } : {}),
    })),
  };
}

export async function startFakeHub(files: readonly FakeFile[] = fakeModelFiles()): Promise<FakeHub> {
  const byPath = new Map(files.map((f) => [f.path, f]));
  const bySha = new Map(files.map((f) => [sha256(f.body), f]));
  const scripts = new Map<string, Behaviour[]>();
  const resolves = new Map<string, number>();
  const requests: string[] = [];
  const resolvePrefix = `/${FAKE_REPO}/resolve/${FAKE_REVISION}/`;
  const stalled = new Set<http.ServerResponse>();

  const serve = (file: FakeFile, res: http.ServerResponse): void => {
    const behaviour = scripts.get(file.path)?.shift() ?? 'ok';
    if (typeof behaviour === 'number') {
      res.writeHead(behaviour, { 'content-type': 'text/plain', 'x-error-code': `Fake${behaviour}` });
      res.end(`fake hub: ${behaviour}\n`);
      return;
    }
    const headers = {
      'content-type': 'application/octet-stream',
      'content-length': String(file.body.length),
      etag: `"${sha256(file.body)}"`,
    };
    res.writeHead(200, headers);
    const half = file.body.subarray(0, Math.floor(file.body.length / 2));
    switch (behaviour) {
      case 'truncate':
        res.write(half, () => res.socket?.destroy());
        return;
      case 'stall':
        stalled.add(res);
        res.write(half);
        return;
      case 'corrupt': {
        const bad = Buffer.from(file.body);
        bad[bad.length - 1] = (bad[bad.length - 1] ?? 0) ^ 0xff;
        res.end(bad);
        return;
      }
      case 'ok':
        res.end(file.body);
        return;
    }
  };

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://fake-hub');
    requests.push(`${url.pathname}${url.search}`);
    const pathname = decodeURIComponent(url.pathname);
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405).end();
      return;
    }
    if (pathname.startsWith(resolvePrefix)) {
      const filePath = pathname.slice(resolvePrefix.length);
      resolves.set(filePath, (resolves.get(filePath) ?? 0) + 1);
      const file = byPath.get(filePath);
      if (file === undefined) {
        // What the hub says for a missing file: 404 with X-Error-Code: EntryNotFound.
        res.writeHead(404, { 'content-type': 'text/plain', 'x-error-code': 'EntryNotFound' });
        res.end('Entry not found');
        return;
      }
      if (file.lfs) {
        const location = `http://127.0.0.1:${(server.address() as AddressInfo).port}/cdn-lfs/${sha256(file.body)}?X-Signature=fake&Expires=9999999999`;
        res.writeHead(302, { location, 'x-linked-size': String(file.body.length), 'x-linked-etag': `"${sha256(file.body)}"` });
        res.end();
        return;
      }
      serve(file, res);
      return;
    }
    const cdn = /^\/cdn-lfs\/([0-9a-f]{64})$/.exec(pathname);
    const lfsFile = cdn ? bySha.get(cdn[1] ?? '') : undefined;
    if (lfsFile !== undefined) {
      serve(lfsFile, res);
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    repo: FAKE_REPO,
    revision: FAKE_REVISION,
    pin: pinFor(files),
    requests,
    script(path, ...behaviours) {
      scripts.set(path, [...(scripts.get(path) ?? []), ...behaviours]);
    },
    resolveCount: (path) => resolves.get(path) ?? 0,
    close: () =>
      new Promise<void>((resolve) => {
        for (const res of stalled) res.socket?.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A loopback port with nothing listening: bind one, note it, close it. */
export async function closedPort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
