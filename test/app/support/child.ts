import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { SERVICE_NODE_FLAGS } from '../../../app/defaults';
import { MAIN_JS } from './paths';

/** The service as production runs it: `node <SERVICE_NODE_FLAGS> dist/app/main.js`, in its own process. */
export class ServiceProcess {
  readonly child: ChildProcessWithoutNullStreams;
  readonly startedAt = Date.now();
  readonly logs: Array<Record<string, unknown>> = [];
  stderr = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private stdoutBuffer = '';

  /** `launchPrefix`: argv that ends up running node (e.g. `setpriv ... --` to drop privileges). */
  constructor(env: Record<string, string>, options: { launchPrefix?: readonly string[] } = {}) {
    const [command = process.execPath, ...args] = [...(options.launchPrefix ?? []), process.execPath, ...SERVICE_NODE_FLAGS, MAIN_JS];
    this.child = spawn(command, args, {
      env: { PATH: process.env.PATH ?? '', HOST: '127.0.0.1', PORT: '0', MODEL_AUTO_DOWNLOAD: 'false', ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      this.stdoutBuffer += chunk;
      const lines = this.stdoutBuffer.split('\n');
      this.stdoutBuffer = lines.pop() ?? '';
      for (const line of lines) {
        try {
          this.logs.push(JSON.parse(line) as Record<string, unknown>);
        } catch {
          this.logs.push({ message: line, unparsed: true });
        }
      }
    });
    this.child.stderr.setEncoding('utf8').on('data', (chunk: string) => (this.stderr += chunk));
    this.exited = new Promise((resolve) => this.child.once('exit', (code, signal) => resolve({ code, signal })));
  }

  /** Waits (bounded) for a log line matching the predicate. */
  async waitForLog(predicate: (entry: Record<string, unknown>) => boolean, timeoutMs = 20_000): Promise<Record<string, unknown>> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const found = this.logs.find(predicate);
      if (found) return found;
      if (this.child.exitCode !== null) throw new Error(`service exited (${this.child.exitCode}): ${this.stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    throw new Error(`timed out waiting for a log line; stderr: ${this.stderr}`);
  }

  async port(): Promise<number> {
    return (await this.waitForLog((e) => e.message === 'listening')).port as number;
  }

  /** Polls /health every 20 ms (bounded) and returns ms from spawn to the first 200. */
  async waitHealthy(timeoutMs = 20_000): Promise<number> {
    const base = `http://127.0.0.1:${await this.port()}`;
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const response = await fetch(`${base}/health`).catch(() => undefined);
      if (response?.status === 200) return Date.now() - this.startedAt;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    throw new Error('service did not become healthy in time');
  }

  kill(signal: NodeJS.Signals = 'SIGTERM'): void {
    if (this.child.exitCode === null) this.child.kill(signal);
  }
}
