import { Admission } from '../../../../app/batching/admission';
import type { SchedulingEvent } from '../../../../app/batching/events';

describe('Admission', () => {
  const options = { maxAdmittedTexts: 4, maxQueueWaitMs: 3000, interactiveMaxTexts: 4, runTargetMs: 100, runDeadline: { factor: 10, minMs: 1000 } };
  const withShed = (overrides = {}) => {
    const admission = new Admission({ ...options, ...overrides });
    const shed: SchedulingEvent[] = [];
    admission.subscribe((event) => shed.push(event));
    return { admission, shed };
  };
  /** A measured machine: 1 ms a token. */
  const measured = (overrides = {}) => {
    const made = withShed(overrides);
    for (let i = 0; i < 3; i++) made.admission.cost.record(1000, 1000);
    return made;
  };

  it('names the lane by the number of texts', () => {
    const { admission } = withShed();
    expect(admission.laneFor(1)).toBe('interactive');
    expect(admission.laneFor(4)).toBe('interactive');
    expect(admission.laneFor(5)).toBe('bulk');
    expect(admission.admit(5, 50).lane).toBe('bulk');
  });

  it('admits by texts before any work and refuses beyond the limit at once, until a permit is released', () => {
    const { admission, shed } = withShed();
    const first = admission.admit(3, 30);
    expect(() => admission.admit(2, 20)).toThrow(expect.objectContaining({ kind: 'overloaded' }));
    expect(admission.saturated()).toBe(false);
    const second = admission.admit(1, 10);
    expect(admission.saturated()).toBe(true);
    first.release();
    first.release(); // idempotent
    expect(admission.texts).toBe(1);
    const settled = admission.admit(1, 10);
    settled.settle(3); // the real count, once tokenised
    settled.release();
    admission.admit(3, 30).release();
    second.release();
    // An idle service admits even a request over the limit (configuration refuses such limits anyway).
    admission.admit(10, 100).release();
    expect(shed).toEqual([{ type: 'shed', reason: 'admitted_texts', lane: 'interactive' }]);
  });

  it('refuses a query whose expected wait (the interactive work admitted ahead, at the measured cost) is over half the bound', () => {
    const { admission, shed } = measured({ maxAdmittedTexts: 1000 });
    const permits = [];
    while (permits.length < 100) {
      try {
        permits.push(admission.admit(1, 256));
      } catch (error) {
        expect(error).toMatchObject({ kind: 'overloaded', retryAfterSeconds: 1, message: expect.stringMatching(/expected wait/) });
        break;
      }
    }
    // 1,500 ms at 1 ms a token: five queries of 256 tokens wait 1,280 ms, a sixth would wait 1,536.
    expect(permits).toHaveLength(6);
    expect(admission.saturated()).toBe(true);
    expect(shed).toEqual([{ type: 'shed', reason: 'queue_wait', lane: 'interactive' }]);
    // Served work no longer counts as waiting.
    permits[0]?.served(256);
    expect(admission.saturated()).toBe(false);
    permits.forEach((permit) => permit.release());
    expect(() => admission.admit(1, 10).release()).not.toThrow();
  });

  it('admits queries while bulk work is queued, however much', () => {
    const { admission } = measured({ maxAdmittedTexts: 10_000 });
    const bulk = [admission.admit(100, 30_000), admission.admit(100, 30_000)]; // a minute of work
    expect(admission.saturated()).toBe(false);
    const query = admission.admit(1, 12);
    expect(query.lane).toBe('interactive');
    [...bulk, query].forEach((permit) => permit.release());
  });

  it('judges a bulk request by when it can finish: never refused for its size alone, two of any size share the lane', () => {
    const { admission, shed } = measured({ maxAdmittedTexts: 10_000 });
    const huge = admission.admit(100, 25_600); // 25.6 s of work, 17 times the wait target
    huge.release();
    const bulk = [];
    for (let i = 0; i < 20; i++) {
      try {
        bulk.push(admission.admit(100, 5000));
      } catch (error) {
        // A third would finish after 3 × 5 s, beyond 1.5 s + 2 × 5 s, by 3.5 s.
        expect(error).toMatchObject({ kind: 'overloaded', retryAfterSeconds: 4, message: expect.stringMatching(/about 3500 ms later than allowed/) });
        break;
      }
    }
    expect(bulk).toHaveLength(2);
    expect(shed).toEqual([{ type: 'shed', reason: 'bulk_finish', lane: 'bulk' }]);
    // Served work shortens the others' remainders: room for one more.
    bulk.forEach((permit) => permit.served(2000));
    const third = admission.admit(100, 5000);
    // A small bulk request takes only its own size from each large one: it is admitted.
    expect(() => admission.admit(5, 100).release()).not.toThrow();
    [...bulk, third].forEach((permit) => permit.release());
  });

  it('refuses a bulk request that would push one admitted before it past its own allowance, and still admits queries', () => {
    jest.useFakeTimers();
    try {
      const { admission } = measured({ maxAdmittedTexts: 10_000 });
      const first = admission.admit(100, 5000); // allowed until 1.5 s + 2 × 5 s from now
      jest.advanceTimersByTime(9000); // nothing served: the machine slowed down, or queries took the time
      expect(() => admission.admit(10, 10)).toThrow(expect.objectContaining({ kind: 'overloaded', message: expect.stringMatching(/later than allowed/) }));
      expect(admission.admit(1, 12).lane).toBe('interactive');
      first.served(5000);
      expect(() => admission.admit(10, 10).release()).not.toThrow();
    } finally {
      jest.useRealTimers();
    }
  });

  it('refuses everything once closed for shutdown', () => {
    const { admission } = withShed();
    admission.close();
    expect(() => admission.admit(1, 10)).toThrow(expect.objectContaining({ kind: 'not_ready', message: expect.stringMatching(/shutting down/) }));
  });
});
