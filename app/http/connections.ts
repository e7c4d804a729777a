import type http from 'node:http';
import type { Duplex } from 'node:stream';
import { Counter, Gauge, type Registry } from 'prom-client';

/**
 * How long a connection we answered and closed may linger for the client to read the answer and
 * close its side; then it is destroyed whatever the client does.
 */
const LINGER_MS = 1000;
/** At the cap, idle keep-alive connections are closed at most this often to make room. */
const IDLE_SWEEP_INTERVAL_MS = 1000;

/**
 * Writes `data`, ends our side, and destroys the socket when the client closes its side or
 * LINGER_MS later. `socket.end()` alone leaves the connection half-open for as long as the client
 * keeps it: no `close` event, so the request's shares of the body budget and its in-flight entry
 * would be held with it, and shutdown would wait for it.
 */
export function closeAfterWrite(socket: Duplex, data: string): void {
  const cut = setTimeout(() => socket.destroy(), LINGER_MS);
  cut.unref();
  socket.once('close', () => clearTimeout(cut));
  socket.end(data);
}

/**
 * A cap on open connections (Node's `server.maxConnections`: a connection over it is closed at
 * once, before a byte is read), below the process's file descriptors so that the descriptors a
 * running server needs stay available. When the cap is reached, idle keep-alive connections are
 * closed, so connections that hold nothing cannot hold the cap either. Counted in
 * `embedding_http_open_connections` and `embedding_http_dropped_connections_total`.
 */
export function limitConnections(server: http.Server, maxConnections: number, registry: Registry): void {
  server.maxConnections = maxConnections;
  let open = 0;
  server.on('connection', (socket: Duplex) => {
    open++;
    socket.once('close', () => open--);
  });
  new Gauge({
    name: 'embedding_http_open_connections',
    help: 'TCP connections open to the HTTP server',
    registers: [registry],
    collect() {
      this.set(open);
    },
  });
  const dropped = new Counter({
    name: 'embedding_http_dropped_connections_total',
    help: 'Connections closed unread because MAX_CONNECTIONS were open',
    registers: [registry],
  });
  let lastSweep = 0;
  server.on('drop', () => {
    dropped.inc();
    const now = performance.now();
    if (now - lastSweep < IDLE_SWEEP_INTERVAL_MS) return;
    lastSweep = now;
    server.closeIdleConnections();
  });
}
