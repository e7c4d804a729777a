import type { RequestHandler, Router } from 'express';
import { ServiceError } from '../errors';
import { dialectFor, type ErrorDialect } from './error-response';

/** One served route, read from a router: its path pattern, methods, and the router's own matcher. */
export interface ServedRoute {
  readonly path: string;
  readonly methods: readonly string[];
  matches(path: string): boolean;
}

/** The parts of Express's router stack (the `router` package) read here. */
interface RouteLayer {
  match(path: string): unknown;
  route?: { path: string; stack: ReadonlyArray<{ method?: string }> };
}

/** Every route of `routers`, as the routers themselves declare and match them. */
export function servedRoutes(routers: readonly Router[]): ServedRoute[] {
  return routers.flatMap((router) =>
    (router.stack as unknown as RouteLayer[]).flatMap((layer) => {
      if (!layer.route) return [];
      const methods = [...new Set(layer.route.stack.flatMap((handler) => (handler.method ? [handler.method.toUpperCase()] : [])))];
      return [{ path: layer.route.path, methods, matches: (path: string) => layer.match(path) !== false }];
    }),
  );
}

/**
 * What the service serves, derived from its routers (never listed by hand): the 405 answer for a
 * served path asked with another method, and the 404 answer for any other path, each in the
 * shape its caller reads.
 */
export class RouteTable {
  constructor(readonly routes: readonly ServedRoute[]) {}

  /** The methods a path is served with (GET implies HEAD), or undefined when no route has it. */
  methodsFor(path: string): string[] | undefined {
    const methods = this.routes.filter((route) => route.matches(path)).flatMap((route) => route.methods);
    if (methods.length === 0) return undefined;
    return methods.includes('GET') && !methods.includes('HEAD') ? [...methods, 'HEAD'] : methods;
  }

  /**
   * OpenAI's shape under /v1 and around it: a path that is a /v1 route without its prefix is an
   * OpenAI client whose base URL lacks /v1, and reads OpenAI's errors.
   */
  readonly dialectOf = (path: string): ErrorDialect => (dialectFor(path) === 'openai' || this.isUnprefixedV1(path) ? 'openai' : 'fastapi');

  private isUnprefixedV1(path: string): boolean {
    return path !== '/' && this.methodsFor(`/v1${path}`) !== undefined;
  }

  /**
   * A served path asked with a method it does not serve: 405 with `Allow`, as FastAPI/Starlette
   * answer (OPTIONS included: there is no CORS here). Runs before the routes.
   */
  readonly methodNotAllowed: RequestHandler = (req, res, next) => {
    const allowed = this.methodsFor(req.path);
    if (!allowed || allowed.includes(req.method)) {
      next();
      return;
    }
    res.set('Allow', allowed.join(', '));
    next(new ServiceError('method_not_allowed', 'Method Not Allowed'));
  };

  /** No route: 404, saying where the route is when the caller left out /v1. Runs after the routes. */
  readonly notFound: RequestHandler = (req, _res, next) => {
    if (this.isUnprefixedV1(req.path)) {
      next(
        new ServiceError(
          'not_found',
          `${req.method} ${req.path} is not served here; the OpenAI-compatible API is under /v1: ${req.method} /v1${req.path}. ` +
            'Set your client\'s base URL to end in /v1 (e.g. OpenAI(base_url="http://<host>:8003/v1")).',
        ),
      );
      return;
    }
    next(new ServiceError('not_found', `no route for ${req.method} ${req.path}`));
  };
}
