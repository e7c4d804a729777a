/**
 * Every path the service serves and its methods: the 405 guard answers from it, and a test checks
 * that /openapi.json documents exactly these.
 */
export const ROUTE_METHODS = {
  '/health': ['GET'],
  '/metrics': ['GET'],
  '/openapi.json': ['GET'],
  '/embed': ['POST'],
  '/embed/single': ['POST'],
  '/v1/embeddings': ['POST'],
  '/v1/models': ['GET'],
} as const satisfies Readonly<Record<string, readonly string[]>>;
