import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { PROC_SYSTEM, createTaskCgroup, joinCgroupPrefix, locateControllers, parseMountinfo, removeStaleTaskCgroups } from '../../bench/cgroup';
import { TEST_BUILD_DIR } from '../app/support/paths';

const execFileAsync = promisify(execFile);
const MiB = 2 ** 20;
const limits = { cpuCores: 0.5, memoryBytes: 832 * MiB };

const bases: string[] = [];
afterAll(() => bases.forEach((dir) => fs.rmSync(dir, { recursive: true, force: true })));

/** A fake /proc/self/{cgroup,mountinfo} and cgroup mounts under a temp dir; `files` are created under it. */
function fakeSystem(procCgroup: string, mounts: Array<[root: string, mountPoint: string, fsType: string, superOptions: string]>, files: Record<string, string>) {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'fake-cgroups-'));
  bases.push(base);
  for (const [file, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(base, file)), { recursive: true });
    if (!file.endsWith('/')) fs.writeFileSync(path.join(base, file), content);
  }
  const mountinfo = mounts.map(([root, point, type, options], i) => `${30 + i} 23 0:${28 + i} ${root} ${path.join(base, point)} rw,relatime - ${type} ${type} ${options}`).join('\n');
  fs.writeFileSync(path.join(base, 'mountinfo'), `${mountinfo}\n`);
  fs.writeFileSync(path.join(base, 'cgroup'), procCgroup);
  return { base, system: { procSelfCgroup: path.join(base, 'cgroup'), mountinfo: path.join(base, 'mountinfo') } };
}

/** This machine's layout: cgroup v1 cpu at the root, memory in a sandbox group, a v2 mount with only hugetlb. */
const hybrid = () =>
  fakeSystem(
    '4:memory:/sandbox/abc\n1:cpu:/\n0::/\n',
    [
      ['/', 'cpu', 'cgroup', 'rw,cpu'],
      ['/', 'memory', 'cgroup', 'rw,memory'],
      ['/', 'unified', 'cgroup2', 'rw'],
    ],
    { 'cpu/cpu.cfs_quota_us': '-1', 'memory/sandbox/abc/memory.limit_in_bytes': '9223372036854771712', 'unified/cgroup.controllers': 'hugetlb' },
  );

describe('finding where to limit', () => {
  it('parses mountinfo, octal escapes included', () => {
    const [mount] = parseMountinfo('41 31 0:38 /a\\040b /sys/fs/cgroup/unified rw,relatime shared:1 - cgroup2 cgroup2 rw,nsdelegate\n');
    expect(mount).toEqual({ root: '/a b', mountPoint: '/sys/fs/cgroup/unified', fsType: 'cgroup2', superOptions: ['rw', 'nsdelegate'] });
  });

  it('hybrid machine (v2 without cpu and memory): both controllers in cgroup v1, each under the process own group', () => {
    const { base, system } = hybrid();
    expect(locateControllers(system)).toEqual({
      placements: { cpu: { version: 1, parentDir: path.join(base, 'cpu') }, memory: { version: 1, parentDir: path.join(base, 'memory/sandbox/abc') } },
      problems: [],
    });
  });

  it('cgroup v2 in a nested group: a sibling, when the parent delegates the controllers', () => {
    const { base, system } = fakeSystem('0::/user.slice/session.scope\n', [['/', 'cg', 'cgroup2', 'rw']], {
      'cg/user.slice/cgroup.subtree_control': 'cpu memory pids',
      'cg/user.slice/session.scope/cgroup.controllers': 'cpu memory pids',
    });
    const { placements } = locateControllers(system);
    expect(placements).toEqual({ cpu: { version: 2, parentDir: path.join(base, 'cg/user.slice') }, memory: { version: 2, parentDir: path.join(base, 'cg/user.slice') } });
  });

  it('cgroup v2 where the parent delegates only memory, and no v1: cpu cannot be limited, and says why', () => {
    const { system } = fakeSystem('0::/a/b\n', [['/', 'cg', 'cgroup2', 'rw']], {
      'cg/a/cgroup.subtree_control': 'memory',
      'cg/a/b/cgroup.controllers': 'memory',
    });
    const { placements, problems } = locateControllers(system);
    expect(Object.keys(placements)).toEqual(['memory']);
    expect(problems).toEqual([expect.stringMatching(/^no cpu controller to use/)]);
  });

  it('no cgroups at all, or no /proc: every reason given, nothing thrown', () => {
    const { system } = fakeSystem('0::/\n', [], {});
    expect(locateControllers(system).problems).toHaveLength(2);
    expect(locateControllers({ procSelfCgroup: '/nonexistent/cgroup', mountinfo: '/nonexistent/mountinfo' }).problems[0]).toMatch(/cannot read/);
  });
});

