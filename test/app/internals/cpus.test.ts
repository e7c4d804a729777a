import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { availableCpus, cgroupCpuQuota, readCgroupQuota, readCgroupV1Quota, readMembership } from '../../../app/cpus';

/** A fake /proc/self/cgroup and /sys/fs/cgroup in a temp dir: `files` maps paths under the tree to contents. */
function fakeTree(procSelfCgroup: string | undefined, files: Record<string, string>): { procSelfCgroup: string; root: string } {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'cgroup-tree-'));
  const root = path.join(base, 'sys', 'fs', 'cgroup');
  fs.mkdirSync(root, { recursive: true });
  for (const [file, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    fs.writeFileSync(path.join(root, file), content);
  }
  const proc = path.join(base, 'proc', 'self', 'cgroup');
  if (procSelfCgroup !== undefined) {
    fs.mkdirSync(path.dirname(proc), { recursive: true });
    fs.writeFileSync(proc, procSelfCgroup);
  }
  trees.push(base);
  return { procSelfCgroup: proc, root };
}
const trees: string[] = [];
afterAll(() => trees.forEach((dir) => fs.rmSync(dir, { recursive: true, force: true })));

const cores = os.availableParallelism();
const v1Quota = (dir: string, quota: number, period = 100000) => ({
  [`cpu/${dir}/cpu.cfs_quota_us`.replace('//', '/')]: `${quota}\n`,
  [`cpu/${dir}/cpu.cfs_period_us`.replace('//', '/')]: `${period}\n`,
});

describe('cgroup quota files', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cgroup-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = (content: string) => {
    const name = path.join(dir, `cpu.max.${Math.random()}`);
    fs.writeFileSync(name, content);
    return name;
  };

  it('reads the cgroup v2 quota in cores', () => {
    expect(readCgroupQuota(file('50000 100000\n'))).toBe(0.5);
    expect(readCgroupQuota(file('200000 100000'))).toBe(2);
    expect(readCgroupQuota(file('max 100000'))).toBeUndefined();
    expect(readCgroupQuota(path.join(dir, 'missing'))).toBeUndefined();
  });

  it('reads cgroup v1 cfs quota/period, -1 meaning unlimited', () => {
    const v1 = fs.mkdtempSync(path.join(dir, 'v1-'));
    fs.writeFileSync(path.join(v1, 'cpu.cfs_quota_us'), '50000\n');
    fs.writeFileSync(path.join(v1, 'cpu.cfs_period_us'), '100000\n');
    expect(readCgroupV1Quota(v1)).toBe(0.5);
    fs.writeFileSync(path.join(v1, 'cpu.cfs_quota_us'), '-1\n');
    expect(readCgroupV1Quota(v1)).toBeUndefined();
  });
});

describe('/proc/self/cgroup', () => {
  it('finds the v2 unified path and the v1 cpu path, also when cpu shares a hierarchy or the path has colons', () => {
    const { procSelfCgroup } = fakeTree('12:memory:/a\n4:cpu,cpuacct:/docker/x:y\n1:name=systemd:/\n0::/user.slice/app.scope\n', {});
    expect(readMembership(procSelfCgroup)).toEqual({ v2: '/user.slice/app.scope', v1Cpu: '/docker/x:y' });
  });

  it('does not take cpuset or cpuacct alone for cpu', () => {
    const { procSelfCgroup } = fakeTree('3:cpuset:/s\n2:cpuacct:/acct\n', {});
    expect(readMembership(procSelfCgroup)).toEqual({});
  });
});

describe('availableCpus follows the process own cgroup', () => {
  it('v2: reads cpu.max in the group named by the 0:: line, not at the root of the mount', () => {
    const tree = fakeTree('0::/bench/server\n', { 'cpu.max': 'max 100000\n', 'bench/server/cpu.max': '50000 100000\n' });
    expect(cgroupCpuQuota(tree)).toBe(0.5);
    expect(availableCpus(tree)).toBe(1);
  });

  it('v2: walks up to the nearest ancestor that sets a quota', () => {
    const tree = fakeTree('0::/kubepods/pod1/container\n', {
      'kubepods/pod1/cpu.max': '150000 100000\n',
      'kubepods/pod1/container/cpu.max': 'max 100000\n',
    });
    expect(cgroupCpuQuota(tree)).toBe(1.5);
    expect(availableCpus(tree)).toBe(Math.min(2, cores));
  });

  it('the smallest quota on the path wins, wherever it sits', () => {
    const tree = fakeTree('0::/a/b/c\n', { 'a/cpu.max': '50000 100000\n', 'a/b/cpu.max': '300000 100000\n', 'a/b/c/cpu.max': '200000 100000' });
    expect(cgroupCpuQuota(tree)).toBe(0.5);
  });

  it('v1 (hybrid machine: a 0:: line too, but no cpu.max anywhere): reads the cpu hierarchy at the process group', () => {
    const tree = fakeTree('4:memory:/sandbox/x\n1:cpu:/embedding-bench-1-ours\n0::/\n', {
      ...v1Quota('', -1),
      ...v1Quota('embedding-bench-1-ours', 50000),
    });
    expect(cgroupCpuQuota(tree)).toBe(0.5);
    expect(availableCpus(tree)).toBe(1);
  });

  it('v1: an ancestor quota limits a group without its own', () => {
    const tree = fakeTree('1:cpu,cpuacct:/ecs/task/container\n', {
      ...v1Quota('', -1),
      ...v1Quota('ecs/task', 25000, 50000),
      ...v1Quota('ecs/task/container', -1),
    });
    expect(cgroupCpuQuota(tree)).toBe(0.5);
  });

  it('no quota anywhere: the cores the process may run on', () => {
    const tree = fakeTree('1:cpu:/x\n0::/x\n', { ...v1Quota('', -1), ...v1Quota('x', -1), 'x/cpu.max': 'max 100000\n' });
    expect(cgroupCpuQuota(tree)).toBeUndefined();
    expect(availableCpus(tree)).toBe(cores);
  });

  it('a container with its own cgroup namespace (path /) reads the root of the mount, as before', () => {
    const tree = fakeTree('0::/\n', { 'cpu.max': '50000 100000\n' });
    expect(cgroupCpuQuota(tree)).toBe(0.5);
  });

  it('a path that does not exist under the mount (another namespace view) falls back to the root of the mount', () => {
    const tree = fakeTree('1:cpu:/docker/0123abcd\n', v1Quota('', 50000));
    expect(cgroupCpuQuota(tree)).toBe(0.5);
  });

  it('no /proc/self/cgroup: the root of the mount, v2 first, then v1 (the previous behaviour)', () => {
    expect(cgroupCpuQuota(fakeTree(undefined, { 'cpu.max': '250000 100000\n', ...v1Quota('', 50000) }))).toBe(2.5);
    expect(cgroupCpuQuota(fakeTree(undefined, v1Quota('', 50000)))).toBe(0.5);
    expect(cgroupCpuQuota(fakeTree(undefined, {}))).toBeUndefined();
  });

  it('never escapes the mount through .. in a path', () => {
    const tree = fakeTree('0::/../../etc\n', { 'cpu.max': '100000 100000\n' });
    expect(cgroupCpuQuota(tree)).toBe(1);
  });
});
