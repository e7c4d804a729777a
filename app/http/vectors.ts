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
