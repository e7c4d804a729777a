import fs from 'node:fs';
import type { OtlpCounts } from './otlp-sink';

/** What a server's telemetry amounted to over its whole run (warm-ups included). */
export interface TelemetryResult {
  /** HTTP responses the server gave to the load generator (every status; /health polls not counted). */
  readonly requestsServed: number;
  /** undefined when tracing was off. */
  readonly traces?: OtlpCounts & { readonly spansPerRequest: number };
  /** The server's stdout (its JSON log lines); the counts below leave out the benchmark's /health polls. */
  readonly logFile: string;
  readonly logLines: number;
  readonly logBytes: number;
  readonly logBytesPerRequest: number;
  /** Lines logged at level error: any besides `abortedLines` deserve a look. */
  readonly errorLines: number;
  /** Of those, requests the load generator abandoned (the end of every closed-loop run, timeouts). */
  readonly abortedLines: number;
}

/**
 * Lines, bytes and error-level lines of a JSON-lines log file (zeros when it does not exist), leaving
 * out the lines of the benchmark's own /health polls (while the model loads each is a 503, which the
 * service logs at level error). `abortedLines`: error lines of requests whose caller had gone (the
 * closed-loop generator drops its in-flight requests at the end of every run).
 */
export function logFileStats(file: string): { lines: number; bytes: number; errorLines: number; abortedLines: number } {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return { lines: 0, bytes: 0, errorLines: 0, abortedLines: 0 };
  }
  const lines = text.split('\n').filter((line) => line.trim() !== '' && !line.includes('"path":"/health"'));
  const errors = lines.filter((line) => line.includes('"level":"error"'));
  return {
    lines: lines.length,
    bytes: lines.reduce((sum, line) => sum + Buffer.byteLength(line) + 1, 0),
    errorLines: errors.length,
    abortedLines: errors.filter((line) => line.includes('RequestAbortedError')).length,
  };
}

/** Counts every response a server gave during its run, warm-ups and settle periods included. */
export class RequestTally {
  count = 0;
  add(responses: number): void {
    this.count += responses;
  }
}

export function telemetryResult(tally: RequestTally, log: { file: string; shown: string }, traces: OtlpCounts | undefined): TelemetryResult {
  const stats = logFileStats(log.file);
  const perRequest = (value: number) => (tally.count > 0 ? value / tally.count : 0);
  return {
    requestsServed: tally.count,
    ...(traces ? { traces: { ...traces, spansPerRequest: perRequest(traces.spans) } } : {}),
    logFile: log.shown,
    logLines: stats.lines,
    logBytes: stats.bytes,
    logBytesPerRequest: perRequest(stats.bytes),
    errorLines: stats.errorLines,
    abortedLines: stats.abortedLines,
  };
}
