import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { ServiceProcess } from '../../app/support/child';
import { fullModelDir } from '../../app/support/models';
import { REPO_ROOT } from '../../app/support/paths';
import { postJson } from '../../app/support/server';

const run = promisify(execFile);
const TSC = require.resolve('typescript/bin/tsc', { paths: [REPO_ROOT] });

/** What a Node service writes to use the client: the same calls from ESM and from CommonJS. */
const CALLS = `
  const client = createEmbeddingClient({ url: process.argv[2] });
  const [vector] = await client.embed(['jazz night in the park']);
  const refused = await client.embed(['ok', 5]).catch((error) => error);
  await client.close();
  console.log(JSON.stringify({ vector: Array.from(vector), refused: refused instanceof EmbeddingRequestError ? refused.status : String(refused) }));
`;
const CONSUMERS: Record<string, string> = {
  'esm.mjs': `import { createEmbeddingClient, EmbeddingRequestError } from 'embedding-service/client';\n${CALLS}`,
  'cjs.cjs': `const { createEmbeddingClient, EmbeddingRequestError } = require('embedding-service/client');\n(async () => {${CALLS}})();`,
};
/** Type-checked only: the declarations must type the options (a wrong one is an error) and the result. */
const TYPED = `import { createEmbeddingClient, EmbeddingRequestError, type EmbeddingClient } from 'embedding-service/client';
const client: EmbeddingClient = createEmbeddingClient({ url: 'http://127.0.0.1:8003', maxBatchChars: 4000, maxInFlight: 2 });
// @ts-expect-error timeoutMs is a number
createEmbeddingClient({ url: 'http://127.0.0.1:8003', timeoutMs: '10s' });
export const first: Promise<Float32Array> = client.embedOne('jazz');
export const isRequestError = (error: unknown): boolean => error instanceof EmbeddingRequestError && error.status === 422;
`;

/**
 * The TypeScript client as a Node service gets it: `npm pack` of this repository (its prepack script
 * builds dist/), unpacked into a consumer's node_modules, imported as `embedding-service/client`.
 */
describe('embedding-service/client from a packed tarball', () => {
  let consumer: string;
  let packed: string[];

  beforeAll(async () => {
    // In an ignored folder of the repository, so the package's dependencies resolve from the repository's
    // node_modules as an installed package's resolve from its consumer's.
    consumer = await fs.mkdtemp(path.join(REPO_ROOT, '.cache', 'package-consumer-'));
    const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', consumer], { cwd: REPO_ROOT });
    const [tarball] = JSON.parse(stdout) as Array<{ filename: string; files: Array<{ path: string }> }>;
    packed = tarball!.files.map((file) => file.path);
    const installed = path.join(consumer, 'node_modules', 'embedding-service');
    await fs.mkdir(installed, { recursive: true });
    await run('tar', ['-xzf', path.join(consumer, tarball!.filename), '-C', installed, '--strip-components=1']);
    const files = { ...CONSUMERS, 'typed.mts': TYPED, 'typed.cts': TYPED, 'typed-node10.ts': TYPED };
    await Promise.all(Object.entries(files).map(([name, text]) => fs.writeFile(path.join(consumer, name), text)));
  }, 120_000);

  afterAll(() => fs.rm(consumer, { recursive: true, force: true }));

  it('ships the compiled client with its declarations, and no tests, tools or sources', () => {
    expect(packed).toEqual(expect.arrayContaining(['package.json', 'dist/clients/typescript/index.js', 'dist/clients/typescript/index.d.ts', 'dist/app/model/index.js']));
    expect(packed.filter((file) => !/^(dist\/(app|clients)\/|package\.json$|README\.md$)/.test(file))).toEqual([]);
  });

  it('is imported from ESM and required from CommonJS, and both embed through the real service', async () => {
    const service = new ServiceProcess({ EMBEDDING_MODEL_DIR: await fullModelDir() });
    try {
      await service.waitHealthy();
      const url = `http://127.0.0.1:${await service.port()}`;
      const { body } = await postJson(`${url}/embed`, { texts: ['jazz night in the park'] });
      const expected = Array.from(Float32Array.from(body.embeddings[0] as number[]));
      for (const file of Object.keys(CONSUMERS)) {
        const { stdout } = await run(process.execPath, [file, url], { cwd: consumer });
        expect({ file, ...JSON.parse(stdout) }).toEqual({ file, vector: expected, refused: 422 });
      }
    } finally {
      service.kill('SIGKILL');
      await service.exited;
    }
  }, 60_000);

  it('type-checks in a consumer as ESM and as CommonJS, with each module resolution', async () => {
    const check = (files: string[], options: string[]) =>
      run(process.execPath, [TSC, '--noEmit', '--strict', '--types', 'node', ...options, ...files], { cwd: consumer }).then(
        () => '',
        (error: { stdout?: string }) => error.stdout ?? String(error),
      );
    expect(await check(['typed.mts', 'typed.cts'], ['--module', 'nodenext', '--moduleResolution', 'nodenext'])).toBe('');
    expect(await check(['typed.mts'], ['--module', 'esnext', '--moduleResolution', 'bundler'])).toBe('');
    expect(await check(['typed-node10.ts'], ['--module', 'commonjs', '--moduleResolution', 'node'])).toBe(''); // through typesVersions
  }, 120_000);
});
