import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { byPackage, readThreadProfiles, tally, within } from '../../bench/cpu-profile';
import { mainStage, wallStages, workerStage } from '../../bench/request-stages';
import type { Stamp } from '../../bench/stage-clock';

const frame = (functionName: string, url = '') => ({ functionName, url, lineNumber: 0 });

describe('CPU profiles by stage', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-profile-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('reads each thread\'s samples with their times and stacks, cuts a window and tallies them by category', () => {
    // root → run (scheduler) → encode (tokenizer); samples: idle 100 µs, encode 200 µs, run 300 µs (to the end).
    const profile = {
      nodes: [
        { id: 1, callFrame: frame('(root)'), children: [2, 4] },
        { id: 2, callFrame: frame('loop', 'file:///srv/dist/app/batching/scheduler.js'), children: [3] },
        { id: 3, callFrame: frame('encode', 'file:///srv/node_modules/@huggingface/tokenizers/dist/tokenizers.cjs') },
        { id: 4, callFrame: frame('(idle)') },
      ],
      startTime: 1_000,
      endTime: 1_700,
      samples: [4, 3, 2],
      timeDeltas: [100, 100, 200],
    };
    fs.writeFileSync(path.join(dir, 'CPU.20261207.050000.123.0.001.cpuprofile'), JSON.stringify(profile));
    fs.writeFileSync(path.join(dir, 'CPU.20261207.050000.123.1.002.cpuprofile'), JSON.stringify({ ...profile, samples: [4], timeDeltas: [0] }));
    fs.writeFileSync(path.join(dir, 'notes.txt'), 'not a profile');

    const [main, worker] = readThreadProfiles(dir);
    expect([main?.threadId, worker?.threadId]).toEqual([0, 1]);
    expect(main?.samples.map((s) => [s.atUs, s.durationUs, s.stack[0]?.functionName])).toEqual([
      [1_100, 100, '(idle)'],
      [1_200, 200, 'encode'],
      [1_400, 300, 'loop'],
    ]);
    expect(main?.samples[1]?.stack.map((f) => f.functionName)).toEqual(['encode', 'loop', '(root)']);
    const samples = main?.samples ?? [];
    expect(within(samples, 1_150, 1_400)).toHaveLength(1);
    expect([...tally(samples, byPackage)]).toEqual([
      ['app/batching + embedder', 300],
      ['tokenise', 200],
      ['(idle)', 100],
    ]);
    expect([...tally(samples, mainStage)]).toEqual([
      ['admission + queue + scheduler', 300],
      ['tokenise', 200],
      ['idle', 100],
    ]);
  });

  it('charges an inference-thread sample to the stage whose code it ran', () => {
    const run = [frame('(anonymous)', 'file:///srv/node_modules/onnxruntime-node/dist/backend.js'), frame('run', 'file:///srv/dist/app/model/onnx-encoder.js')];
    expect(workerStage(run)).toBe('onnxruntime session.run');
    expect(workerStage([frame('postMessage'), frame('(anonymous)', 'file:///srv/dist/app/model/inference-worker.js')])).toBe('post the vectors back');
    expect(workerStage([frame('(garbage collector)')])).toBe('GC');
  });
});

describe('one request\'s wall time by stage', () => {
  /** One request's stamps in µs: the HTTP thread's and the inference thread's. */
  const request = (at: number, runUs: number): { main: Stamp[]; worker: Stamp[] } => ({
    main: [
      ['request', at],
      ['body', at + 100],
      ['tokenise:start', at + 150],
      ['tokenise:end', at + 200],
      ['post', at + 250],
      ['message', at + 400 + runUs],
      ['end:start', at + 500 + runUs],
      ['end:done', at + 600 + runUs],
      ['close:start', at + 650 + runUs],
      ['close:done', at + 700 + runUs],
    ],
    worker: [
      ['receive', at + 300],
      ['run:start', at + 310],
      ['run:end', at + 310 + runUs],
      ['post', at + 320 + runUs],
    ],
  });

  it('matches the inference thread\'s stamps to each request and gives each stage\'s median', () => {
    const requests = [request(10_000, 3_000), request(20_000, 4_000), request(30_000, 5_000)];
    const main = requests.flatMap((r) => r.main);
    // The inference thread's file lists its stamps in its own order; before the window, one left over.
    const worker = [['run:start', 5_000] as Stamp, ...requests.flatMap((r) => r.worker).reverse()];
    const result = wallStages(main, worker, 10_000, 40_000);
    expect(result.requests).toBe(3);
    const stage = (name: string) => result.stages.find((s) => s.stage === name);
    expect(stage('onnxruntime session.run')).toMatchObject({ thread: 'inference', medianMs: 4, meanMs: 4 });
    expect(stage('tokenise')?.medianMs).toBeCloseTo(0.05);
    expect(stage('hop to the inference thread')?.medianMs).toBeCloseTo(0.05);
    expect(stage('hop back to the HTTP thread')?.medianMs).toBeCloseTo(0.08);
    expect(result.serverMedianMs).toBeCloseTo(4.6);
    // A request cut by the end of the window is left out, not counted half.
    expect(wallStages(main, worker, 10_000, 34_000).requests).toBe(2);
  });
});
