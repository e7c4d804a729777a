import fs from 'node:fs';
import os from 'node:os';

/**
 * How many CPUs this process may really use. On ECS/Fargate and in Docker the cgroup quota
 * (cgroup v2 `cpu.max`, e.g. "50000 100000" for 0.5 vCPU; or cgroup v1's cfs quota/period) is the
 * limit, not os.cpus(), which reports the host. Rounded up, at least 1, never more than the cores
 * the kernel lets us run on.
 */
export function availableCpus(cpuMaxPath = '/sys/fs/cgroup/cpu.max', cgroupV1Dir = '/sys/fs/cgroup/cpu'): number {
  const cores = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  const quota = readCgroupQuota(cpuMaxPath) ?? readCgroupV1Quota(cgroupV1Dir);
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

/** cgroup v1: cpu.cfs_quota_us / cpu.cfs_period_us, -1 meaning unlimited. */
export function readCgroupV1Quota(dir: string): number | undefined {
  try {
    const quota = Number(fs.readFileSync(`${dir}/cpu.cfs_quota_us`, 'utf8').trim());
    const period = Number(fs.readFileSync(`${dir}/cpu.cfs_period_us`, 'utf8').trim());
    return quota > 0 && period > 0 ? quota / period : undefined;
  } catch {
    return undefined;
  }
}
