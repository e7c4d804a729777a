import fs from 'node:fs';

/** Clock ticks per second of /proc/<pid>/task/<tid>/stat (USER_HZ; 100 on Linux). */
const TICKS_PER_S = 100;

/**
 * The server's threads by role:
 * - `main`: the HTTP thread (the process's first thread);
 * - `inference`: the inference worker thread and onnxruntime's intra-op threads, recognised by the
 *   nice value app/model/inference-worker.ts gives them (threads inherit it when created);
 * - `helpers`: everything else: V8's platform threads (concurrent GC and compilation), libuv's pool.
 * For a server that lowers no thread's priority (the peer), `inference` is empty and its inference
 * runs on the main thread.
 */
export type ThreadRole = 'main' | 'inference' | 'helpers';

export type ThreadCpuSeconds = Record<ThreadRole, number>;

interface ThreadSample {
  /** CPU seconds: the scheduler's exact runtime where /proc/…/sched shows it, else the tick-sampled utime + stime. */
  readonly seconds: number;
  /** Times the thread went to sleep of its own accord (each is a wake-up later). */
  readonly sleeps: number;
  readonly nice: number;
}

function readThread(dir: string): ThreadSample | undefined {
  try {
    const stat = fs.readFileSync(`${dir}/stat`, 'utf8');
    // After the command name: field 3 (state) is fields[0]; utime, stime are 14 and 15; nice is 19.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    let sched = '';
    try {
      sched = fs.readFileSync(`${dir}/sched`, 'utf8'); // kernels built with CONFIG_SCHED_DEBUG
    } catch {
      // not there: ticks only
    }
    const runtimeMs = /^se\.sum_exec_runtime\s*:\s*([\d.]+)/m.exec(sched)?.[1];
    const sleeps = /^nr_voluntary_switches\s*:\s*(\d+)/m.exec(sched)?.[1];
    return { seconds: runtimeMs !== undefined ? Number(runtimeMs) / 1000 : ticks / TICKS_PER_S, sleeps: Number(sleeps ?? NaN), nice: Number(fields[16]) };
  } catch {
    return undefined; // the thread ended between the listing and the read
  }
}

function readThreads(pid: number): Map<number, ThreadSample> {
  const threads = new Map<number, ThreadSample>();
  let tids: string[];
  try {
    tids = fs.readdirSync(`/proc/${pid}/task`);
  } catch {
    return threads;
  }
  for (const tid of tids) {
    const sample = readThread(`/proc/${pid}/task/${tid}`);
    if (sample) threads.set(Number(tid), sample);
  }
  return threads;
}

const roleOf = (pid: number, tid: number, sample: ThreadSample): ThreadRole => (tid === pid ? 'main' : sample.nice > 0 ? 'inference' : 'helpers');

export interface ThreadUse {
  readonly cpuS: ThreadCpuSeconds;
  /** Voluntary sleeps (so, wake-ups) by role; NaN where the kernel does not count them. */
  readonly wakeups: ThreadCpuSeconds;
}

/**
 * CPU seconds and wake-ups of each role of a process's threads between construction and `read()`.
 * A thread that ended in between is missed (its time is gone with it); one that started counts whole.
 */
export class ThreadCpuMeter {
  private readonly start: Map<number, ThreadSample>;

  constructor(private readonly pid: number) {
    this.start = readThreads(pid);
  }

  read(): ThreadUse {
    const cpuS: ThreadCpuSeconds = { main: 0, inference: 0, helpers: 0 };
    const wakeups: ThreadCpuSeconds = { main: 0, inference: 0, helpers: 0 };
    for (const [tid, now] of readThreads(this.pid)) {
      const before = this.start.get(tid);
      const role = roleOf(this.pid, tid, now);
      cpuS[role] += Math.max(0, now.seconds - (before?.seconds ?? 0));
      wakeups[role] += Math.max(0, now.sleeps - (before?.sleeps ?? 0));
    }
    return { cpuS, wakeups };
  }
}

export type CpuMsPerText = ThreadCpuSeconds & { readonly outsideInference: number };

/** Milliseconds of CPU per text by role, and main + helpers (what the HTTP side costs). */
export function cpuMsPerText(used: ThreadCpuSeconds, texts: number): CpuMsPerText {
  const per = (seconds: number) => (texts > 0 ? (seconds * 1000) / texts : NaN);
  return { main: per(used.main), inference: per(used.inference), helpers: per(used.helpers), outsideInference: per(used.main + used.helpers) };
}
