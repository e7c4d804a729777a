/** Float32 vectors as JSON numbers (what sentence-transformers' `.tolist()` gives Python callers). */
export function toJsonVector(vector: Float32Array): number[] {
  return Array.from(vector);
}

/** OpenAI's `encoding_format: "base64"`: the raw little-endian float32 bytes, base64-encoded. */
export function toBase64Vector(vector: Float32Array): string {
  const bytes = Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength);
  if (isLittleEndian) return bytes.toString('base64');
  const copy = Buffer.from(bytes);
  copy.swap32();
  return copy.toString('base64');
}

const isLittleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * OpenAI's `dimensions`: the first `dimensions` values, L2-normalised again (what OpenAI does for
 * its text-embedding-3 models; all-MiniLM-L6-v2 was not trained for it, so quality drops).
 */
export function truncateVector(vector: Float32Array, dimensions: number): Float32Array {
  if (dimensions >= vector.length) return vector;
  const kept = vector.slice(0, dimensions);
  let squares = 0;
  for (const value of kept) squares += value * value;
  const norm = Math.max(Math.sqrt(squares), 1e-12);
  for (let i = 0; i < kept.length; i++) kept[i] = (kept[i] as number) / norm;
  return kept;
}

/** Bytes of a list of vectors (what a response being written keeps alive). */
export const byteLengthOf = (vectors: readonly Float32Array[]): number => vectors.reduce((sum, vector) => sum + vector.byteLength, 0);
