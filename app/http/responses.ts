import type { Response } from 'express';
import { Counter, Gauge, type Registry } from 'prom-client';

export interface ResponseLimits {
  /** Bytes held by responses being written (MAX_INFLIGHT_RESPONSE_BYTES). */
  readonly maxInflightBytes: number;
  /** The longest a response may take to be handed to its client (RESPONSE_WRITE_TIMEOUT_MS). */
  readonly writeTimeoutMs: number;
}

/**
 * A JSON object with one long list in it, written piece by piece: `head`, the items serialised one
 * at a time, `tail`. `heldBytes`: what the response keeps alive until it is written (its vectors).
 */
export interface JsonList<T> {
  readonly head: string;
  readonly items: readonly T[];
  readonly item: (value: T, index: number) => string;
  readonly tail: string;
  readonly heldBytes: number;
}

/** `{...before, [key]: [`, and `], ...after}`: the text around a list of `key` in an object. */
export function aroundList(before: Record<string, unknown>, key: string, after: Record<string, unknown>): { head: string; tail: string } {
  const fields = (object: Record<string, unknown>) => JSON.stringify(object).slice(1, -1);
  const head = `{${fields(before)}${Object.keys(before).length > 0 ? ',' : ''}${JSON.stringify(key)}:[`;
  const tail = `]${Object.keys(after).length > 0 ? `,${fields(after)}` : ''}}`;
  return { head, tail };
}

export interface JsonResponder {
  /** True when responses being written hold the whole budget: refuse new work before reading it. */
  saturated(): boolean;
  /** Writes `list` as the 200 response, within the budget and the write timeout. */
  send<T>(res: Response, list: JsonList<T>): void;
}

/** Serialised text is handed to the socket in pieces of about this many characters. */
const PIECE_CHARS = 64 * 1024;

/**
 * Writes the embedding routes' responses, which can be 2,000 times the size of their request
 * (2,048 empty strings: an 8 KB request, a 16 MB response). Serialised all at once, such a response
 * would hold its text twice over (the string and its encoding) for as long as the client takes to
 * read it, or for ever if it never does. Instead it is written in pieces, each only when the
 * socket has taken the last (chunked encoding), so a response holds its vectors and one piece;
 * what responses being written hold is bounded by a budget (`saturated()` lets the routes refuse
 * new requests while it is spent); and a response not taken within the write timeout is cut (the
 * connection destroyed, counted in `embedding_http_response_write_timeouts_total`).
 */
export function createJsonResponder(limits: ResponseLimits, registry: Registry): JsonResponder {
  let held = 0;
  new Gauge({
    name: 'embedding_http_response_bytes_held',
    help: 'Bytes held by responses being written (their vectors), against MAX_INFLIGHT_RESPONSE_BYTES',
    registers: [registry],
    collect() {
      this.set(held);
    },
  });
  const timeouts = new Counter({
    name: 'embedding_http_response_write_timeouts_total',
    help: 'Responses cut because their client did not take them within RESPONSE_WRITE_TIMEOUT_MS',
    registers: [registry],
  });

  const writable = (res: Response) => !res.destroyed && !res.writableEnded;
  /** Resolves once the socket has taken what was written, or the response is gone. */
  const drained = (res: Response) =>
    new Promise<void>((resolve) => {
      const done = () => {
        res.off('drain', done).off('close', done);
        resolve();
      };
      res.once('drain', done).once('close', done);
    });

  async function write<T>(res: Response, list: JsonList<T>): Promise<void> {
    res.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8' });
    let piece = list.head;
    for (let i = 0; i < list.items.length; i++) {
      piece += `${i > 0 ? ',' : ''}${list.item(list.items[i] as T, i)}`;
      if (piece.length < PIECE_CHARS) continue;
      if (!writable(res)) return;
      const more = res.write(piece);
      piece = '';
      if (!more) await drained(res);
    }
    if (writable(res)) res.end(piece + list.tail);
  }

  return {
    saturated: () => held > 0 && held >= limits.maxInflightBytes,
    send(res, list) {
      held += list.heldBytes;
      const timer = setTimeout(() => {
        timeouts.inc();
        res.destroy();
      }, limits.writeTimeoutMs);
      // 'finish': the last byte is with the kernel; 'close': the connection went first.
      const done = () => {
        clearTimeout(timer);
        res.off('finish', done).off('close', done);
        held -= list.heldBytes;
      };
      res.once('finish', done).once('close', done);
      void write(res, list).catch(() => res.destroy());
    },
  };
}
