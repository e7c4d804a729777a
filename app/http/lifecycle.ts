import type { EmbeddingService } from '../embedding-service';

export type Phase = 'starting' | 'ready' | 'stopping';

/** Where the process is in its life, read by /health and by every route that needs the model. */
export class Lifecycle {
  private currentPhase: Phase = 'starting';
  private embeddingService: EmbeddingService | undefined;

  get phase(): Phase {
    return this.currentPhase;
  }

  get service(): EmbeddingService | undefined {
    return this.embeddingService;
  }

  markReady(service: EmbeddingService): void {
    this.embeddingService = service;
    if (this.currentPhase === 'starting') this.currentPhase = 'ready';
  }

  markStopping(): void {
    this.currentPhase = 'stopping';
  }
}
