import { Gauge, type Registry } from 'prom-client';

/**
 * The bytes of request bodies the process holds at once: received (and inflated), then parsed into
 * texts that live until the response is over. Charged as the bytes arrive, never by what a header
 * announces (a client announcing 2 MB and sending nothing holds nothing), and returned in one
 * piece, once, when the request ends, however it ends.
 */
export class BodyBudget {
  private held = 0;

  constructor(
    readonly limitBytes: number,
    registry?: Registry,
  ) {
    if (registry) {
      const heldBytes = () => this.held;
      new Gauge({
        name: 'embedding_http_body_bytes_held',
        help: 'Bytes of request bodies received and held (until their response is over), against MAX_INFLIGHT_BODY_BYTES',
        registers: [registry],
        collect() {
          this.set(heldBytes());
        },
      });
    }
  }

  get heldBytes(): number {
    return this.held;
  }

  /**
   * Whether a body announcing `announcedBytes` may start: what is held now plus it fits. Checked
   * before a byte is read, so an upload that could not finish is refused unread. When nothing is
   * held, any body may start (the configuration guarantees one largest body fits).
   */
  admits(announcedBytes: number): boolean {
    return this.held === 0 || this.held + announcedBytes <= this.limitBytes;
  }

  /** A share for one request body, empty until its bytes arrive. */
  open(): BodyShare {
    let mine = 0;
    let released = false;
    return {
      get bytes() {
        return mine;
      },
      add: (bytes) => {
        if (released) return false;
        // Over the limit only when others hold bytes too: a lone body may always reach its own limit.
        if (this.held + bytes > this.limitBytes && this.held > mine) return false;
        mine += bytes;
        this.held += bytes;
        return true;
      },
      release: () => {
        if (released) return;
        released = true;
        this.held -= mine;
      },
    };
  }
}

export interface BodyShare {
  readonly bytes: number;
  /** Charges `bytes` more; false (nothing charged) when the budget cannot take them. */
  add(bytes: number): boolean;
  /** Returns everything this share holds; later calls do nothing. */
  release(): void;
}
