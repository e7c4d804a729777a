import {
  EMBEDDING_MIN_CPU,
  EMBEDDING_MIN_MEMORY,
  embeddingSizeProblems,
  fargateSizeProblems,
  stopTimeoutSeconds,
} from '../../infra/sizing';

describe('fargateSizeProblems', () => {
  it.each([
    [256, 512],
    [512, 1024],
    [512, 4096],
    [1024, 2048],
    [4096, 30720],
    [16384, 122880],
  ])('accepts cpu %i with memory %i', (cpu, memory) => {
    expect(fargateSizeProblems(cpu, memory)).toEqual([]);
  });

  it.each([
    [300, 1024, /not a Fargate size/],
    [512, 512, /not valid with cpu 512/],
    [1024, 1024, /not valid with cpu 1024/],
    [512, 1536, /not valid/],
  ])('rejects cpu %i with memory %i', (cpu, memory, message) => {
    expect(fargateSizeProblems(cpu, memory).join()).toMatch(message);
  });
});

describe('embeddingSizeProblems', () => {
  it('defaults to the floor 512 / 1024', () => {
    expect([EMBEDDING_MIN_CPU, EMBEDDING_MIN_MEMORY]).toEqual([512, 1024]);
    expect(embeddingSizeProblems(512, 1024)).toEqual([]);
    expect(embeddingSizeProblems(1024, 2048)).toEqual([]);
  });

  it('never goes below the floor, even with a valid Fargate pair', () => {
    expect(embeddingSizeProblems(256, 512)).toEqual([
      'cpu 256 is below the embedding service\'s minimum 512',
      'memory 512 is below the embedding service\'s minimum 1024',
    ]);
    expect(embeddingSizeProblems(256, 1024).join()).toMatch(/cpu 256 is below/);
  });
});

describe('stopTimeoutSeconds', () => {
  it('leaves 5 s after the app drain deadline', () => {
    expect(stopTimeoutSeconds(25_000)).toBe(30);
    expect(stopTimeoutSeconds(25_001)).toBe(31);
    expect(stopTimeoutSeconds(0)).toBe(5);
  });
});
