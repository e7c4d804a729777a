/**
 * Mean pooling over the attention mask followed by optional L2 normalisation, exactly as
 * sentence-transformers' Pooling(mean) + Normalize modules compute it.
 * `hidden` is [batch, seqLen, dim] row-major; `lengths[i]` is the number of real tokens of row i
 * (right padding), so the mask is implicit.
 */
export function meanPool(hidden: Float32Array, lengths: readonly number[], seqLen: number, dim: number, normalize: boolean): Float32Array[] {
  return lengths.map((length, row) => {
    const sum = new Float64Array(dim);
    const rowStart = row * seqLen * dim;
    for (let t = 0; t < length; t++) {
      const offset = rowStart + t * dim;
      for (let d = 0; d < dim; d++) sum[d] = (sum[d] as number) + (hidden[offset + d] as number);
    }
    const count = Math.max(length, 1e-9);
    const vector = new Float32Array(dim);
    let squares = 0;
    for (let d = 0; d < dim; d++) {
      const mean = (sum[d] as number) / count;
      vector[d] = mean;
      squares += mean * mean;
    }
    if (normalize) {
      const norm = Math.max(Math.sqrt(squares), 1e-12);
      for (let d = 0; d < dim; d++) vector[d] = (vector[d] as number) / norm;
    }
    return vector;
  });
}
