import fs from 'node:fs';
import path from 'node:path';
import { parseCgroupMembership } from '../app/cpus';

/**
 * A child cgroup with a CPU quota and a memory limit, for running one server in the shape of an ECS
 * task (`--task-shape`). cgroup v2 (`cpu.max`, `memory.max`) where the unified hierarchy has the
 * controllers, else cgroup v1 (`cpu.cfs_quota_us`/`cpu.cfs_period_us`, `memory.limit_in_bytes`).
 * The group is created next to (v2) or under (v1) the benchmark's own group, found through
 * /proc/self/cgroup and /proc/self/mountinfo, so it nests inside whatever limits the benchmark
 * already runs in. A server joins it through `launchPrefix()` (a shell that writes its own pid to
 * `cgroup.procs`, then execs node), so everything it does from its first instruction is limited.
 */

export type Controller = 'cpu' | 'memory';

export interface TaskLimits {
  /** CPU quota in cores (0.5 for a 512-unit task). */
  readonly cpuCores: number;
  readonly memoryBytes: number;
}

/** Where to read the process's cgroup membership and the mounts; tests point these at a fake tree. */
export interface CgroupSystem {
  readonly procSelfCgroup: string;
  readonly mountinfo: string;
}

export const PROC_SYSTEM: CgroupSystem = { procSelfCgroup: '/proc/self/cgroup', mountinfo: '/proc/self/mountinfo' };

/** The CFS period every quota is expressed in (the kernel's default), µs. */
export const CPU_PERIOD_US = 100_000;
const GROUP_PREFIX = 'embedding-bench-';

interface Mount {
  readonly root: string;
  readonly mountPoint: string;
  readonly fsType: string;
  readonly superOptions: readonly string[];
}

/** A controller's place: the hierarchy it is in and the directory new groups are made in. */
export interface Placement {
  readonly version: 1 | 2;
  /** The directory the new group is created in. */
  readonly parentDir: string;
}

const unescapeMount = (field: string) => field.replace(/\\([0-7]{3})/g, (_m, octal: string) => String.fromCharCode(parseInt(octal, 8)));

export function parseMountinfo(text: string): Mount[] {
  const mounts: Mount[] = [];
  for (const line of text.split('\n')) {
    const [left, right] = line.split(' - ');
    if (!left || !right) continue;
    const fields = left.split(' ');
    const [fsType, , superOptions] = right.split(' ');
    if (fields.length < 5 || !fsType) continue;
    mounts.push({ root: unescapeMount(fields[3] as string), mountPoint: unescapeMount(fields[4] as string), fsType, superOptions: (superOptions ?? '').split(',') });
  }
  return mounts;
}

/** The directory of `groupPath` under a mount, or undefined when the mount does not show it. */
function groupDir(mount: Mount, groupPath: string): string | undefined {
  const root = mount.root.endsWith('/') ? mount.root : `${mount.root}/`;
  if (groupPath !== mount.root && !groupPath.startsWith(root)) return undefined;
  const relative = path.posix.relative(mount.root, groupPath);
  if (relative.startsWith('..')) return undefined;
  const dir = path.join(mount.mountPoint, relative);
  return fs.existsSync(dir) ? dir : undefined;
}

const readText = (file: string): string | undefined => {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
};
const words = (file: string) => (readText(file) ?? '').trim().split(/\s+/).filter(Boolean);

/**
 * Where each controller can be limited, or why not. v2 first: a new group is a sibling of ours (a
 * group with processes cannot also delegate controllers to children), so our parent must delegate
 * the controller (it does if it is in our own `cgroup.controllers`); at the root, the root's
 * `cgroup.subtree_control` must list it (we try to enable it). Then v1: a child of our group in the
 * controller's own hierarchy.
 */
export function locateControllers(system: CgroupSystem = PROC_SYSTEM): { placements: Partial<Record<Controller, Placement>>; problems: string[] } {
  const membershipText = readText(system.procSelfCgroup);
  const mountText = readText(system.mountinfo);
  if (membershipText === undefined || mountText === undefined) {
    return { placements: {}, problems: [`cannot read ${system.procSelfCgroup} and ${system.mountinfo}: not Linux, or /proc is not mounted`] };
  }
  const membership = parseCgroupMembership(membershipText);
  const mounts = parseMountinfo(mountText);
  const placements: Partial<Record<Controller, Placement>> = {};
  const problems: string[] = [];

  const unified = mounts.find((m) => m.fsType === 'cgroup2');
  const ownV2 = unified && membership.v2 !== undefined ? groupDir(unified, membership.v2) : undefined;
  for (const controller of ['cpu', 'memory'] as const) {
    if (unified && ownV2 && membership.v2 !== undefined) {
      const atRoot = membership.v2 === unified.root;
      const parentDir = atRoot ? ownV2 : path.dirname(ownV2);
      const available = words(path.join(ownV2, 'cgroup.controllers')).includes(controller);
      if (available && atRoot && !words(path.join(parentDir, 'cgroup.subtree_control')).includes(controller)) {
        try {
          fs.writeFileSync(path.join(parentDir, 'cgroup.subtree_control'), `+${controller}`);
        } catch {
          // checked just below
        }
      }
      if (available && words(path.join(parentDir, 'cgroup.subtree_control')).includes(controller)) {
        placements[controller] = { version: 2, parentDir };
        continue;
      }
    }
    const mount = mounts.find((m) => m.fsType === 'cgroup' && m.superOptions.includes(controller));
    const own = membership.v1.get(controller);
    const dir = mount && own !== undefined ? groupDir(mount, own) : undefined;
    if (dir) {
      placements[controller] = { version: 1, parentDir: dir };
      continue;
    }
    problems.push(
      `no ${controller} controller to use: neither the cgroup v2 hierarchy${unified ? ` (${unified.mountPoint})` : ''} delegates it to this process's group` +
        ` nor is a cgroup v1 ${controller} hierarchy mounted where this process's group is visible`,
    );
  }
  return { placements, problems };
}

