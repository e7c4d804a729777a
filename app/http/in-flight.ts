import type { Request, RequestHandler, Response } from 'express';
import { shuttingDown } from '../errors';
import { dialectFor } from './error-response';
import { sendError } from './error-writer';
import type { Lifecycle } from './lifecycle';

/** While draining for shutdown, ask keep-alive callers to reconnect (to the new task) after this response. */
export function closeConnectionsWhenStopping(lifecycle: Lifecycle): RequestHandler {
  return (_req, res, next) => {
    if (lifecycle.phase === 'stopping') res.set('Connection', 'close');
    next();
  };
}

/** The requests being handled, so shutdown can wait for them and answer those that cannot finish. */
export class InFlightRequests {
  private readonly open = new Map<Response, Request>();
  private emptyWaiters: Array<() => void> = [];

  readonly track: RequestHandler = (req, res, next) => {
    this.open.set(res, req);
    res.once('close', () => {
      this.open.delete(res);
      if (this.open.size === 0) this.wakeEmptyWaiters();
    });
    next();
  };

  get size(): number {
    return this.open.size;
  }

  /** Shutdown: responses not yet started will ask their keep-alive connection to close. */
  closeConnectionsAfterResponse(): void {
    for (const res of this.open.keys()) if (!res.headersSent) res.setHeader('Connection', 'close');
  }

  /** Resolves true once no request is in flight, or false after `timeoutMs`. */
  whenEmpty(timeoutMs: number): Promise<boolean> {
    if (this.open.size === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      this.emptyWaiters.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }

  /**
   * Answers every request not answered yet with 503 + Retry-After (server shutting down) and asks
   * its connection to close, so clients retry elsewhere instead of seeing a reset.
   */
  answerUnfinished(): number {
    let answered = 0;
    for (const [res, req] of this.open) {
      if (res.headersSent || res.destroyed) continue;
      sendError(res, shuttingDown(), dialectFor(req.path), { Connection: 'close' });
      answered++;
    }
    return answered;
  }

  private wakeEmptyWaiters(): void {
    const waiters = this.emptyWaiters;
    this.emptyWaiters = [];
    waiters.forEach((wake) => wake());
  }
}
