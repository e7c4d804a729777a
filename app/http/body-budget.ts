import type { RequestHandler } from 'express';
import { overloaded } from '../errors';
import { hasBody } from './middleware';

/**
 * Bounds the bytes of request bodies being read, parsed and held at once: a body that would take
 * the total over `budgetBytes` is refused with 503 + Retry-After before a byte of it is read. A
 * body's share is its Content-Length, or the largest allowed body when that is unknown (chunked)
 * or when it is compressed (what matters is the inflated size). Its share is returned when the
 * response is over, since the parsed texts live until then.
 */
export function limitBodiesInFlight(budgetBytes: number, maxBodyBytes: number, onShed: () => void = () => {}): RequestHandler {
  let inFlight = 0;
  return (req, res, next) => {
    if (!hasBody(req)) {
      next();
      return;
    }
    const declared = Number(req.headers['content-length']);
    const compressed = (req.headers['content-encoding'] ?? 'identity').toLowerCase() !== 'identity';
    const share = !compressed && Number.isInteger(declared) && declared >= 0 ? Math.min(declared, maxBodyBytes) : maxBodyBytes;
    if (inFlight > 0 && inFlight + share > budgetBytes) {
      onShed();
      next(overloaded('too many request bodies are being read at once; retry shortly'));
      return;
    }
    inFlight += share;
    res.once('close', () => (inFlight -= share));
    next();
  };
}
