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
 */
export function rawRequest(port: number, chunks: ReadonlyArray<string | Buffer>, timeoutMs = 5000): Promise<RawResponse> {
  return new Promise((resolve) => {
    const started = Date.now();
    const socket = net.connect(port, '127.0.0.1');
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
    });
  });
}

/**
 * The first final HTTP response in `text` (status, lower-cased headers, body by Content-Length when
 * given), after any interim 1xx (100 Continue).
 */
export function parseResponse(text: string): { status: number | undefined; headers: Record<string, string>; body: string } {
  const split = text.indexOf('\r\n\r\n');
  if (split < 0) return { status: undefined, headers: {}, body: '' };
  const [statusLine, ...lines] = text.slice(0, split).split('\r\n');
  if (/^HTTP\/1\.\d 1\d\d /.test(statusLine ?? '')) return parseResponse(text.slice(split + 4));
  const headers = Object.fromEntries(lines.map((line) => [line.slice(0, line.indexOf(':')).toLowerCase(), line.slice(line.indexOf(':') + 1).trim()]));
  const rest = Buffer.from(text.slice(split + 4), 'latin1');
  const length = headers['content-length'] === undefined ? rest.length : Number(headers['content-length']);
  return { status: Number(statusLine?.split(' ')[1]), headers, body: rest.subarray(0, length).toString('utf8') };
}
