import path from 'node:path';
import { SERVICE_NODE_FLAGS } from '../app/defaults';
import type { StackConfig } from '../infra/config';
import { startOtlpSink } from './otlp-sink';
import { appContainerEnvironment } from './production';
import { log } from './scenario-run';
import { freePort, startServer, type ServerSpec, type StartedServer, type StopReport } from './server-process';
import { RequestTally, telemetryResult, type TelemetryResult } from './telemetry';

/** What every server of a run shares. */
export interface ServerContext {
  readonly repo: string;
  readonly modelDir: string;
  /** Service variables `npm run bench` was started with (e.g. MAX_BATCH_TOKENS=1024): they apply to ours everywhere. */
  readonly tuning: Readonly<Record<string, string>>;
  readonly stack: StackConfig;
  /** Where each server's stdout (its log) is written. */
  readonly logDir: string;
}

/**
 * How our service is configured:
 * - `production`: as the task definition ships it (its whole environment: NODE_ENV=production,
 *   LOG_LEVEL from the stack, shutdown grace, ORT_INTRA_OP_THREADS from the task's CPU units), tracing
 *   to an OTLP sink on loopback in place of the collector sidecar, logs to a file;
 * - `quiet`: the same, but tracing off and LOG_LEVEL=warn (no line per request).
 */
export type OursConfig = 'production' | 'quiet';

export type ServerPlan =
  | { readonly kind: 'ours'; readonly config: OursConfig; readonly taskCpu: number; readonly onnxFile?: string; /** Another build's app/main.js (side-by-side runs); default: this one's. */ readonly main?: string }
  | { readonly kind: 'peer'; readonly threads: number };

export interface ServerRunOptions {
  /** Names the log file and, in messages, the server. */
  readonly label: string;
  readonly plan: ServerPlan;
  /** Argv that ends up running node (e.g. joining a cgroup first). */
  readonly launchPrefix?: readonly string[];
  /** Options for node itself (e.g. --cpu-prof). */
  readonly nodeArgs?: readonly string[];
  /** Another node binary (default: the one running the benchmark). */
  readonly node?: string;
  /** Variables added to the server's environment (e.g. for a preload). */
  readonly extraEnv?: Readonly<Record<string, string>>;
}

/** The environment of our service for a plan: the task definition's, then the bench's tuning, then loopback and the local model. */
export function oursEnvironment(context: ServerContext, plan: Extract<ServerPlan, { kind: 'ours' }>, port: number, otlpUrl: string | undefined): Record<string, string> {
  const env: Record<string, string> = {
    ...appContainerEnvironment(context.stack, plan.taskCpu),
    ...context.tuning,
    EMBEDDING_MODEL_DIR: context.modelDir,
    MODEL_AUTO_DOWNLOAD: 'false',
    // The benchmark's model is synthetic, which NODE_ENV=production (the task's) refuses unless told.
    ALLOW_SYNTHETIC_MODEL: 'true',
    HOST: '127.0.0.1',
    PORT: String(port),
    ...(plan.onnxFile !== undefined ? { EMBEDDING_MODEL_FILE: plan.onnxFile } : {}),
  };
  if (plan.config === 'quiet' || otlpUrl === undefined) delete env.OTEL_EXPORTER_OTLP_ENDPOINT;
  else env.OTEL_EXPORTER_OTLP_ENDPOINT = otlpUrl;
  if (plan.config === 'quiet') env.LOG_LEVEL = 'warn';
  return env;
}

function serverSpec(context: ServerContext, options: ServerRunOptions, port: number, logFile: string, otlpUrl: string | undefined): ServerSpec {
  const common = { name: options.label, cwd: context.repo, stdoutFile: logFile, ...(options.launchPrefix ? { launchPrefix: options.launchPrefix } : {}), ...(options.nodeArgs ? { nodeArgs: options.nodeArgs } : {}), ...(options.node ? { node: options.node } : {}) };
  const plan = options.plan;
  if (plan.kind === 'peer') {
    return { ...common, script: path.join(__dirname, 'peer-server.js'), args: [context.modelDir, String(port), String(plan.threads)], env: { HOST: '127.0.0.1' } };
  }
  return { ...common, script: plan.main ?? OURS_MAIN, nodeArgs: [...SERVICE_NODE_FLAGS, ...(common.nodeArgs ?? [])], env: { ...oursEnvironment(context, plan, port, otlpUrl), ...options.extraEnv } };
}

/** Our service as compiled beside this file (dist/ for `npm run bench`). */
export const OURS_MAIN = path.join(__dirname, '..', 'app', 'main.js');

export interface ServerRun<T> {
  readonly value: T;
  readonly server: StartedServer;
  readonly stop: StopReport;
  readonly telemetry: TelemetryResult;
}

/** What every result records of a server's run: start to healthy and peak memory. */
export const startAndMemory = (run: ServerRun<unknown>) => ({
  startToHealthyMs: run.server.startToHealthyMs,
  peakRssMb: run.stop.peakRssMb,
  maxSampledRssMb: run.stop.maxSampledRssMb,
});

/**
 * Starts one server (with an OTLP sink when it traces), runs `body` against it, stops it (also when
 * `body` fails) and reports its memory and telemetry. Only one server runs at a time.
 */
export async function runServer<T>(context: ServerContext, options: ServerRunOptions, body: (server: StartedServer, tally: RequestTally) => Promise<T>): Promise<ServerRun<T>> {
  const tracing = options.plan.kind === 'ours' && options.plan.config === 'production';
  const sink = tracing ? await startOtlpSink() : undefined;
  const logFile = path.join(context.logDir, `${options.label.replace(/[^A-Za-z0-9_.-]/g, '_')}.log`);
  try {
    const port = await freePort();
    const server = await startServer(serverSpec(context, options, port, logFile, sink?.url), port);
    log(`healthy after ${server.startToHealthyMs.toFixed(0)} ms (pid ${server.pid}, port ${port}${sink ? `, traces to ${sink.url}` : ''}, log ${path.relative(context.repo, logFile)})`);
    const tally = new RequestTally();
    let value: T;
    try {
      value = await body(server, tally);
    } catch (error) {
      await server.stop();
      throw error;
    }
    const stop = await server.stop();
    // The exporter flushes on shutdown: the sink's counts are complete once the server has exited.
    const telemetry = telemetryResult(tally, { file: logFile, shown: path.relative(context.repo, logFile) }, sink?.counts());
    log(
      `peak RSS ${stop.peakRssMb.toFixed(0)} MB; ${telemetry.requestsServed} responses, log ${telemetry.logLines} lines (${telemetry.logBytesPerRequest.toFixed(0)} B/response)` +
        (telemetry.traces ? `, ${telemetry.traces.spans} spans exported (${telemetry.traces.spansPerRequest.toFixed(2)}/response)` : '') +
        (stop.diedEarly ? `  ⚠ ${stop.diedEarly}` : ''),
    );
    return { value, server, stop, telemetry };
  } finally {
    await sink?.close();
  }
}
