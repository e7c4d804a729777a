import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface StubRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
  readonly at: number;
}

export interface StubServer {
  readonly url: string;
  readonly requests: StubRequest[];
  close(): Promise<void>;
}

/**
 * A loopback HTTP server whose answers the test scripts: the handler sees each request (body read)
 * and its index. Used where the real service cannot be made to answer a given way on cue.
 */
export async function startStubServer(
  handler: (request: StubRequest, index: number, res: http.ServerResponse) => void | Promise<void>,
): Promise<StubServer> {
  const requests: StubRequest[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const request = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), at: Date.now() };
      requests.push(request);
      void Promise.resolve(handler(request, requests.length - 1, res)).catch(() => res.destroy());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Forwards a request's body to the real service and relays its answer. */
export async function relay(request: StubRequest, target: string, res: http.ServerResponse): Promise<void> {
  const response = await fetch(`${target}${request.path}`, { method: request.method, headers: { 'content-type': 'application/json' }, body: request.body || undefined });
  res.writeHead(response.status, { 'content-type': response.headers.get('content-type') ?? 'application/json' }).end(await response.text());
}
