import fs from 'node:fs';

export interface MemoryReading {
  /** Peak resident set size of the whole process (all threads), kB: VmHWM. */
  readonly peakKb: number;
  /** Current resident set size, kB: VmRSS. */
  readonly currentKb: number;
}

/** VmHWM and VmRSS of a process from /proc/<pid>/status, or undefined once it has gone. */
export function readMemory(pid: number): MemoryReading | undefined {
  let status: string;
  try {
    status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return undefined;
  }
  const field = (name: string): number => {
    const match = new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status);
    return match ? Number(match[1]) : 0;
  };
  return { peakKb: field('VmHWM'), currentKb: field('VmRSS') };
}

/**
 * Samples VmRSS every `intervalMs` while a process runs, keeping the largest sample; VmHWM (the
 * kernel's own peak) is read with `finish()`, just before the process is stopped.
 */
export class RssSampler {
  private maxSampleKb = 0;
  private samples = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly pid: number,
    intervalMs = 200,
  ) {
    this.timer = setInterval(() => this.sample(), intervalMs);
    this.timer.unref();
    this.sample();
  }

  private sample(): void {
    const reading = readMemory(this.pid);
    if (!reading) return;
    this.samples++;
    this.maxSampleKb = Math.max(this.maxSampleKb, reading.currentKb);
  }

  /** Stops sampling; returns the peak (VmHWM) and the largest VmRSS sample, in MB. */
  finish(): { peakMb: number; maxSampledMb: number; samples: number } {
    clearInterval(this.timer);
    const reading = readMemory(this.pid);
    if (reading) this.maxSampleKb = Math.max(this.maxSampleKb, reading.currentKb);
    const peakKb = Math.max(reading?.peakKb ?? 0, this.maxSampleKb);
    return { peakMb: peakKb / 1024, maxSampledMb: this.maxSampleKb / 1024, samples: this.samples };
  }
}
