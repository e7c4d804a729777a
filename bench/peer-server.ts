import path from 'node:path';
import express from 'express';
import { env, pipeline } from '@huggingface/transformers';
import { DEFAULT_MODEL_DIR } from '../app/defaults';

/**
 * The peer: how a typical Node user serves this model. Express + @huggingface/transformers'
 * feature-extraction pipeline, one pipeline call per request, no batching, no queue, no worker.
 * It gets the same onnxruntime intra-op thread count as our service (so it is not handicapped)
 * and the same 256-token limit.
 *
 *   node dist/bench/peer-server.js <modelDir> [port] [threads]
 *   (or PEER_MODEL_DIR, PORT, PEER_INTRA_OP_THREADS)
 */
async function main(): Promise<void> {
  const modelDir = path.resolve(process.argv[2] ?? process.env.PEER_MODEL_DIR ?? DEFAULT_MODEL_DIR);
  const port = Number(process.argv[3] ?? process.env.PORT ?? 8004);
  const threads = Number(process.argv[4] ?? process.env.PEER_INTRA_OP_THREADS ?? 0);
  const host = process.env.HOST ?? '127.0.0.1';

  env.allowRemoteModels = false;
  env.localModelPath = path.dirname(modelDir);
  const extractor = await pipeline('feature-extraction', path.basename(modelDir), {
    dtype: 'fp32',
    // Passed through to onnxruntime's InferenceSession.create; 0 means onnxruntime's own default.
    session_options: threads > 0 ? { intraOpNumThreads: threads } : {},
  });
  // model_max_length comes from tokenizer_config.json (512); the model's max_seq_length is 256.
  (extractor.tokenizer as unknown as { _tokenizerConfig: { model_max_length: number } })._tokenizerConfig.model_max_length = 256;

  const app = express();
  app.use(express.json({ limit: '2mb' }));
  app.get('/health', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.post('/embed', async (req, res) => {
    const texts: unknown = req.body?.texts;
    if (!Array.isArray(texts) || texts.length === 0 || !texts.every((t) => typeof t === 'string')) {
      res.status(422).json({ detail: 'texts must be a non-empty array of strings' });
      return;
    }
    const output = await extractor(texts as string[], { pooling: 'mean', normalize: true });
    res.json({ embeddings: output.tolist() });
  });

  const server = app.listen(port, host, () => {
    process.stdout.write(`${JSON.stringify({ message: 'peer ready', port, threads, modelDir })}\n`);
  });
  const stop = () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
    setTimeout(() => process.exit(0), 2000).unref();
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((error: unknown) => {
  process.stderr.write(`peer-server: ${(error as Error)?.stack ?? String(error)}\n`);
  process.exit(1);
});
