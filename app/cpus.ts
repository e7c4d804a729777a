import fs from 'node:fs';
import os from 'node:os';

/**
 * How many CPUs this process may really use. On ECS/Fargate and in Docker the cgroup quota
 * (cgroup v2 `cpu.max`, e.g. "50000 100000" for 0.5 vCPU) is the limit, not os.cpus(), which
 * reports the host. Rounded up, at least 1, never more than the cores the kernel lets us run on.
 */
export function availableCpus(cpuMaxPath = '/sys/fs/cgroup/cpu.max'): number {
  const cores = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  const quota = readCgroupQuota(cpuMaxPath);
  if (quota === undefined) return Math.max(1, cores);
  return Math.max(1, Math.min(cores, Math.ceil(quota)));
}

/** CPU quota in cores from a cgroup v2 cpu.max file, or undefined when unlimited or unreadable. */
export function readCgroupQuota(cpuMaxPath: string): number | undefined {
  let text: string;
  try {
    text = fs.readFileSync(cpuMaxPath, 'utf8').trim();
  } catch {
    return undefined;
  }
  const [quota, period] = text.split(/\s+/);
  if (quota === undefined || quota === 'max') return undefined;
  const q = Number(quota);
  const p = Number(period ?? 100000);
  if (!Number.isFinite(q) || !Number.isFinite(p) || q <= 0 || p <= 0) return undefined;
  return q / p;
}
