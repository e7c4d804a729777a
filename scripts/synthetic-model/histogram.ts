import { onnx } from 'onnx-proto';

/** Op type → node count of a model's main graph (op types sorted by count, then name). */
export function opHistogram(model: onnx.IModelProto | Uint8Array): Record<string, number> {
  const decoded = model instanceof Uint8Array ? onnx.ModelProto.decode(model) : model;
  const counts = new Map<string, number>();
  for (const node of decoded.graph?.node ?? []) {
    const op = node.opType ?? '';
    counts.set(op, (counts.get(op) ?? 0) + 1);
  }
  const sorted = [...counts].sort(([a, x], [b, y]) => y - x || a.localeCompare(b));
  return Object.fromEntries(sorted);
}

export function nodeCount(histogram: Readonly<Record<string, number>>): number {
  return Object.values(histogram).reduce((a, b) => a + b, 0);
}
