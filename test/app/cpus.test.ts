import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { availableCpus, readCgroupQuota, readCgroupV1Quota } from '../../app/cpus';

describe('availableCpus', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cgroup-'));
  const cpuMax = (content: string) => {
    const file = path.join(dir, `cpu.max.${Math.random()}`);
    fs.writeFileSync(file, content);
    return file;
  };
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('reads the cgroup v2 quota in cores', () => {
    expect(readCgroupQuota(cpuMax('50000 100000\n'))).toBe(0.5);
    expect(readCgroupQuota(cpuMax('200000 100000'))).toBe(2);
    expect(readCgroupQuota(cpuMax('max 100000'))).toBeUndefined();
    expect(readCgroupQuota(path.join(dir, 'missing'))).toBeUndefined();
  });

  it('follows the quota, not the host: a 0.5 vCPU Fargate task gets 1 thread', () => {
    expect(availableCpus(cpuMax('50000 100000'))).toBe(1);
    expect(availableCpus(cpuMax('150000 100000'))).toBe(Math.min(2, os.availableParallelism()));
  });

  it('uses the cores it may run on when there is no quota', () => {
    expect(availableCpus(cpuMax('max 100000'), path.join(dir, 'no-v1'))).toBe(os.availableParallelism());
  });

  it('falls back to cgroup v1 cfs quota/period', () => {
    const v1 = fs.mkdtempSync(path.join(dir, 'v1-'));
    fs.writeFileSync(path.join(v1, 'cpu.cfs_quota_us'), '50000\n');
    fs.writeFileSync(path.join(v1, 'cpu.cfs_period_us'), '100000\n');
    expect(readCgroupV1Quota(v1)).toBe(0.5);
    expect(availableCpus(path.join(dir, 'no-v2'), v1)).toBe(1);
    fs.writeFileSync(path.join(v1, 'cpu.cfs_quota_us'), '-1\n');
    expect(readCgroupV1Quota(v1)).toBeUndefined();
  });
});
