import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** Where the cgroup files are: the process's own membership list and the cgroup filesystem. */
export interface CgroupLocations {
  /** Default `/proc/self/cgroup`. */
  readonly procSelfCgroup?: string;
  /** Default `/sys/fs/cgroup`: cgroup v2 mounted here, or cgroup v1 with its `cpu` hierarchy in `cpu/`. */
  readonly root?: string;
}

/**
 * How many CPUs this process may really use. On ECS/Fargate and in Docker the cgroup quota
 * (cgroup v2 `cpu.max`, e.g. "50000 100000" for 0.5 vCPU; or cgroup v1's cfs quota/period) is the
 * limit, not os.cpus(), which reports the host. Rounded up, at least 1, never more than the cores
 * the kernel lets us run on.
 */
export function availableCpus(locations: CgroupLocations = {}): number {
  const cores = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  const quota = cgroupCpuQuota(locations);
  if (quota === undefined) return Math.max(1, cores);
  return Math.max(1, Math.min(cores, Math.ceil(quota)));
}

/**
 * The CPU quota (cores) in force for this process, or undefined when none is set.
 *
 * The quota lives on the process's own cgroup, named in /proc/self/cgroup (`0::/path` for cgroup v2,
 * the line listing the `cpu` controller for v1), or on any ancestor of it: the effective limit is
 * the smallest quota on the path up to the root of the mount. Inside a container with its own cgroup
 * namespace that path is `/`, the root of the mount, which is where this read before; when the
 * group's directory cannot be found under the mount (another namespace's view), only the root counts.
 */
export function cgroupCpuQuota(locations: CgroupLocations = {}): number | undefined {
  const root = locations.root ?? '/sys/fs/cgroup';
  const membership = readMembership(locations.procSelfCgroup ?? '/proc/self/cgroup');
  const v2 = membership.v2 !== undefined ? smallestOnPath(root, membership.v2, (dir) => readCgroupQuota(path.join(dir, 'cpu.max'))) : undefined;
  if (v2 !== undefined) return v2;
  const v1Mount = path.join(root, 'cpu');
  const v1 = membership.v1Cpu !== undefined ? smallestOnPath(v1Mount, membership.v1Cpu, readCgroupV1Quota) : undefined;
  if (v1 !== undefined) return v1;
  return readCgroupQuota(path.join(root, 'cpu.max')) ?? readCgroupV1Quota(v1Mount);
}

/** A process's cgroup paths: the cgroup v2 (unified) one and, for cgroup v1, one per controller. */
export interface CgroupMembership {
  readonly v2?: string;
  readonly v1: ReadonlyMap<string, string>;
}

/** Parses /proc/<pid>/cgroup: `hierarchy-id:controller-list:path` lines (the path may itself contain ':'). */
export function parseCgroupMembership(text: string): CgroupMembership {
  const v1 = new Map<string, string>();
  let v2: string | undefined;
  for (const line of text.split('\n')) {
    const match = /^(\d+):([^:]*):(\/.*)$/.exec(line.trim());
    if (!match) continue;
    const [, id, controllers, groupPath] = match as unknown as [string, string, string, string];
    if (id === '0' && controllers === '') v2 = groupPath;
    else for (const controller of controllers.split(',')) if (controller) v1.set(controller, groupPath);
  }
  return { v2, v1 };
}

/** The process's cgroup paths from /proc/self/cgroup: the v2 unified one and the v1 `cpu` one. */
export function readMembership(procSelfCgroup: string): { v2?: string; v1Cpu?: string } {
  let text: string;
  try {
    text = fs.readFileSync(procSelfCgroup, 'utf8');
  } catch {
    return {};
  }
  const membership = parseCgroupMembership(text);
  return { ...(membership.v2 !== undefined ? { v2: membership.v2 } : {}), ...(membership.v1.has('cpu') ? { v1Cpu: membership.v1.get('cpu') } : {}) };
}

/** The smallest value `read` finds in the group's directory and each ancestor up to the mount. */
function smallestOnPath(mount: string, groupPath: string, read: (dir: string) => number | undefined): number | undefined {
  const parts = path.posix.normalize(groupPath).split('/').filter((p) => p !== '' && p !== '..' && p !== '.');
  let smallest: number | undefined;
  for (let depth = parts.length; depth >= 0; depth--) {
    const quota = read(path.join(mount, ...parts.slice(0, depth)));
    if (quota !== undefined && (smallest === undefined || quota < smallest)) smallest = quota;
  }
  return smallest;
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
