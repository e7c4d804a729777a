import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { RequestTally, logFileStats, telemetryResult } from '../../bench/telemetry';

describe('log file statistics', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-log-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  const lines = [
    '{"level":"error","message":"request","path":"/health","status":503}',
    '{"level":"info","message":"listening"}',
    '{"level":"info","message":"request","path":"/embed","status":200}',
    '{"level":"error","message":"request failed","path":"/embed","error":"RequestAbortedError: caller went away before inference"}',
    '{"level":"error","message":"inference failed"}',
  ];
  const file = path.join(dir, 'server.log');
  fs.writeFileSync(file, `${lines.join('\n')}\n`);

  it('leaves out the benchmark /health polls, counts errors and, apart, callers that had gone', () => {
    const stats = logFileStats(file);
    expect(stats).toMatchObject({ lines: 4, errorLines: 2, abortedLines: 1 });
    expect(stats.bytes).toBe(lines.slice(1).reduce((sum, line) => sum + line.length + 1, 0));
    expect(logFileStats(path.join(dir, 'missing.log'))).toEqual({ lines: 0, bytes: 0, errorLines: 0, abortedLines: 0 });
  });

  it('per response: log bytes, and spans when traces were exported', () => {
    const tally = new RequestTally();
    tally.add(2);
    const result = telemetryResult(tally, { file, shown: 'server.log' }, { exports: 1, spans: 9, bytes: 100, rejected: 0 });
    expect(result.traces?.spansPerRequest).toBe(4.5);
    expect(result.logBytesPerRequest).toBeCloseTo(logFileStats(file).bytes / 2);
    expect(telemetryResult(tally, { file, shown: 'server.log' }, undefined).traces).toBeUndefined();
  });
});
