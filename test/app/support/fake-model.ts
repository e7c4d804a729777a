import { Admission, type AdmissionOptions } from '../../../app/batching/admission';
import type { SchedulingEvent } from '../../../app/batching/events';
import { Scheduler, type InferenceModel, type SchedulerOptions } from '../../../app/batching/scheduler';
import type { TokenizedText } from '../../../app/model';

/** A text of a fake request: its token ids carry the request's number and the text's index. */
export function fakeTexts(request: number, count: number, tokens: number): TokenizedText[] {
  return Array.from({ length: count }, (_, index) => ({ ids: [request, index, ...new Array<number>(Math.max(0, tokens - 2)).fill(0)] }));
}

export interface FakeRun {
  readonly startedAt: number;
  readonly endedAt: number;
  readonly deadlineMs: number;
  readonly paddedTokens: number;
  /** Request number, text index and length of each text. */
  readonly texts: ReadonlyArray<{ readonly request: number; readonly index: number; readonly length: number }>;
}

/**
 * A model whose runs take exactly `msPerToken` per padded token on jest's fake clock, so a test
 * controls run times to the millisecond. Each vector is [request, index], so results can be traced
 * back; a run holding a text for which `fails` says so is rejected.
 */
export class TimedFakeModel implements InferenceModel {
  readonly runs: FakeRun[] = [];

  constructor(
    private readonly msPerToken: number,
    private readonly fails: (request: number, index: number) => boolean = () => false,
  ) {}

  async embed(batch: readonly TokenizedText[], deadlineMs: number): Promise<Float32Array[]> {
    const startedAt = performance.now();
    const paddedTokens = batch.length * Math.max(...batch.map((text) => text.ids.length));
    await new Promise((resolve) => setTimeout(resolve, paddedTokens * this.msPerToken));
    const texts = batch.map((text) => ({ request: text.ids[0] as number, index: text.ids[1] as number, length: text.ids.length }));
    this.runs.push({ startedAt, endedAt: performance.now(), deadlineMs, paddedTokens, texts });
    if (texts.some((text) => this.fails(text.request, text.index))) throw new Error('onnxruntime exploded (simulated)');
    return texts.map((text) => Float32Array.of(text.request, text.index));
  }
}

export const SCHEDULING_DEFAULTS: AdmissionOptions & SchedulerOptions = {
  maxBatchSize: 64,
  maxBatchTokens: 2048,
  maxAdmittedTexts: 4096,
  maxQueueWaitMs: 3000,
  interactiveMaxTexts: 4,
  runTargetMs: 100,
  runDeadline: { factor: 10, minMs: 10_000 },
};

/** Admission and a scheduler over `model`, as server.ts wires them, with every event they report. */
export function schedulingOver(model: InferenceModel, overrides: Partial<AdmissionOptions & SchedulerOptions> = {}) {
  const options = { ...SCHEDULING_DEFAULTS, ...overrides };
  const admission = new Admission(options);
  const scheduler = new Scheduler(model, admission, options);
  const events: SchedulingEvent[] = [];
  admission.subscribe((event) => events.push(event));
  scheduler.subscribe((event) => events.push(event));
  /** What the embedder does for a request: a permit (or a refusal), then the queue; the permit goes back when it ends. */
  const submit = async (texts: TokenizedText[], signal?: AbortSignal) => {
    const permit = admission.admit(texts.length, texts.reduce((sum, text) => sum + text.ids.length, 0));
    try {
      return await scheduler.submit(texts, permit, signal);
    } finally {
      permit.release();
    }
  };
  return { admission, scheduler, events, submit };
}
