import type { Embedder } from '../embedder';

export type Phase = 'starting' | 'ready' | 'stopping';

/** Where the process is in its life, read by /health and by every route that needs the model. */
export class Lifecycle {
  private currentPhase: Phase = 'starting';
  private readyEmbedder: Embedder | undefined;

  get phase(): Phase {
    return this.currentPhase;
  }

  get embedder(): Embedder | undefined {
    return this.readyEmbedder;
  }

  markReady(embedder: Embedder): void {
    this.readyEmbedder = embedder;
    if (this.currentPhase === 'starting') this.currentPhase = 'ready';
  }

  markStopping(): void {
    this.currentPhase = 'stopping';
  }
}
