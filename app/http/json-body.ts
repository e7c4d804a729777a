import type { Readable, Transform } from 'node:stream';
import { TextDecoder } from 'node:util';
import zlib from 'node:zlib';
import type { Request, RequestHandler } from 'express';
import { callerClosed, overloaded, ServiceError } from '../errors';
import type { BodyBudget } from './body-budget';
import { JsonDepthGauge } from './json-depth';

/**
 * Deepest nesting a body may have. The request schemas need 3 (`{"input": [[1, 2]]}`, token ids,
 * refused with a message that says what to do); anything deeper is refused before it is parsed.
 */
export const MAX_JSON_DEPTH = 16;

export interface JsonBodyOptions {
  /** Largest body, as received and after decompression (MAX_BODY_BYTES). */
  readonly maxBytes: number;
  readonly budget: BodyBudget;
  /** A body refused because the budget is spent (for the shed metric). */
  readonly onShed: () => void;
}

export const hasBody = (req: Request): boolean =>
  req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;

/** The parsed JSON body, or undefined when the request carried none (FastAPI then reports loc ["body"]). */
export const jsonBodyOf = (req: Request): unknown => (hasBody(req) ? (req.body as unknown) : undefined);

type Decompressor = () => Transform;

const DECOMPRESSORS: Readonly<Record<string, Decompressor>> = {
  gzip: () => zlib.createGunzip(),
  deflate: () => zlib.createInflate(),
  br: () => zlib.createBrotliDecompress(),
  // Node 22.15+ (the image's Node) decompresses zstd; Node 20 does not.
  ...('createZstdDecompress' in zlib ? { zstd: () => (zlib as unknown as { createZstdDecompress: Decompressor }).createZstdDecompress() } : {}),
};

/** The decompressor for the body's Content-Encoding (undefined: identity); throws 415 for one this server cannot decode. */
function decompressorFor(req: Request): Decompressor | undefined {
  const encoding = (req.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
  if (encoding === 'identity') return undefined;
  const decompressor = DECOMPRESSORS[encoding];
  if (!decompressor) {
    throw new ServiceError('unsupported_media_type', `unsupported Content-Encoding "${encoding}" (supported: ${['identity', ...Object.keys(DECOMPRESSORS)].join(', ')})`);
  }
  return decompressor;
}

const tooLarge = (limit: number, inflated: boolean) =>
  new ServiceError('payload_too_large', `request body is larger than the limit of ${limit} bytes (MAX_BODY_BYTES)${inflated ? ' once decompressed' : ''}`);

/** A text decoder for the body's charset: JSON is UTF-8 (RFC 8259); other UTF encodings are decoded too, as body-parser did. */
function decoderFor(req: Request): TextDecoder {
  const charset = /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(req.headers['content-type'] ?? '')?.[1]?.toLowerCase() ?? 'utf-8';
  try {
    if (charset.startsWith('utf-')) return new TextDecoder(charset);
  } catch {
    // an unknown label: refused below
  }
  throw new ServiceError('unsupported_media_type', `unsupported charset "${charset}": send JSON as UTF-8`);
}

/**
 * JSON routes take JSON only: a body of another Content-Type is 415, like FastAPI's JSON body routes,
 * and so is a Content-Encoding or charset this server cannot decode. Checked before the body is read.
 */
export const requireJsonBody: RequestHandler = (req, _res, next) => {
  if (!hasBody(req)) {
    next();
    return;
  }
  if (!req.is('application/json')) {
    next(new ServiceError('unsupported_media_type', `Content-Type must be application/json, got ${req.headers['content-type'] ?? 'none'}`));
    return;
  }
  try {
    decompressorFor(req);
    decoderFor(req);
  } catch (error) {
    next(error);
    return;
  }
  next();
};

/**
 * Reads a JSON body within three bounds, each applied while the bytes stream in: its size after
 * decompression (MAX_BODY_BYTES: 413 at the first byte over, the decompressor stopped there), its
 * nesting depth (400 at the first bracket over MAX_JSON_DEPTH, before any parse), and the shared
 * body budget (503 when the bytes held by all bodies would exceed MAX_INFLIGHT_BODY_BYTES). Only a
 * body within all three is parsed. Its share of the budget is held until the response is over
 * (the parsed texts live until then), or returned at once when reading fails. Runs after
 * requireJsonBody.
 *
 * Written here rather than with express.json (body-parser): body-parser buffers the whole body
 * before its `verify` hook runs and has no per-chunk hook, so it can neither charge bytes as they
 * arrive nor stop a nested or inflating body early.
 */
export function readJsonBody(options: JsonBodyOptions): RequestHandler {
  const { maxBytes, budget, onShed } = options;
  return (req, res, next) => {
    req.body = undefined;
    if (!hasBody(req)) {
      next();
      return;
    }
    const decompressor = decompressorFor(req);
    const decoder = decoderFor(req);
    const announced = Number(req.headers['content-length'] ?? 0);
    if (announced > maxBytes) {
      next(tooLarge(maxBytes, false));
      return;
    }
    if (!budget.admits(announced)) {
      onShed();
      next(overloaded('too many request bodies are being read at once; retry shortly'));
      return;
    }

    const share = budget.open();
    res.once('close', share.release);
    const inflater = decompressor?.();
    const source: Readable = inflater ? req.pipe(inflater) : req;
    const depth = new JsonDepthGauge(MAX_JSON_DEPTH);
    const pieces: string[] = [];
    let received = 0;
    let settled = false;

    const stop = () => {
      settled = true;
      source.off('data', onData).off('end', onEnd);
      // A decompressor torn down mid-stream may still report its state: nothing left to tell.
      inflater?.off('error', onSourceError).on('error', () => {});
      req.off('error', onRequestGone).off('close', onRequestClosed);
      if (inflater) {
        req.unpipe(inflater);
        inflater.destroy();
      }
      pieces.length = 0;
    };
    const fail = (error: unknown) => {
      if (settled) return;
      stop();
      share.release();
      // What the client still sends is read and dropped, so a keep-alive connection stays usable.
      if (!req.complete) req.resume();
      next(error);
    };
    const onData = (chunk: Buffer) => {
      received += chunk.length;
      if (received > maxBytes) return fail(tooLarge(maxBytes, decompressor !== undefined));
      if (!share.add(chunk.length)) {
        onShed();
        return fail(overloaded('too many request bodies are being read at once; retry shortly'));
      }
      const text = decoder.decode(chunk, { stream: true });
      if (!depth.feed(text)) return fail(new ServiceError('malformed_request', `request body is nested deeper than ${MAX_JSON_DEPTH} levels`));
      pieces.push(text);
    };
    const onEnd = () => {
      if (settled) return;
      const text = pieces.join('') + decoder.decode();
      stop();
      try {
        req.body = text.length === 0 ? {} : JSON.parse(text);
      } catch {
        share.release();
        next(new ServiceError('malformed_json', 'request body is not valid JSON'));
        return;
      }
      next();
    };
    const onSourceError = () => fail(new ServiceError('malformed_request', 'request body could not be decompressed: it does not match its Content-Encoding (corrupt gzip, deflate or br data)'));
    const onRequestGone = () => fail(callerClosed());
    const onRequestClosed = () => {
      if (!req.complete) fail(callerClosed());
    };
    source.on('data', onData).on('end', onEnd);
    inflater?.on('error', onSourceError);
    req.on('error', onRequestGone).on('close', onRequestClosed);
  };
}
