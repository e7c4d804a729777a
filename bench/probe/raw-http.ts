import net from 'node:net';

export interface RawResponse {
  readonly status: number | undefined;
  readonly headers: Record<string, string>;
  readonly body: string;
  /** The server closed the connection (as opposed to our timeout ending the wait). */
  readonly closed: boolean;
  readonly ms: number;
}

/**
 * Writes bytes to the server over a plain socket (for what fetch refuses to send: malformed request
 * lines, oversized headers, bodies that stall) and reads until the server closes or `timeoutMs`.
 * `halfClose`: end our side once the bytes are written (FIN), as some clients do after a request.
 */
export function rawRequest(port: number, chunks: ReadonlyArray<string | Buffer>, timeoutMs = 5000, { halfClose = false } = {}): Promise<RawResponse> {
  return new Promise((resolve) => {
    const started = Date.now();
    const socket = net.connect({ port, host: '127.0.0.1', allowHalfOpen: halfClose });
    const received: Buffer[] = [];
    let closed = false;
    const finish = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ ...parseResponse(Buffer.concat(received).toString('latin1')), closed, ms: Date.now() - started });
    };
    const timer = setTimeout(finish, timeoutMs);
    socket.on('data', (chunk) => received.push(chunk));
    socket.on('end', () => {
      closed = true;
      finish();
    });
    socket.on('error', () => {
      closed = true;
      finish();
    });
    socket.on('connect', () => {
      for (const chunk of chunks) socket.write(chunk);
      if (halfClose) socket.end();
    });
  });
}

/**
 * The first final HTTP response in `text` (status, lower-cased headers, body by Content-Length or
 * chunked encoding), after any interim 1xx (100 Continue). `complete`: the whole body is there.
 */
export function parseResponse(text: string): { status: number | undefined; headers: Record<string, string>; body: string; complete: boolean } {
  const split = text.indexOf('\r\n\r\n');
  if (split < 0) return { status: undefined, headers: {}, body: '', complete: false };
  const [statusLine, ...lines] = text.slice(0, split).split('\r\n');
  if (/^HTTP\/1\.\d 1\d\d /.test(statusLine ?? '')) return parseResponse(text.slice(split + 4));
  const headers = Object.fromEntries(lines.map((line) => [line.slice(0, line.indexOf(':')).toLowerCase(), line.slice(line.indexOf(':') + 1).trim()]));
  const rest = Buffer.from(text.slice(split + 4), 'latin1');
  const status = Number(statusLine?.split(' ')[1]);
  if (/chunked/i.test(headers['transfer-encoding'] ?? '')) return { status, headers, ...dechunk(rest) };
  const length = headers['content-length'] === undefined ? rest.length : Number(headers['content-length']);
  return { status, headers, body: rest.subarray(0, length).toString('utf8'), complete: rest.length >= length };
}

/** A chunked body's data, and whether its last (zero-length) chunk has arrived. */
function dechunk(bytes: Buffer): { body: string; complete: boolean } {
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const lineEnd = bytes.indexOf('\r\n', at, 'latin1');
    if (lineEnd < 0) break;
    const size = parseInt(bytes.subarray(at, lineEnd).toString('latin1'), 16);
    if (!Number.isFinite(size)) break;
    if (size === 0) return { body: Buffer.concat(parts).toString('utf8'), complete: true };
    parts.push(bytes.subarray(lineEnd + 2, Math.min(bytes.length, lineEnd + 2 + size)));
    at = lineEnd + 2 + size + 2;
    if (at > bytes.length) break;
  }
  return { body: Buffer.concat(parts).toString('utf8'), complete: false };
}

export interface HeldConnection {
  /** Our end's port (the server sees the connection from it). */
  readonly localPort: number;
  /** Everything the server has sent so far. */
  readonly received: () => string;
  /** Resolves when the server ends or resets the connection (bounded by the test, not here). */
  readonly serverClosed: Promise<void>;
  write(chunk: string | Buffer): void;
  /** Stops reading (what the server sends piles up in the kernel's buffers), and starts again. */
  pause(): void;
  resume(): void;
  /** Closes our side for good (the test's cleanup). */
  destroy(): void;
}

/**
 * A connection the test keeps open however the server ends its side: `allowHalfOpen`, so Node
 * does not answer the server's FIN with ours (a client that holds a half-open socket).
 */
export function holdConnection(port: number, chunks: ReadonlyArray<string | Buffer>): Promise<HeldConnection> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
    const received: Buffer[] = [];
    const serverClosed = new Promise<void>((done) => {
      socket.once('end', () => done());
      socket.once('close', () => done());
    });
    socket.on('data', (chunk: Buffer) => received.push(chunk));
    socket.on('error', () => {});
    socket.once('connect', () => {
      for (const chunk of chunks) socket.write(chunk);
      resolve({
        localPort: socket.localPort ?? 0,
        received: () => Buffer.concat(received).toString('latin1'),
        serverClosed,
        write: (chunk) => socket.write(chunk),
        pause: () => socket.pause(),
        resume: () => socket.resume(),
        destroy: () => socket.destroy(),
      });
    });
    socket.once('error', reject);
  });
}
