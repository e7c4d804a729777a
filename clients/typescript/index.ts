export { createEmbeddingClient } from './client';
export { EmbeddingRequestError, EmbeddingServiceUnavailableError } from './errors';
export type { ClientLogger, ClientMode, EmbeddingClient, EmbeddingClientOptions, LocalModelOptions } from './types';
