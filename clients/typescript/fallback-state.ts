import type { ClientLogger, ClientMode } from './types';

/** Where the next call goes: the service, the local model, or one trial call to the service (half-open). */
export type Route = 'service' | 'local' | 'probe';

/**
 * Service or local model. An outage switches to the local model for the recheck interval; then one
 * caller at a time probes the service (the others stay local) and a probe that succeeds switches
 * back. Only the switches are logged, once each.
 */
export class FallbackState {
  private localSince: number | undefined;
  private recheckAt = 0;
  private probing = false;

  constructor(
    private readonly url: string,
    private readonly recheckIntervalMs: number,
    private readonly logger: ClientLogger,
    private readonly now: () => number = Date.now,
  ) {}

  get mode(): ClientMode {
    return this.localSince === undefined ? 'service' : 'local';
  }

  route(): Route {
    if (this.localSince === undefined) return 'service';
    if (this.probing || this.now() < this.recheckAt) return 'local';
    this.probing = true;
    return 'probe';
  }

  outage(reason: string): void {
    this.recheckAt = this.now() + this.recheckIntervalMs;
    if (this.localSince !== undefined) return; // already local: another call saw it first
    this.localSince = this.now();
    this.logger.warn('embedding service unavailable; using the local model', { url: this.url, reason, recheck_interval_ms: this.recheckIntervalMs });
  }

  probeFailed(): void {
    this.probing = false;
    this.recheckAt = this.now() + this.recheckIntervalMs;
  }

  probeSucceeded(): void {
    this.probing = false;
    if (this.localSince === undefined) return;
    const localMs = this.now() - this.localSince;
    this.localSince = undefined;
    this.logger.info('embedding service is back; local model released', { url: this.url, local_ms: localMs });
  }
}