/** The shell that joins the groups and then becomes the server: `sh -c SCRIPT sh <procs files> -- <command>`. */
const JOIN_SCRIPT = 'pid=$$; while [ "$1" != "--" ]; do echo "$pid" > "$1" || exit 125; shift; done; shift; exec "$@"';

export function joinCgroupPrefix(procsFiles: readonly string[]): string[] {
  return ['/bin/sh', '-c', JOIN_SCRIPT, 'sh', ...procsFiles, '--'];
}

const sleepSync = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/** rmdir, retrying while the group's last processes are still exiting (EBUSY), for up to `waitMs`. */
function removeDirSync(dir: string, ownFiles: readonly string[], waitMs = 3000): string | undefined {
  const deadline = Date.now() + waitMs;
  for (;;) {
    try {
      fs.rmdirSync(dir);
      return undefined;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return undefined;
      if (code === 'ENOTEMPTY' && ownFiles.length > 0) {
        // Not a cgroup filesystem (a test's fake tree): remove the files this module created.
        for (const file of ownFiles) fs.rmSync(file, { force: true });
        ownFiles = [];
        continue;
      }
      if (code !== 'EBUSY' || Date.now() > deadline) return `${dir}: ${(error as Error).message}`;
      sleepSync(20);
    }
  }
}

export interface CpuThrottling {
  readonly periods: number;
  readonly throttledPeriods: number;
  readonly throttledS: number;
}

/** A created group (one directory per hierarchy used). Remove it when its server has stopped. */
export class TaskCgroup {
  private removed = false;

  constructor(
    readonly name: string,
    readonly limits: TaskLimits,
    /** Controller → the group's directory. */
    readonly dirs: Partial<Record<Controller, { version: 1 | 2; dir: string }>>,
    /** What could not be limited, and why. */
    readonly problems: readonly string[],
    private readonly createdFiles: string[],
  ) {
    LIVE.add(this);
  }

  /** Distinct group directories (one for v2, one per controller for v1). */
  get directories(): string[] {
    return [...new Set(Object.values(this.dirs).map((d) => d.dir))];
  }

  /** Put before `node <script>`: the process joins every group before node starts. */
  launchPrefix(): string[] {
    return joinCgroupPrefix(this.directories.map((dir) => path.join(dir, 'cgroup.procs')));
  }

  describe(): string {
    const parts: string[] = [];
    const cpu = this.dirs.cpu;
    const memory = this.dirs.memory;
    if (cpu) parts.push(`cpu ${this.limits.cpuCores} cores (cgroup v${cpu.version} ${cpu.dir})`);
    if (memory) parts.push(`memory ${(this.limits.memoryBytes / 2 ** 20).toFixed(0)} MiB (cgroup v${memory.version} ${memory.dir})`);
    return [...parts, ...this.problems.map((p) => `not limited: ${p}`)].join('; ');
  }

  /** The group's peak memory use (v1 memory.max_usage_in_bytes, v2 memory.peak): includes page cache. */
  peakMemoryBytes(): number | undefined {
    const memory = this.dirs.memory;
    if (!memory) return undefined;
    const value = Number((readText(path.join(memory.dir, memory.version === 1 ? 'memory.max_usage_in_bytes' : 'memory.peak')) ?? '').trim());
    return Number.isFinite(value) && value > 0 ? value : undefined;
  }

  /** Processes the kernel killed in this group for exceeding its memory limit. */
  oomKills(): number | undefined {
    const memory = this.dirs.memory;
    if (!memory) return undefined;
    const text = readText(path.join(memory.dir, memory.version === 1 ? 'memory.oom_control' : 'memory.events'));
    const match = text ? /^oom_kill (\d+)$/m.exec(text) : null;
    return match ? Number(match[1]) : undefined;
  }

