import { onnx } from 'onnx-proto';
import type { WeightTensor } from './bert-weights';
import { attr, byteTensor, floatTensor, type GraphBuilder } from './graph-builder';

export interface QuantizedWeight {
  readonly data: Uint8Array;
  readonly scale: number;
  readonly zeroPoint: number;
}

// Bound once: global lookups are slow inside vm contexts (jest).
const { round, abs, min: minOf, max: maxOf, fround } = Math;

/** numpy.round: half to even. */
function roundHalfEven(x: number): number {
  const r = round(x);
  return abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * Per-tensor asymmetric uint8, as onnxruntime's quantize_dynamic(weight_type=QUInt8) does:
 * the range always includes 0 so that 0 is exactly representable.
 */
export function quantizeUint8(values: Float32Array): QuantizedWeight {
  let min = 0;
  let max = 0;
  for (const v of values) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const scale = max === min ? 1 : fround((max - min) / 255);
  const zeroPoint = max === min ? 0 : minOf(255, maxOf(0, roundHalfEven(-min / scale)));
  const data = new Uint8Array(values.length);
  for (let i = 0; i < values.length; i += 1) {
    data[i] = minOf(255, maxOf(0, roundHalfEven(values[i] / scale) + zeroPoint));
  }
  return { data, scale, zeroPoint };
}

/**
 * Emits the subgraph quantize_dynamic writes for a MatMul with a constant weight:
 * DynamicQuantizeLinear(x) → MatMulInteger(x_q, W_q, x_zp, W_zp) → Cast(float) →
 * Mul(·, x_scale × W_scale). One DynamicQuantizeLinear per activation, shared by every
 * MatMul that reads it (q, k and v share one), as the quantizer does.
 */
export class DynamicMatMulQuantizer {
  private readonly quantizedActivations = new Map<string, readonly [string, string, string]>();

  matMul(b: GraphBuilder, scope: string, input: string, weightName: string, weight: WeightTensor): string {
    const [xQuantized, xScale, xZeroPoint] = this.quantizeActivation(b, scope, input);
    const q = quantizeUint8(weight.data);
    const wQuantized = b.initializer(byteTensor(`${weightName}_quantized`, weight.dims, q.data));
    const wScale = b.initializer(floatTensor(`${weightName}_scale`, [], [q.scale]));
    const wZeroPoint = b.initializer(byteTensor(`${weightName}_zero_point`, [], Uint8Array.of(q.zeroPoint)));

    const integer = b.node('MatMulInteger', scope, [xQuantized, wQuantized, xZeroPoint, wZeroPoint]);
    const asFloat = b.node('Cast', scope, [integer], [attr.int('to', onnx.TensorProto.DataType.FLOAT)]);
    const scales = b.node('Mul', scope, [xScale, wScale]);
    return b.node('Mul', scope, [asFloat, scales]);
  }

  /**
   * quantize_dynamic also quantises Gathers of constant tables (the embeddings): the table is
   * stored as uint8, gathered, then dequantised. This is what makes the public int8 file
   * about a quarter of the fp32 one.
   */
  gather(b: GraphBuilder, scope: string, tableName: string, table: WeightTensor, indices: string): string {
    const q = quantizeUint8(table.data);
    const tQuantized = b.initializer(byteTensor(`${tableName}_quantized`, table.dims, q.data));
    const tScale = b.initializer(floatTensor(`${tableName}_scale`, [], [q.scale]));
    const tZeroPoint = b.initializer(byteTensor(`${tableName}_zero_point`, [], Uint8Array.of(q.zeroPoint)));
    const gathered = b.node('Gather', scope, [tQuantized, indices]);
    return b.node('DequantizeLinear', scope, [gathered, tScale, tZeroPoint]);
  }

  private quantizeActivation(b: GraphBuilder, scope: string, input: string): readonly [string, string, string] {
    let outputs = this.quantizedActivations.get(input);
    if (!outputs) {
      const [q, scale, zeroPoint] = b.nodeN('DynamicQuantizeLinear', scope, [input], 3);
      outputs = [q, scale, zeroPoint];
      this.quantizedActivations.set(input, outputs);
    }
    return outputs;
  }
}
