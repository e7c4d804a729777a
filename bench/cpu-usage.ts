import fs from 'node:fs';

/** Clock ticks per second of /proc/stat and /proc/<pid>/stat (USER_HZ; 100 on Linux). */
const TICKS_PER_S = 100;

function busyTicks(): number {
  const line = fs.readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] ?? '';
  const fields = line.trim().split(/\s+/).slice(1).map(Number);
  const total = fields.slice(0, 8).reduce((a, b) => a + b, 0);
  const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
  return total - idle;
}

function processTicks(pid: number | 'self'): number {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields[0] is field 3 (state); utime and stime are fields 14 and 15.
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return 0;
  }
}

/** CPU used during a measured run, in cores (1.0 = one core busy the whole time). */
export interface CpuUsage {
  /** The server under test (every thread of its process). */
  readonly server: number;
  /** This process: autocannon, building request bodies, parsing responses. */
  readonly loadGenerator: number;
  /** Everything else on the machine: more than a little means it was not idle. */
  readonly other: number;
}

/** Measures CPU by process from /proc between construction and `read()`. Linux only; zeros elsewhere. */
export class CpuMeter {
  private readonly startAt = performance.now();
  private readonly start: { busy: number; self: number; server: number };

  constructor(private readonly serverPid: number) {
    this.start = this.sample();
  }

  private sample(): { busy: number; self: number; server: number } {
    let busy = 0;
    try {
      busy = busyTicks();
    } catch {
      // no /proc/stat
    }
    return { busy, self: processTicks('self'), server: processTicks(this.serverPid) };
  }

  read(): CpuUsage {
    const seconds = (performance.now() - this.startAt) / 1000;
    const now = this.sample();
    const cores = (ticks: number) => (seconds > 0 ? Math.max(0, ticks / TICKS_PER_S / seconds) : 0);
    const self = now.self - this.start.self;
    const server = now.server - this.start.server;
    return { server: cores(server), loadGenerator: cores(self), other: cores(now.busy - this.start.busy - self - server) };
  }
}

/**
 * Waits until a process has been idle (below `thresholdCores` over a `windowMs` window), at most
 * `timeoutMs`: after a closed-loop run a server may still be working through requests the load
 * generator stopped waiting for, and the next measurement must not inherit that work.
 * Returns the milliseconds waited.
 */
export async function waitUntilIdle(pid: number, { thresholdCores = 0.1, windowMs = 250, timeoutMs = 30_000 } = {}): Promise<number> {
  const started = performance.now();
  for (;;) {
    const before = processTicks(pid);
    const t0 = performance.now();
    await new Promise((resolve) => setTimeout(resolve, windowMs));
    const cores = (processTicks(pid) - before) / TICKS_PER_S / ((performance.now() - t0) / 1000);
    if (cores < thresholdCores || performance.now() - started > timeoutMs) return performance.now() - started;
  }
}
