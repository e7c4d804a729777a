import { backoffMs, retryDelayMs } from '../../../clients/typescript/backoff';
import { parseRetryAfter } from '../../../clients/typescript/service-code';

describe('client backoff', () => {
  it('doubles the ceiling of a full-jitter backoff per retry, up to 2 s', () => {
    expect([1, 2, 3, 4, 5, 6, 10].map((retry) => backoffMs(retry, () => 1))).toEqual([100, 200, 400, 800, 1600, 2000, 2000]);
    expect(backoffMs(3, () => 0)).toBe(0);
  });

  it('reads Retry-After as seconds or as an HTTP date, and ignores what it cannot read', () => {
    const now = Date.parse('2025-01-01T00:00:00Z');
    expect(parseRetryAfter('5', now)).toBe(5000);
    expect(parseRetryAfter(' 1.5 ', now)).toBe(1500);
    expect(parseRetryAfter('Wed, 01 Jan 2025 00:00:03 GMT', now)).toBe(3000);
    expect(parseRetryAfter('Tue, 31 Dec 2024 23:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
  });

  it('waits at least what the server asked, with up to 10% more, else backs off', () => {
    expect(retryDelayMs(1, 1000, () => 0)).toBe(1000);
    expect(retryDelayMs(1, 1000, () => 1)).toBeCloseTo(1100);
    expect(retryDelayMs(2, undefined, () => 1)).toBe(200);
  });
});
