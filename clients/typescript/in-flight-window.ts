import type { ConcurrencyWindow } from './bounded-map';

/**
 * How many requests of one `embed` call may be out at once: `widest`, but one after the service
 * answered "busy, come back later" (a Retry-After), so the call's next request does not take the
 * place the refused one is waiting for; wide again once that request has been served.
 */
export class InFlightWindow implements ConcurrencyWindow {
  private size: number;
  private out = 0;
  private waiting: Array<() => void> = [];

  constructor(readonly widest: number) {
    this.size = widest;
  }

  async acquire(): Promise<void> {
    while (this.out >= this.size) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.out++;
  }

  release(): void {
    this.out--;
    this.wake();
  }

  narrow(): void {
    this.size = 1;
  }

  widen(): void {
    this.size = this.widest;
    this.wake();
  }

  private wake(): void {
    this.waiting.splice(0).forEach((resolve) => resolve());
  }
}
