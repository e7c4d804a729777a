import os from 'node:os';
import { onnx } from 'onnx-proto';

const DataType = onnx.TensorProto.DataType;
const AttributeType = onnx.AttributeProto.AttributeType;

export type ElemType = onnx.TensorProto.DataType;

/** ONNX raw_data is little-endian whatever the host is. */
function littleEndianBytes(view: ArrayBufferView, elementSize: number): Uint8Array {
  const bytes = new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
  if (elementSize === 1 || os.endianness() === 'LE') return bytes;
  const swapped = new Uint8Array(bytes.length);
  for (let i = 0; i < bytes.length; i += elementSize) {
    for (let j = 0; j < elementSize; j += 1) swapped[i + j] = bytes[i + elementSize - 1 - j];
  }
  return swapped;
}

export function floatTensor(name: string, dims: readonly number[], data: Float32Array | readonly number[]): onnx.TensorProto {
  const values = data instanceof Float32Array ? data : Float32Array.from(data);
  return onnx.TensorProto.create({ name, dims: [...dims], dataType: DataType.FLOAT, rawData: littleEndianBytes(values, 4) });
}

export function int64Tensor(name: string, dims: readonly number[], data: readonly number[]): onnx.TensorProto {
  const values = BigInt64Array.from(data, (v) => BigInt(v));
  return onnx.TensorProto.create({ name, dims: [...dims], dataType: DataType.INT64, rawData: littleEndianBytes(values, 8) });
}

export function byteTensor(
  name: string,
  dims: readonly number[],
  data: Uint8Array | Int8Array,
): onnx.TensorProto {
  const dataType = data instanceof Int8Array ? DataType.INT8 : DataType.UINT8;
  return onnx.TensorProto.create({ name, dims: [...dims], dataType, rawData: littleEndianBytes(data, 1) });
}

export const attr = {
  int: (name: string, i: number) => onnx.AttributeProto.create({ name, type: AttributeType.INT, i }),
  ints: (name: string, ints: readonly number[]) =>
    onnx.AttributeProto.create({ name, type: AttributeType.INTS, ints: [...ints] }),
  float: (name: string, f: number) => onnx.AttributeProto.create({ name, type: AttributeType.FLOAT, f }),
  tensor: (name: string, t: onnx.ITensorProto) => onnx.AttributeProto.create({ name, type: AttributeType.TENSOR, t }),
};

/** A graph input or output; string dims are symbolic (dim_param). */
export function valueInfo(name: string, elemType: ElemType, dims: ReadonlyArray<number | string>): onnx.ValueInfoProto {
  return onnx.ValueInfoProto.create({
    name,
    type: {
      tensorType: {
        elemType,
        shape: { dim: dims.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) },
      },
    },
  });
}

/**
 * Appends nodes and initializers to an onnx.GraphProto with names in the style of
 * torch.onnx.export (`/scope/Op`, `/scope/Op_1`, outputs `<node>_output_<i>`).
 */
export class GraphBuilder {
  readonly graph: onnx.GraphProto;
  private readonly usedNames = new Map<string, number>();
  private readonly initializerNames = new Set<string>();

  constructor(name: string) {
    this.graph = onnx.GraphProto.create({ name, node: [], initializer: [], input: [], output: [] });
  }

  /** Adds a node and returns its outputs' names. */
  nodeN(
    opType: string,
    scope: string,
    inputs: readonly string[],
    outputCount: number,
    attributes: readonly onnx.AttributeProto[] = [],
  ): string[] {
    const name = this.uniqueName(`${scope}/${opType}`);
    const output = Array.from({ length: outputCount }, (_, i) => `${name}_output_${i}`);
    this.graph.node.push(
      onnx.NodeProto.create({ name, opType, input: [...inputs], output, attribute: [...attributes] }),
    );
    return output;
  }

  node(opType: string, scope: string, inputs: readonly string[], attributes: readonly onnx.AttributeProto[] = []): string {
    return this.nodeN(opType, scope, inputs, 1, attributes)[0];
  }

  /** A Constant node, as the exporter emits for scalars, axes and shape pieces. */
  constant(scope: string, value: onnx.ITensorProto): string {
    return this.node('Constant', scope, [], [attr.tensor('value', value)]);
  }

  constFloat(scope: string, value: number): string {
    return this.constant(scope, floatTensor('', [], [value]));
  }

  constInt64(scope: string, values: readonly number[], dims: readonly number[] = [values.length]): string {
    return this.constant(scope, int64Tensor('', dims, values));
  }

  /** Adds an initializer once; later calls with the same name return the name. */
  initializer(tensor: onnx.TensorProto): string {
    if (!this.initializerNames.has(tensor.name)) {
      this.initializerNames.add(tensor.name);
      this.graph.initializer.push(tensor);
    }
    return tensor.name;
  }

  input(info: onnx.ValueInfoProto): string {
    this.graph.input.push(info);
    return info.name;
  }

  output(info: onnx.ValueInfoProto): void {
    this.graph.output.push(info);
  }

  /** Renames a node output (e.g. to the graph output's public name). */
  renameTensor(from: string, to: string): void {
    for (const node of this.graph.node) {
      node.output = (node.output ?? []).map((n) => (n === from ? to : n));
      node.input = (node.input ?? []).map((n) => (n === from ? to : n));
    }
  }

  private uniqueName(base: string): string {
    const count = this.usedNames.get(base) ?? 0;
    this.usedNames.set(base, count + 1);
    return count === 0 ? base : `${base}_${count}`;
  }
}
