/**
 * Runs a serialized dynamic provider the way Pulumi's dynamic provider host does: in a plain Node
 * process started in the project directory, loaded with `require-from-string(text).handler()`, so
 * its `require`s resolve against the project's node_modules. Async (the fake ECS it talks to runs
 * in this process).
 */
import { spawn } from 'child_process';
import { REPO_ROOT } from './harness';

export interface ProviderCall {
  readonly method: 'create' | 'update' | 'delete' | 'diff' | 'read';
  readonly args: readonly unknown[];
}

const HOST = `
const chunks = [];
process.stdin.on('data', (c) => chunks.push(c));
process.stdin.on('end', async () => {
  const { provider, calls } = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  const instance = require('require-from-string')(provider).handler();
  const results = [];
  for (const call of calls) results.push(await instance[call.method](...call.args));
  process.stdout.write(JSON.stringify(results));
});
`;

/** The results of each call, in order; rejects with the child's stderr when one fails. */
export function runSerializedProvider(provider: string, calls: readonly ProviderCall[], env: NodeJS.ProcessEnv): Promise<unknown[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', HOST], { cwd: REPO_ROOT, env, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve(JSON.parse(Buffer.concat(out).toString('utf8')));
      else reject(new Error(`provider host exited ${code}: ${Buffer.concat(err).toString('utf8')}`));
    });
    child.stdin.end(JSON.stringify({ provider, calls }));
  });
}
