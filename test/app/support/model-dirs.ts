import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { onnx } from 'onnx-proto';
import { MODEL_FILES, modelPath } from '../../../app/model/layout';
import { smallModelDir } from './models';
import { startTestServer, type TestServer } from './server';

/**
 * A copy of the model directory `source` in a fresh temporary folder, its ONNX files left out and
 * `onnxBytes` written as onnx/model.onnx. The caller removes it.
 */
export async function modelDirWith(source: string, onnxBytes: Uint8Array | string): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'model-dir-'));
  await cp(source, dir, { recursive: true, filter: (file) => path.relative(source, file).split(path.sep)[0] !== 'onnx' });
  await mkdir(path.join(dir, 'onnx'));
  await writeFile(modelPath(dir, MODEL_FILES.onnxModel), onnxBytes);
  return dir;
}

/**
 * The small synthetic model with the marker of `npm run model:synthetic` taken out (another
 * producer, no metadata): to the service, a real model. For tests of what a real model gets.
 */
export async function unmarkedModelDir(): Promise<string> {
  const source = await smallModelDir();
  const model = onnx.ModelProto.decode(await readFile(modelPath(source, MODEL_FILES.onnxModel)));
  model.producerName = 'pytorch';
  model.metadataProps = [];
  return modelDirWith(source, onnx.ModelProto.encode(model).finish());
}

/** A test server on an unmarked model (the real one, to the service); its `stop` also removes the copy. */
export async function startUnmarkedModelServer(): Promise<TestServer> {
  const dir = await unmarkedModelDir();
  const server = await startTestServer({ EMBEDDING_MODEL_DIR: dir });
  const stop = async () => {
    const outcome = await server.stop();
    await rm(dir, { recursive: true, force: true });
    return outcome;
  };
  return { ...server, stop };
}

/** A valid ONNX model that is not a sentence encoder: `logits` straight out of `input_ids`. */
export function notAnEncoderOnnx(): Uint8Array {
  const int64Matrix = (name: string) => ({
    name,
    type: { tensorType: { elemType: onnx.TensorProto.DataType.INT64, shape: { dim: [{ dimParam: 'batch' }, { dimParam: 'sequence' }] } } },
  });
  return onnx.ModelProto.encode(
    onnx.ModelProto.create({
      irVersion: 8,
      opsetImport: [{ domain: '', version: 14 }],
      producerName: 'pytorch',
      graph: {
        name: 'classifier',
        node: [{ opType: 'Identity', input: ['input_ids'], output: ['logits'] }],
        input: [int64Matrix('input_ids'), int64Matrix('attention_mask')],
        output: [int64Matrix('logits')],
      },
    }),
  ).finish();
}
