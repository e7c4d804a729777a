import { Router } from 'express';
import { loadConfig } from '../../../../app/config';
import { buildOpenApiDocument } from '../../../../app/http/openapi';
import { RouteTable, servedRoutes } from '../../../../app/http/route-table';

/** The route table is read from the routers, so the 405 answers and /openapi.json cannot drift from what is served. */
describe('route table', () => {
  const routers = () => {
    const health = Router();
    health.get('/health', (_req, res) => res.end());
    const api = Router();
    api.post('/embed', (_req, res) => res.end());
    api.post('/v1/embeddings', (_req, res) => res.end());
    api.get('/v1/models', (_req, res) => res.end());
    api.get('/v1/models/:id', (_req, res) => res.end());
    return [health, api];
  };
  const table = new RouteTable(servedRoutes(routers()));

  it('reads each route\'s path and methods from the routers', () => {
    expect(table.routes.map((route) => [route.path, route.methods])).toEqual([
      ['/health', ['GET']],
      ['/embed', ['POST']],
      ['/v1/embeddings', ['POST']],
      ['/v1/models', ['GET']],
      ['/v1/models/:id', ['GET']],
    ]);
  });

  it('matches paths as the router does: parameters, a trailing slash, and nothing else', () => {
    expect(table.methodsFor('/health')).toEqual(['GET', 'HEAD']);
    expect(table.methodsFor('/embed/')).toEqual(['POST']);
    expect(table.methodsFor('/v1/models/anything')).toEqual(['GET', 'HEAD']);
    expect(table.methodsFor('/v1/models/a/b')).toBeUndefined();
    expect(table.methodsFor('/embedding')).toBeUndefined();
  });

  it('speaks OpenAI\'s error shape under /v1 and for /v1 routes called without the prefix, FastAPI\'s elsewhere', () => {
    expect(['/v1', '/v1/nope', '/embeddings', '/models', '/models/x'].map(table.dialectOf)).toEqual(['openai', 'openai', 'openai', 'openai', 'openai']);
    expect(['/', '/embed', '/health', '/nope', '/v2/embeddings'].map(table.dialectOf)).toEqual(['fastapi', 'fastapi', 'fastapi', 'fastapi', 'fastapi']);
  });

  it('refuses to document a route the routers do not serve, or to leave a served one out', () => {
    const config = loadConfig({}, () => 1);
    const served = new RouteTable(servedRoutes([...routers(), Router().get('/metrics', (_req, res) => res.end())])).routes;
    expect(() => buildOpenApiDocument(config, served, 'all-MiniLM-L6-v2')).toThrow(/does not describe what the routers serve: \/embed\/single, \/openapi.json/);
    const extra = Router().get('/secret', (_req, res) => res.end());
    expect(() => buildOpenApiDocument(config, servedRoutes([extra]), 'all-MiniLM-L6-v2')).toThrow(/\/secret/);
  });
});
