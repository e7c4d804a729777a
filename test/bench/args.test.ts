import { DEFAULT_PARTS, PARTS, parseArgs } from '../../bench/args';

describe('bench options', () => {
  it('runs every part but the mixed traffic by default, the task shape included, at the production stack size', () => {
    const options = parseArgs([]);
    expect([...options.only]).toEqual([...DEFAULT_PARTS]);
    expect(PARTS.filter((part) => !options.only.has(part))).toEqual(['mixed']);
    expect(options.taskShape).toBeUndefined();
    expect(options).toMatchObject({ durationS: 10, warmupS: 2, taskSaturationS: 6, taskPointS: 4, taskSettleS: 1 });
  });

  it('--task-shape sets the size and adds the task part to --only', () => {
    const options = parseArgs(['--only', 'ours,quiet', '--task-shape', '1024/2048']);
    expect(options.taskShape).toEqual({ cpuUnits: 1024, memoryMiB: 2048 });
    expect([...options.only].sort()).toEqual(['ours', 'quiet', 'task']);
    expect(() => parseArgs(['--task-shape', '3/4'])).toThrow(/not a Fargate size/);
  });

  it('runs the mixed traffic only when named, in the task shape given, without adding the task part', () => {
    const options = parseArgs(['--only', 'mixed', '--task-shape', '512/1024']);
    expect([...options.only]).toEqual(['mixed']);
    expect(options).toMatchObject({ taskShape: { cpuUnits: 512, memoryMiB: 1024 }, mixedTexts: 2000 });
    expect(parseArgs(['--only', 'mixed', '--mixed-texts', '120']).mixedTexts).toBe(120);
    expect(parseArgs(['--quick']).mixedTexts).toBe(40);
    expect(parseArgs(['--only', 'mixed', '--mixed-kind', 'long']).mixedKind).toBe('long');
    expect(() => parseArgs(['--mixed-kind', 'short'])).toThrow(/--mixed-kind/);
    expect(() => parseArgs(['--mixed-texts', '1'])).toThrow(/--mixed-texts/);
  });

  it('shorter runs shorten the task shape too; --quick is a smoke test', () => {
    expect(parseArgs(['--duration', '3'])).toMatchObject({ taskSaturationS: 2, taskPointS: 1.5, taskSettleS: 0.3 });
    expect(parseArgs(['--quick'])).toMatchObject({ durationS: 2, taskSaturationS: 2, taskPointS: 1.5, taskSettleS: 0.3 });
  });

  it('rejects unknown parts and options', () => {
    expect(() => parseArgs(['--only', 'ours,nope'])).toThrow(/unknown part/);
    expect(() => parseArgs(['--fast'])).toThrow(/unknown option/);
  });
});