describe('creating and removing a group (fake tree)', () => {
  it('v1: writes the quota and the memory limit, and removes the directories again', () => {
    const { base, system } = hybrid();
    const { group, problems } = createTaskCgroup('ours', limits, system);
    expect(problems).toEqual([]);
    const cpuDir = path.join(base, 'cpu', `embedding-bench-${process.pid}-ours`);
    const memoryDir = path.join(base, 'memory/sandbox/abc', `embedding-bench-${process.pid}-ours`);
    expect(fs.readFileSync(path.join(cpuDir, 'cpu.cfs_quota_us'), 'utf8')).toBe('50000');
    expect(fs.readFileSync(path.join(cpuDir, 'cpu.cfs_period_us'), 'utf8')).toBe('100000');
    expect(fs.readFileSync(path.join(memoryDir, 'memory.limit_in_bytes'), 'utf8')).toBe(String(832 * MiB));
    expect(group!.launchPrefix()).toEqual(joinCgroupPrefix([path.join(cpuDir, 'cgroup.procs'), path.join(memoryDir, 'cgroup.procs')]));
    expect(group!.describe()).toMatch(/cpu 0.5 cores \(cgroup v1 .*\); memory 832 MiB \(cgroup v1 /);
    expect(group!.remove()).toEqual([]);
    expect(fs.existsSync(cpuDir) || fs.existsSync(memoryDir)).toBe(false);
  });

  it('v2: one directory with cpu.max and memory.max; peak memory, OOM kills and throttling are read from it', () => {
    const { base, system } = fakeSystem('0::/\n', [['/', 'cg', 'cgroup2', 'rw']], { 'cg/cgroup.controllers': 'cpu memory', 'cg/cgroup.subtree_control': 'cpu memory' });
    const { group } = createTaskCgroup('peer', limits, system);
    const dir = path.join(base, 'cg', `embedding-bench-${process.pid}-peer`);
    expect(group!.directories).toEqual([dir]);
    expect(fs.readFileSync(path.join(dir, 'cpu.max'), 'utf8')).toBe('50000 100000');
    expect(fs.readFileSync(path.join(dir, 'memory.max'), 'utf8')).toBe(String(832 * MiB));
    fs.writeFileSync(path.join(dir, 'memory.peak'), '123456789\n');
    fs.writeFileSync(path.join(dir, 'memory.events'), 'low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n');
    fs.writeFileSync(path.join(dir, 'cpu.stat'), 'usage_usec 900\nnr_periods 40\nnr_throttled 10\nthrottled_usec 250000\n');
    expect(group!.peakMemoryBytes()).toBe(123456789);
    expect(group!.oomKills()).toBe(1);
    expect(group!.cpuThrottling()).toEqual({ periods: 40, throttledPeriods: 10, throttledS: 0.25 });
    for (const file of ['memory.peak', 'memory.events', 'cpu.stat']) fs.rmSync(path.join(dir, file));
    group!.remove();
    expect(fs.existsSync(dir)).toBe(false);
  });

  it('a stale group of a benchmark that no longer runs is removed; ours is kept', () => {
    const { base, system } = hybrid();
    fs.mkdirSync(path.join(base, 'cpu', 'embedding-bench-999999999-ours'));
    fs.mkdirSync(path.join(base, 'cpu', `embedding-bench-${process.pid}-peer`));
    expect(removeStaleTaskCgroups(system)).toEqual([path.join(base, 'cpu', 'embedding-bench-999999999-ours')]);
    expect(fs.existsSync(path.join(base, 'cpu', `embedding-bench-${process.pid}-peer`))).toBe(true);
  });
});

describe('joining before node starts', () => {
  it('the wrapper writes its own pid to each procs file, then execs the command under that same pid', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'join-'));
    bases.push(dir);
    const files = [path.join(dir, 'a.procs'), path.join(dir, 'b.procs')];
    const [command, ...args] = joinCgroupPrefix(files);
    const { stdout } = await execFileAsync(command!, [...args, process.execPath, '-e', 'process.stdout.write(String(process.pid))']);
    expect(fs.readFileSync(files[0]!, 'utf8').trim()).toBe(stdout);
    expect(fs.readFileSync(files[1]!, 'utf8').trim()).toBe(stdout);
  });

  it('when a group cannot be joined, the command never runs', async () => {
    const [command, ...args] = joinCgroupPrefix(['/nonexistent-dir/cgroup.procs']);
    const child = spawn(command!, [...args, process.execPath, '-e', 'process.stdout.write("ran")'], { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    const code = await new Promise((resolve) => child.once('exit', resolve));
    expect(code).toBe(125);
    expect(out).toBe('');
  });
});

// The real thing, where this machine lets the benchmark make groups (root with cgroup v1 or v2 controllers).
const real = createTaskCgroup('jest-probe', limits, PROC_SYSTEM);
const realCpu = real.group?.dirs.cpu !== undefined;
real.group?.remove();

(realCpu ? describe : describe.skip)(`a real cgroup on this machine (${real.problems.join('; ') || 'cpu and memory'})`, () => {
  it('a process started through the wrapper sits in the group and the service sees 1 CPU under a 0.5 quota', async () => {
    const { group } = createTaskCgroup('jest-real', limits);
    try {
      const [command, ...args] = group!.launchPrefix();
      const script = `const { availableCpus } = require('./app/cpus'); process.stdout.write(JSON.stringify({ cpus: availableCpus(), cgroup: require('fs').readFileSync('/proc/self/cgroup', 'utf8') }))`;
      const { stdout } = await execFileAsync(command!, [...args, process.execPath, '-e', script], { cwd: TEST_BUILD_DIR });
      const seen = JSON.parse(stdout) as { cpus: number; cgroup: string };
      expect(seen.cpus).toBe(1);
      expect(seen.cgroup).toContain(`embedding-bench-${process.pid}-jest-real`);
    } finally {
      expect(group!.remove()).toEqual([]);
    }
    for (const dir of group!.directories) expect(fs.existsSync(dir)).toBe(false);
  });
});
