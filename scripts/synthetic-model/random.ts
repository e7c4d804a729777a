// Bound once: global lookups are slow inside vm contexts (jest), ~10× on the hot loops.
const { imul, log, sqrt, cos, sin, PI } = Math;

/** mulberry32: a tiny 32-bit PRNG (synthetic weights, load schedules, fuzz cases); returns uniforms in [0, 1). */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = imul(t ^ (t >>> 15), t | 1);
    t ^= t + imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** FNV-1a over the name, mixed with the seed: each tensor gets its own stream. */
export function tensorSeed(seed: number, name: string): number {
  let hash = (0x811c9dc5 ^ imul(seed >>> 0, 0x9e3779b1)) >>> 0;
  for (let i = 0; i < name.length; i += 1) {
    hash ^= name.charCodeAt(i);
    hash = imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}

/** Fills `out` with mean + std · N(0, 1) (Box–Muller, both outputs used). */
export function fillNormal(out: Float32Array, mean: number, std: number, seed: number): Float32Array {
  const uniform = mulberry32(seed);
  const twoPi = 2 * PI;
  for (let i = 0; i < out.length; i += 2) {
    const u1 = 1 - uniform(); // (0, 1], so log never sees 0
    const u2 = uniform();
    const radius = std * sqrt(-2 * log(u1));
    out[i] = mean + radius * cos(twoPi * u2);
    if (i + 1 < out.length) out[i + 1] = mean + radius * sin(twoPi * u2);
  }
  return out;
}
