import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import { removeAllTaskCgroups } from './cgroup';
import { RssSampler } from './rss';

/** Every child the benchmark started, so an exit or Ctrl-C can kill what is still running. */
const LIVE = new Set<ChildProcess>();

export function killAllChildren(): void {
  for (const child of LIVE) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
  LIVE.clear();
}

/** Tracks a child until it exits, so it is killed if the benchmark stops first. */
export function untilExit(child: ChildProcess): void {
  LIVE.add(child);
  child.once('exit', () => LIVE.delete(child));
}

/** Kills every child, then removes the cgroups they ran in (which waits, briefly, for them to be gone). */
function cleanUp(): void {
  killAllChildren();
  removeAllTaskCgroups();
}

/** Registers handlers once so children and cgroups never outlive the benchmark (normal exit, error, Ctrl-C). */
export function installChildCleanup(): void {
  process.once('exit', cleanUp);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      process.stderr.write(`\n${signal}: stopping child processes\n`);
      cleanUp();
      process.exit(130);
    });
  }
}

/** A free loopback port (asked of the kernel, then released for the child to bind). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

export interface StartedServer {
  readonly name: string;
  readonly port: number;
  readonly pid: number;
  /** Milliseconds from spawn to the first 200 on GET /health (polled every 10 ms). */
  readonly startToHealthyMs: number;
  /** Stops sampling, reads the peak RSS, sends SIGTERM and waits (bounded) for the exit. */
  stop(): Promise<StopReport>;
}

export interface StopReport {
  readonly peakRssMb: number;
  readonly maxSampledRssMb: number;
  /** Set when the server had already exited (crashed, or killed for memory) before it was asked to stop. */
  readonly diedEarly?: string;
  /** How it ended: its exit code, or the signal that ended it (e.g. SIGKILL). */
  readonly exit: string;
}

export interface ServerSpec {
  readonly name: string;
  readonly script: string;
  readonly args?: readonly string[];
  readonly env: Record<string, string>;
  readonly cwd: string;
  /** Append the server's stdout (its log), read from a pipe, to this file; in any case the last 4000 characters are kept for errors. */
  readonly stdoutFile?: string;
  /** A command that runs `node <script>` in the end (e.g. joining a cgroup first): argv before node. */
  readonly launchPrefix?: readonly string[];
  /** Options for node itself, before the script (e.g. --cpu-prof, which NODE_OPTIONS does not take). */
  readonly nodeArgs?: readonly string[];
  /** Another node binary than the one running the benchmark (e.g. the image's, scripts/pinned-node). */
  readonly node?: string;
}

/** Spawns `node <script>` with the given port, waits until /health answers 200 and starts sampling RSS. */
export async function startServer(spec: ServerSpec, port: number, timeoutMs = 60_000): Promise<StartedServer> {
  const startedAt = performance.now();
  const [command, ...prefixArgs] = [...(spec.launchPrefix ?? []), spec.node ?? process.execPath];
  const child = spawn(command as string, [...prefixArgs, ...(spec.nodeArgs ?? []), spec.script, ...(spec.args ?? [])], {
    cwd: spec.cwd,
    env: { PATH: process.env.PATH ?? '', ...spec.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  LIVE.add(child);
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-4000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  // Like production, where stdout is a pipe the log driver reads: this process reads it and writes the file.
  const logFile = spec.stdoutFile !== undefined ? fs.createWriteStream(spec.stdoutFile, { flags: 'a' }) : undefined;
  const logWritten = logFile ? new Promise<void>((resolve) => logFile.once('close', () => resolve()).once('error', () => resolve())) : Promise.resolve();
  if (logFile) child.stdout?.pipe(logFile);
  const exited = new Promise<string>((resolve) => child.once('exit', (code, signal) => resolve(String(code ?? signal))));
  const pid = child.pid;
  if (pid === undefined) throw new Error(`${spec.name}: could not spawn ${spec.script}`);

  const fail = (why: string) => {
    child.kill('SIGKILL');
    LIVE.delete(child);
    return new Error(`${spec.name}: ${why}\n${output}`);
  };
  let startToHealthyMs: number | undefined;
  while (startToHealthyMs === undefined) {
    if (child.exitCode !== null || child.signalCode !== null) throw fail(`exited (${child.exitCode ?? child.signalCode}) before it was healthy`);
    if (performance.now() - startedAt > timeoutMs) throw fail(`not healthy after ${timeoutMs} ms`);
    const status = await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(1000) }).then(
      (r) => r.status,
      () => 0,
    );
    if (status === 200) startToHealthyMs = performance.now() - startedAt;
    else await new Promise((resolve) => setTimeout(resolve, 10));
  }
  const sampler = new RssSampler(pid);

  return {
    name: spec.name,
    port,
    pid,
    startToHealthyMs,
    async stop() {
      const diedEarly = child.exitCode !== null || child.signalCode !== null ? `exited (${child.exitCode ?? child.signalCode}) before it was stopped` : undefined;
      const rss = sampler.finish();
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      const exit = await exited;
      clearTimeout(timer);
      await logWritten;
      LIVE.delete(child);
      return { peakRssMb: rss.peakMb, maxSampledRssMb: rss.maxSampledMb, exit, ...(diedEarly !== undefined ? { diedEarly } : {}) };
    },
  };
}
