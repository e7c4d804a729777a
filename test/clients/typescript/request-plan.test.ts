import fs from 'node:fs';
import path from 'node:path';
import { boundedMap } from '../../../clients/typescript/bounded-map';
import { InFlightWindow } from '../../../clients/typescript/in-flight-window';
import { CHARS_PER_TIMEOUT_SECOND, defaultMaxBatchChars, MAX_CHARS_COUNTED, planRequests } from '../../../clients/typescript/request-plan';
import { REPO_ROOT } from '../../app/support/paths';

const sizes = (texts: string[], maxTexts: number, maxChars: number) => planRequests(texts, maxTexts, maxChars).map((indices) => indices.length);
const x = (n: number) => 'x'.repeat(n);

describe('request planning', () => {
  it('fills a request up to the text limit or the character budget, whichever comes first', () => {
    expect(sizes(Array(250).fill(x(30)), 100, 4000)).toEqual([100, 100, 50]);
    expect(sizes(Array(10).fill(x(900)), 100, 4000)).toEqual([4, 4, 2]);
  });

  it('puts texts of similar length together and each text in exactly one request', () => {
    expect(planRequests([x(1000), x(2500), x(1500), x(900), x(100)], 100, 4000)).toEqual([[4, 3, 0, 2], [1]]); // 100, 900, 1000, 1200 | 1200
    const mixed = Array.from({ length: 300 }, (_, i) => 'y'.repeat((i * 37) % 1300));
    const flat = planRequests(mixed, 100, 4000).flat();
    expect([...flat].sort((a, b) => a - b)).toEqual(mixed.map((_, i) => i));
    const lengths = flat.map((i) => mixed[i]!.length);
    expect(lengths).toEqual([...lengths].sort((a, b) => a - b));
  });

  it('counts a text no further than its first 256 tokens (1,200 characters), and sends one over the budget alone', () => {
    expect(sizes(Array(7).fill(x(50_000)), 100, 4000)).toEqual([3, 3, 1]);
    expect(planRequests(['a'.repeat(100), 'b'.repeat(1200), 'c'.repeat(100)], 100, 1000)).toEqual([[0, 2], [1]]);
    expect(planRequests([], 100, 4000)).toEqual([]);
  });

  it('gives 200 characters per second of timeout by default', () => {
    expect(defaultMaxBatchChars(10_000)).toBe(2000);
    expect(defaultMaxBatchChars(2500)).toBe(500);
  });

  it('sizes requests with the same two figures as the Python client', () => {
    const python = fs.readFileSync(path.join(REPO_ROOT, 'clients', 'python', 'embedding_client.py'), 'utf8');
    expect(Number(/^_CHARS_PER_TIMEOUT_SECOND = (\d+)$/m.exec(python)?.[1])).toBe(CHARS_PER_TIMEOUT_SECOND);
    expect(Number(/^_MAX_CHARS_COUNTED = (\d+)$/m.exec(python)?.[1])).toBe(MAX_CHARS_COUNTED);
  });
});

describe('boundedMap', () => {
  const deferred = () => {
    let resolve!: (value: string) => void;
    let reject!: (error: unknown) => void;
    const promise = new Promise<string>((res, rej) => ((resolve = res), (reject = rej)));
    return { promise, resolve, reject };
  };

  it('runs at most `limit` calls at a time and returns their results in input order', async () => {
    const calls = Array.from({ length: 5 }, deferred);
    const started: number[] = [];
    const result = boundedMap([0, 1, 2, 3, 4], new InFlightWindow(2), (i) => (started.push(i), calls[i]!.promise));
    await new Promise(setImmediate);
    expect(started).toEqual([0, 1]);
    calls[1]!.resolve('b');
    await new Promise(setImmediate);
    expect(started).toEqual([0, 1, 2]);
    calls[0]!.resolve('a');
    calls[2]!.resolve('c');
    calls[3]!.resolve('d');
    calls[4]!.resolve('e');
    await expect(result).resolves.toEqual(['a', 'b', 'c', 'd', 'e']);
  });

  it('starts nothing after a failure and throws the first failure in input order once the running call has settled', async () => {
    const calls = Array.from({ length: 5 }, deferred);
    const started: number[] = [];
    const result = boundedMap([0, 1, 2, 3, 4], new InFlightWindow(2), (i) => (started.push(i), calls[i]!.promise));
    result.catch(() => {});
    await new Promise(setImmediate);
    calls[1]!.reject(new Error('second'));
    await new Promise(setImmediate);
    calls[0]!.reject(new Error('first'));
    await expect(result).rejects.toThrow('first');
    expect(started).toEqual([0, 1]);
  });
});

describe('InFlightWindow', () => {
  it('lets one call out after narrow() until widen(), then as many as it was made for', async () => {
    const window = new InFlightWindow(2);
    await window.acquire();
    window.narrow();
    let second = false;
    const waiting = window.acquire().then(() => (second = true));
    await new Promise(setImmediate);
    expect(second).toBe(false); // one is out: a narrowed window is full
    window.widen();
    await waiting;
    expect(second).toBe(true);
  });
});
