import { paddedTokenCount, RunDeadline } from '../../../app/model/run-deadline';

describe('RunDeadline', () => {
  it('gives the floor until a run is measured, then a multiple of the expected time, never below the floor', () => {
    const deadline = new RunDeadline({ timeoutFactor: 10, timeoutMinMs: 1000 });
    expect(deadline.deadlineMs(2048)).toBe(1000);
    deadline.record(1000, 500); // 0.5 ms a padded token
    expect(deadline.expectedMs(2048)).toBe(1024);
    expect(deadline.deadlineMs(2048)).toBe(10_240);
    expect(deadline.deadlineMs(16)).toBe(1000);
  });

  it('follows a machine that slows down', () => {
    const deadline = new RunDeadline({ timeoutFactor: 10, timeoutMinMs: 1 });
    deadline.record(100, 10);
    for (let i = 0; i < 20; i++) deadline.record(100, 40);
    expect(deadline.expectedMs(100)).toBeGreaterThan(35);
  });

  it('counts padded tokens as rows x longest row', () => {
    expect(paddedTokenCount([[1, 2, 3], [1], [1, 2]])).toBe(9);
    expect(paddedTokenCount([])).toBe(0);
  });
});
