import { context } from '@opentelemetry/api';
import type { Permit } from '../../../../app/batching/admission';
import type { Lane } from '../../../../app/batching/events';
import { RequestQueue, type Entry, type QueuedRequest } from '../../../../app/batching/queue';
import { fakeTexts } from '../../support/fake-model';

/** A queued request with no one waiting on it: the queue only reads its lane and its wait. */
function request(lane: Lane, enqueuedAt = 0): QueuedRequest {
  const permit: Permit = { lane, settle: () => {}, served: () => {}, release: () => {} };
  return { permit, lane, enqueuedAt, traceContext: context.active(), vectors: [], remaining: 0, startedAt: undefined, finishedAt: 0, settled: false, resolve: () => {}, reject: () => {} };
}

const budget = { maxRows: 64, maxPaddedTokens: 2048, bulkTokens: 100 };
/** Each text of a run as `request:index`. */
const names = (run: Entry[]) => run.map((entry) => `${entry.text.ids[0]}:${entry.text.ids[1]}`);

describe('RequestQueue', () => {
  it('takes interactive texts before any bulk text, whenever they arrived', () => {
    const queue = new RequestQueue();
    queue.push(request('bulk'), fakeTexts(1, 3, 10));
    queue.push(request('interactive'), fakeTexts(2, 1, 10));
    expect(names(queue.nextRun(budget))).toEqual(['2:0']);
    expect(names(queue.nextRun(budget))).toEqual(['1:0', '1:1', '1:2']);
    expect(queue.nextRun(budget)).toEqual([]);
    expect(queue.isEmpty).toBe(true);
  });

  it('plans interactive runs over the oldest texts and always runs the batch that holds the oldest', () => {
    const queue = new RequestQueue();
    queue.push(request('interactive'), fakeTexts(1, 1, 200));
    queue.push(request('interactive'), fakeTexts(2, 4, 10));
    const small = { ...budget, maxPaddedTokens: 256 };
    expect(names(queue.nextRun(small))).toEqual(['1:0']); // the oldest, alone (its length fills the budget)
    expect(names(queue.nextRun(small))).toEqual(['2:0', '2:1', '2:2', '2:3']);
  });

  it('fills a bulk run up to the run target in tokens, shortest texts first', () => {
    const queue = new RequestQueue();
    queue.push(request('bulk'), [...fakeTexts(1, 2, 60), ...fakeTexts(1, 4, 30).map((t) => ({ ids: [1, 10 + (t.ids[1] as number), ...t.ids.slice(2)] }))]);
    expect(names(queue.nextRun({ ...budget, bulkTokens: 30 }))).toEqual(['1:10']);
    expect(names(queue.nextRun(budget))).toEqual(['1:11', '1:12', '1:13']); // 3 × 30; a fourth row would be 4 × 60
    expect(names(queue.nextRun(budget))).toEqual(['1:0']); // 60; two would be 120
    const long = new RequestQueue();
    long.push(request('bulk'), fakeTexts(2, 2, 256));
    expect(queue.nextRun(budget)).toHaveLength(1);
    expect(long.nextRun(budget)).toHaveLength(1); // longer than the target: alone rather than never
  });

  it('shares the bulk lane by tokens: the least-served request goes next, and a newcomer does not wait for the others\' backlogs', () => {
    const queue = new RequestQueue();
    // The same work, as many short texts and as a few long ones.
    queue.push(request('bulk'), fakeTexts(1, 20, 25));
    queue.push(request('bulk'), fakeTexts(2, 5, 100));
    const served: Record<number, number> = { 1: 0, 2: 0, 3: 0 };
    const take = () => {
      const run = queue.nextRun(budget);
      for (const entry of run) served[entry.text.ids[0] as number] += entry.length;
      return run;
    };
    for (let i = 0; i < 4; i++) {
      take();
      expect(Math.abs((served[1] as number) - (served[2] as number))).toBeLessThanOrEqual(100);
    }
    const before = { ...served };
    queue.push(request('bulk'), fakeTexts(3, 4, 25));
    while ((served[3] as number) < 100) take();
    expect((served[1] as number) - (before[1] as number)).toBeLessThanOrEqual(200);
    expect((served[2] as number) - (before[2] as number)).toBeLessThanOrEqual(200);
    while (take().length > 0);
    expect(served).toEqual({ 1: 500, 2: 500, 3: 100 });
  });

  it('takes out what a request still had waiting, in either lane', () => {
    const queue = new RequestQueue();
    const bulk = request('bulk');
    const interactive = request('interactive');
    queue.push(bulk, fakeTexts(1, 5, 10));
    queue.push(interactive, fakeTexts(2, 2, 10));
    expect(queue.size).toBe(7);
    expect(queue.remove(interactive)).toBe(2);
    expect(queue.remove(bulk)).toBe(5);
    expect(queue.isEmpty).toBe(true);
  });

  it('names the requests that can no longer start in time: past the bound, or behind too much interactive work', () => {
    const queue = new RequestQueue();
    const first = request('interactive', 0);
    const second = request('interactive', 0);
    const bulk = request('bulk', 0);
    const old = request('bulk', -1000);
    queue.push(first, fakeTexts(1, 1, 300));
    queue.push(second, fakeTexts(2, 1, 300));
    queue.push(bulk, fakeTexts(3, 1, 10));
    queue.push(old, fakeTexts(4, 1, 10));
    // Before any run was measured only the bound counts.
    expect(queue.lateStarters(0, undefined, 500)).toEqual([old]);
    // At 1 ms a token the second query starts after 300 ms of the first, the bulk ones after 600.
    expect(queue.lateStarters(0, 1, 500)).toEqual([bulk, old]);
    expect(queue.lateStarters(250, 1, 500)).toEqual([second, bulk, old]);
  });
});
