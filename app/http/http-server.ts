import http from 'node:http';
import type { Express } from 'express';
import type { Logger } from 'winston';
import type { Config } from '../config';
import type { Metrics } from '../metrics';
import { answerClientErrorsWithJson } from './client-errors';
import { limitConnections } from './connections';

/** The longest a client may take to send its headers (at most the whole request's timeout). */
const HEADERS_TIMEOUT_MS = 10_000;
/** Longer than typical client pools' idle timeout, so callers do not race a close. */
const KEEP_ALIVE_TIMEOUT_MS = 65_000;

/**
 * Node's HTTP server around the app, with every bound a connection can hold it by: the time to
 * send headers and the whole request (then 408 and the connection closes), how long an idle
 * keep-alive connection stays, and the number of connections. What Node refuses itself is answered
 * in JSON (client-errors.ts).
 */
export function createHttpServer(config: Config, app: Express, logger: Logger, metrics: Metrics): http.Server {
  const { requestTimeoutMs, maxConnections } = config.http;
  const server = http.createServer(
    {
      requestTimeout: requestTimeoutMs,
      headersTimeout: Math.min(HEADERS_TIMEOUT_MS, requestTimeoutMs),
      // How often Node checks those timeouts (default 30 s, far coarser than they are).
      connectionsCheckingInterval: Math.min(1000, requestTimeoutMs / 2),
      // A request without Host is answered by the app (client-errors.ts), in JSON.
      requireHostHeader: false,
    },
    app,
  );
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
  limitConnections(server, maxConnections, metrics.registry);
  answerClientErrorsWithJson(server, logger, metrics);
  return server;
}
