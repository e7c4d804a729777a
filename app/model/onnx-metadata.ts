import { open, type FileHandle } from 'node:fs/promises';

/** What an ONNX file says about itself (ModelProto's producer_name and metadata_props). */
export interface OnnxMetadata {
  readonly producerName: string;
  readonly props: Readonly<Record<string, string>>;
}

/** The file is not an ONNX model: not a protobuf ModelProto, or one cut short. */
export class NotAnOnnxModelError extends Error {
  override name = 'NotAnOnnxModelError';
}

// ModelProto's field numbers (onnx/onnx.proto) and protobuf's wire types.
const IR_VERSION = 1;
const PRODUCER_NAME = 2;
const GRAPH = 7;
const METADATA_PROPS = 14;
const ENTRY_KEY = 1;
const ENTRY_VALUE = 2;
const VARINT = 0;
const FIXED64 = 1;
const LENGTH_DELIMITED = 2;
const FIXED32 = 5;

/** A producer name or a metadata entry larger than this is not one a model would carry. */
const MAX_FIELD_READ = 1 << 20;

/**
 * Reads the metadata of an ONNX file without loading the model: only the top-level fields of the
 * protobuf are read, and the graph (nearly all of the file) is skipped by its length, so this costs
 * a few small reads whatever the model's size. A file that does not parse as a ModelProto with an
 * IR version and a graph (an HTML error page saved as model.onnx, a download cut short) is
 * refused with NotAnOnnxModelError, saying what was found.
 */
export async function readOnnxMetadata(file: string): Promise<OnnxMetadata> {
  const handle = await open(file, 'r');
  try {
    const { size } = await handle.stat();
    if (size === 0) throw new NotAnOnnxModelError(`${file} is empty (an interrupted copy or download?)`);
    let position = 0;
    let producerName = '';
    const props: Record<string, string> = {};
    const seen = new Set<number>();
    while (position < size) {
      const head = await readBytes(handle, position, Math.min(20, size - position));
      const tag = readVarint(head, 0);
      const field = Math.floor(tag.value / 8);
      const wireType = tag.value % 8;
      if (!(field > 0)) throw notAModel(file, head, position);
      let offset = tag.next;
      if (wireType === VARINT) {
        const value = readVarint(head, offset);
        if (Number.isNaN(value.value)) throw notAModel(file, head, position);
        offset = value.next;
      } else if (wireType === FIXED64 || wireType === FIXED32) {
        offset += wireType === FIXED64 ? 8 : 4;
      } else if (wireType === LENGTH_DELIMITED) {
        const length = readVarint(head, offset);
        if (Number.isNaN(length.value)) throw notAModel(file, head, position);
        const start = position + length.next;
        if (start + length.value > size) {
          throw new NotAnOnnxModelError(`${file} is cut short: a field needs ${start + length.value} bytes and the file has ${size} (an interrupted copy or download?)`);
        }
        if (field === PRODUCER_NAME) producerName = (await readField(handle, start, length.value)).toString('utf8');
        if (field === METADATA_PROPS) Object.assign(props, decodeEntry(await readField(handle, start, length.value)));
        offset = length.next + length.value;
      } else {
        throw notAModel(file, head, position);
      }
      seen.add(field);
      position += offset;
    }
    if (position !== size || !seen.has(IR_VERSION) || !seen.has(GRAPH)) {
      const head = await readBytes(handle, 0, Math.min(20, size));
      throw notAModel(file, head, 0);
    }
    return { producerName, props };
  } finally {
    await handle.close();
  }
}

function notAModel(file: string, head: Buffer, position: number): NotAnOnnxModelError {
  const text = head.toString('latin1').replace(/[^\x20-\x7e]/g, '.');
  const where = position === 0 ? `it starts with "${text}"` : `at byte ${position}: "${text}"`;
  return new NotAnOnnxModelError(`${file} is not an ONNX model (${where})`);
}

async function readBytes(handle: FileHandle, position: number, length: number): Promise<Buffer> {
  const buffer = Buffer.alloc(length);
  const { bytesRead } = await handle.read(buffer, 0, length, position);
  return buffer.subarray(0, bytesRead);
}

function readField(handle: FileHandle, position: number, length: number): Promise<Buffer> {
  return readBytes(handle, position, Math.min(length, MAX_FIELD_READ));
}

/** A protobuf varint at `offset` (up to 2^53, which covers any file length). */
function readVarint(bytes: Buffer, offset: number): { value: number; next: number } {
  let value = 0;
  let scale = 1;
  for (let i = offset; i < bytes.length && i < offset + 8; i++) {
    const byte = bytes[i] as number;
    value += (byte & 0x7f) * scale;
    if (byte < 0x80) return { value, next: i + 1 };
    scale *= 128;
  }
  return { value: Number.NaN, next: bytes.length + 1 };
}

/** One StringStringEntryProto: `{ key: value }`, or nothing when it does not parse. */
function decodeEntry(bytes: Buffer): Record<string, string> {
  let key: string | undefined;
  let value = '';
  let offset = 0;
  while (offset < bytes.length) {
    const tag = readVarint(bytes, offset);
    const length = readVarint(bytes, tag.next);
    if (tag.value % 8 !== LENGTH_DELIMITED || !(length.next + length.value <= bytes.length)) return {};
    const text = bytes.subarray(length.next, length.next + length.value).toString('utf8');
    if (Math.floor(tag.value / 8) === ENTRY_KEY) key = text;
    if (Math.floor(tag.value / 8) === ENTRY_VALUE) value = text;
    offset = length.next + length.value;
  }
  return key === undefined ? {} : { [key]: value };
}