  /** CFS periods and how many the group was throttled in (it used its whole quota before the period ended). */
  cpuThrottling(): CpuThrottling | undefined {
    const cpu = this.dirs.cpu;
    const text = cpu ? readText(path.join(cpu.dir, 'cpu.stat')) : undefined;
    if (!cpu || text === undefined) return undefined;
    const field = (name: string) => Number(new RegExp(`^${name} (\\d+)$`, 'm').exec(text)?.[1] ?? NaN);
    const throttledS = cpu.version === 1 ? field('throttled_time') / 1e9 : field('throttled_usec') / 1e6;
    return { periods: field('nr_periods'), throttledPeriods: field('nr_throttled'), throttledS };
  }

  /** Removes the group's directories (the server must have exited); returns what could not be removed. */
  remove(): string[] {
    if (this.removed) return [];
    this.removed = true;
    LIVE.delete(this);
    return this.directories.flatMap((dir) => removeDirSync(dir, this.createdFiles.filter((f) => path.dirname(f) === dir)) ?? []);
  }
}

/** Every group not yet removed, so an exit or Ctrl-C can remove them. */
const LIVE = new Set<TaskCgroup>();

export function removeAllTaskCgroups(): void {
  for (const group of [...LIVE]) group.remove();
}

/** Writes a limit file, remembering it when it did not exist before (a fake tree, not a cgroup filesystem). */
function writeLimit(file: string, value: string, created: string[]): void {
  const existed = fs.existsSync(file);
  fs.writeFileSync(file, value);
  if (!existed) created.push(file);
}

/**
 * Creates `embedding-bench-<our pid>-<name>` with the limits, for each controller where that is
 * possible. Returns the group (possibly limiting only one of the two, with the other's reason in
 * `problems`), or undefined with the reasons when neither could be limited.
 */
export function createTaskCgroup(name: string, limits: TaskLimits, system: CgroupSystem = PROC_SYSTEM): { group?: TaskCgroup; problems: string[] } {
  const { placements, problems } = locateControllers(system);
  const groupName = `${GROUP_PREFIX}${process.pid}-${name.replace(/[^A-Za-z0-9_-]/g, '_')}`;
  const dirs: Partial<Record<Controller, { version: 1 | 2; dir: string }>> = {};
  const created: string[] = [];
  const made: string[] = [];
  for (const controller of ['cpu', 'memory'] as const) {
    const placement = placements[controller];
    if (!placement) continue;
    const dir = path.join(placement.parentDir, groupName);
    try {
      if (!made.includes(dir)) {
        fs.mkdirSync(dir);
        made.push(dir);
      }
      if (controller === 'cpu') {
        const quotaUs = String(Math.round(limits.cpuCores * CPU_PERIOD_US));
        if (placement.version === 2) writeLimit(path.join(dir, 'cpu.max'), `${quotaUs} ${CPU_PERIOD_US}`, created);
        else {
          writeLimit(path.join(dir, 'cpu.cfs_period_us'), String(CPU_PERIOD_US), created);
          writeLimit(path.join(dir, 'cpu.cfs_quota_us'), quotaUs, created);
        }
      } else {
        const bytes = String(limits.memoryBytes);
        writeLimit(path.join(dir, placement.version === 2 ? 'memory.max' : 'memory.limit_in_bytes'), bytes, created);
        // No swapping past the limit either (Fargate has no swap): where swap accounting exists, cap it too.
        const swap = path.join(dir, placement.version === 2 ? 'memory.swap.max' : 'memory.memsw.limit_in_bytes');
        if (fs.existsSync(swap)) fs.writeFileSync(swap, placement.version === 2 ? '0' : bytes);
      }
      dirs[controller] = { version: placement.version, dir };
    } catch (error) {
      problems.push(`cannot set the ${controller} limit in ${dir}: ${(error as Error).message}`);
    }
  }
  if (Object.keys(dirs).length === 0) {
    for (const dir of made) removeDirSync(dir, created.filter((f) => path.dirname(f) === dir));
    return { problems };
  }
  for (const dir of made) {
    if (!Object.values(dirs).some((d) => d.dir === dir)) removeDirSync(dir, created.filter((f) => path.dirname(f) === dir));
  }
  return { group: new TaskCgroup(name, limits, dirs, problems, created), problems };
}

/** Removes groups a killed benchmark left behind (named after a pid that no longer runs). */
export function removeStaleTaskCgroups(system: CgroupSystem = PROC_SYSTEM): string[] {
  const removed: string[] = [];
  const { placements } = locateControllers(system);
  for (const parent of new Set(Object.values(placements).map((p) => p.parentDir))) {
    let entries: string[];
    try {
      entries = fs.readdirSync(parent);
    } catch {
      continue;
    }
    for (const entry of entries) {
      const pid = Number(new RegExp(`^${GROUP_PREFIX}(\\d+)-`).exec(entry)?.[1]);
      if (!Number.isInteger(pid) || pid === process.pid || isAlive(pid)) continue;
      if (removeDirSync(path.join(parent, entry), [], 0) === undefined) removed.push(path.join(parent, entry));
    }
  }
  return removed;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
