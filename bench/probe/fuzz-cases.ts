import zlib from 'node:zlib';
import { mulberry32 } from '../../scripts/synthetic-model/random';

/** Every UTF-8 byte as %XX (encodeURIComponent refuses lone surrogates). */
const percentEncode = (text: string) => [...Buffer.from(text)].map((byte) => `%${byte.toString(16).padStart(2, '0')}`).join('');

export interface FuzzCase {
  readonly description: string;
  /** The raw bytes of the request (or of what a broken client sends). */
  readonly bytes: Buffer;
  /** HEAD and /metrics answer without a JSON body. */
  readonly expectsJson: boolean;
}

/** Mostly the embedding routes with POST, where the work is; the rest of the surface now and then. */
const ROUTE_PATHS = ['/embed', '/embed', '/v1/embeddings', '/v1/embeddings', '/embed/single'];
const OTHER_PATHS = ['/v1/models', '/health', '/openapi.json', '/metrics', '/', '/v1', '/embed/', '/v1/embeddings/x', '/%zz', `/${'a'.repeat(3000)}`];
const OTHER_METHODS = ['GET', 'PUT', 'DELETE', 'OPTIONS', 'PATCH', 'HEAD'];
const CONTENT_TYPES = ['application/json', 'application/json', 'application/json; charset=utf-8', 'application/json; charset=latin1', 'application/json; charset=utf-16', 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/json-patch+json', ''];
const SAMPLES = ['Jazz night', '', ' ', 'Café crème', '東京で音楽', '🎉🎶', '\u0000\u0007', '\ud800', '[CLS] [SEP]', 'x'.repeat(300), '<script>alert(1)</script>', '%00', '\\"quoted\\"'];

export function fuzzCases(seed: number): (index: number) => FuzzCase {
  const random = mulberry32(seed);
  const int = (n: number) => Math.floor(random() * n);
  const pick = <T>(items: readonly T[]): T => items[int(items.length)] as T;
  const chance = (p: number) => random() < p;

  const randomString = (): string => {
    if (chance(0.5)) return pick(SAMPLES);
    const length = chance(0.05) ? 5000 + int(30_000) : int(60);
    let text = '';
    for (let i = 0; i < length; i++) text += String.fromCharCode(chance(0.8) ? 32 + int(95) : int(0xffff));
    return text;
  };
  const randomJson = (depth = 0): unknown => {
    switch (depth > 3 ? int(5) : int(7)) {
      case 0: return null;
      case 1: return chance(0.5);
      case 2: return pick([0, -1, 1.5, 1e308, -1e-308, 2 ** 53, 384, 2049]);
      case 3:
      case 4: return randomString();
      case 5: return Array.from({ length: int(5) }, () => randomJson(depth + 1));
      default: return Object.fromEntries(Array.from({ length: int(4) }, () => [pick(['texts', 'input', 'text', 'model', 'dimensions', 'encoding_format', '__proto__', 'constructor', randomString()]), randomJson(depth + 1)]));
    }
  };
  const strings = (max: number) => Array.from({ length: int(max) }, randomString);

  const embedBody = (): unknown =>
    pick<() => unknown>([
      () => ({ texts: strings(12) }),
      () => ({ texts: strings(4) }),
      () => ({ texts: randomJson() }),
      () => ({ texts: [...strings(3), randomJson()] }),
      () => ({ texts: Array.from({ length: 101 }, () => 'x') }),
      () => randomJson(),
    ])();
  const openAiBody = (): unknown =>
    pick<() => unknown>([
      () => ({ input: randomString() }),
      () => ({ input: strings(10), encoding_format: pick(['float', 'base64', 'int8', '', null, 1]) }),
      () => ({ input: strings(3), dimensions: pick([-5, 0, 1, 64, 384, 385, 1.5, '10', null]) }),
      () => ({ input: Array.from({ length: 1 + int(5) }, () => int(50_000)) }),
      () => ({ input: [Array.from({ length: 3 }, () => int(50_000))] }),
      () => ({ input: Array.from({ length: 2049 }, () => 'x') }),
      () => ({ input: randomJson(), model: randomJson() }),
      () => randomJson(),
    ])();

  /** Serialised body bytes: JSON, or something that only looks like it. */
  const bodyBytes = (value: unknown): Buffer =>
    pick<() => Buffer>([
      () => Buffer.from(JSON.stringify(value) ?? 'null'),
      () => Buffer.from(JSON.stringify(value) ?? 'null'),
      () => Buffer.from(JSON.stringify(value) ?? 'null'),
      () => Buffer.from((JSON.stringify(value) ?? 'null').slice(0, int(20))),
      () => Buffer.from(`\ufeff${JSON.stringify(value)}`),
      () => Buffer.concat([Buffer.from('{"texts": ["'), Buffer.from([0xc3, 0x28, 0xff, 0xfe]), Buffer.from('"]}')]),
      () => Buffer.from('['.repeat(5000 + int(5000))),
      () => Buffer.alloc(0),
    ])();

  const encode = (body: Buffer): { body: Buffer; encoding?: string } =>
    pick<() => { body: Buffer; encoding?: string }>([
      () => ({ body }),
      () => ({ body }),
      () => ({ body }),
      () => ({ body: zlib.gzipSync(body), encoding: 'gzip' }),
      () => ({ body: zlib.deflateSync(body), encoding: 'deflate' }),
      () => ({ body: zlib.brotliCompressSync(body), encoding: 'br' }),
      () => ({ body: zlib.gzipSync(body).subarray(0, 12), encoding: 'gzip' }),
      () => ({ body, encoding: pick(['gzip', 'deflate', 'br', 'compress', 'gzip, gzip', 'identity', 'zstd']) }),
    ])();

  const httpRequest = (): FuzzCase => {
    const method = chance(0.8) ? 'POST' : pick(OTHER_METHODS);
    const path = chance(0.8) ? pick(ROUTE_PATHS) : pick(OTHER_PATHS);
    const query = path === '/embed/single' ? pick(['', `?text=${percentEncode(randomString().slice(0, 500))}`, '?text=a&text=b', '?text=%zz', '?other=1']) : '';
    const headers: string[] = [`${method} ${path}${query} HTTP/1.1`, 'Host: 127.0.0.1', 'Connection: close'];
    let body: Buffer = Buffer.alloc(0);
    if (method !== 'GET' && method !== 'HEAD' && chance(0.9)) {
      const encoded = encode(bodyBytes(path.startsWith('/v1') ? openAiBody() : embedBody()));
      body = encoded.body;
      const type = pick(CONTENT_TYPES);
      if (type) headers.push(`Content-Type: ${type}`);
      if (encoded.encoding) headers.push(`Content-Encoding: ${encoded.encoding}`);
      if (chance(0.1)) {
        headers.push('Transfer-Encoding: chunked');
        const chunked = chance(0.7) ? `${body.length.toString(16)}\r\n${body.toString('latin1')}\r\n0\r\n\r\n` : `zz\r\n${body.toString('latin1')}\r\n`;
        body = Buffer.from(chunked, 'latin1');
      } else {
        // Sometimes a Content-Length that lies: shorter (the rest is garbage for the parser) or longer (a stall).
        const declared = chance(0.95) ? body.length : chance(0.5) ? Math.max(0, body.length - 3) : body.length + 10;
        headers.push(`Content-Length: ${declared}`);
      }
    }
    if (chance(0.03)) headers.push(`Expect: ${pick(['100-continue', 'something-else'])}`);
    if (chance(0.02)) headers.push(`X-Huge: ${'h'.repeat(20_000)}`);
    if (chance(0.03)) headers.push('Bad Header Without Colon');
    const head = Buffer.from(`${headers.join('\r\n')}\r\n\r\n`, 'latin1');
    return { description: `${method} ${path}${query.slice(0, 40)} (${body.length} B)`, bytes: Buffer.concat([head, body]), expectsJson: method !== 'HEAD' && path !== '/metrics' };
  };

  const garbage = (): FuzzCase => {
    const line = pick([
      () => Buffer.from(Array.from({ length: 1 + int(200) }, () => int(256))),
      () => Buffer.from(`GET / HTTP/${pick(['0.9', '2.0', '1.2', 'x'])}\r\n\r\n`),
      () => Buffer.from(`${pick(['G E T', 'POST\u0000', 'BREW'])} /embed HTTP/1.1\r\nHost: x\r\n\r\n`),
      () => Buffer.from('POST /embed HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 7\r\n\r\nhello'),
      () => Buffer.from('POST /embed HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n'),
    ])();
    return { description: `garbage (${line.length} B)`, bytes: line, expectsJson: true };
  };

  return () => (chance(0.9) ? httpRequest() : garbage());
}
