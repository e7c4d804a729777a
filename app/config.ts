import { z } from 'zod';
import { availableCpus } from './cpus';
import { DEFAULT_HUB_URL, DEFAULT_MAX_ADMITTED_TEXTS, DEFAULT_MAX_CHARS_PER_TEXT, DEFAULT_MODEL_DIR, DEFAULT_MODEL_NAME, DEFAULT_ONNX_FILE } from './defaults';
import { DEFAULT_SUPERVISION, type SupervisionOptions } from './model/supervisor';

const positiveInt = (fallback: number) => z.coerce.number().int().positive().default(fallback);
const booleanFlag = (fallback: boolean) =>
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no'])
    .default(fallback ? 'true' : 'false')
    .transform((value) => value === 'true' || value === '1' || value === 'yes');

/**
 * OpenTelemetry's standard samplers (OTEL_TRACES_SAMPLER): `parentbased_*` follow the caller's
 * decision (the sampled flag of its `traceparent`) and decide only for requests that arrive
 * without one; `*_traceidratio` samples OTEL_TRACES_SAMPLER_ARG of those (default 1).
 */
const TRACE_SAMPLERS = ['parentbased_always_on', 'parentbased_always_off', 'parentbased_traceidratio', 'always_on', 'always_off', 'traceidratio'] as const;

/**
 * Every environment variable the service reads, with its default. Nothing else in the service
 * reads process.env: main() calls loadConfig(process.env) once and passes the result down.
 */
const envSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(8003),
  HOST: z.string().min(1).default('0.0.0.0'),
  EMBEDDING_MODEL_DIR: z.string().min(1).default(DEFAULT_MODEL_DIR),
  EMBEDDING_MODEL_FILE: z.string().min(1).default(DEFAULT_ONNX_FILE),
  MODEL_NAME: z.string().min(1).default(DEFAULT_MODEL_NAME),
  /** Serve a synthetic model (random weights) even with NODE_ENV=production: only on purpose, e.g. to test the image. */
  ALLOW_SYNTHETIC_MODEL: booleanFlag(false),
  MODEL_AUTO_DOWNLOAD: booleanFlag(true),
  HF_ENDPOINT: z.url().default(DEFAULT_HUB_URL),
  MAX_TEXTS_PER_REQUEST: positiveInt(100),
  MAX_OPENAI_INPUTS: positiveInt(2048),
  MAX_BODY_BYTES: positiveInt(2 * 1024 * 1024),
  MAX_INFLIGHT_BODY_BYTES: positiveInt(16 * 1024 * 1024),
  REQUEST_TIMEOUT_MS: z.coerce.number().int().min(1000).default(30_000),
  MAX_CONNECTIONS: positiveInt(512),
  MAX_INFLIGHT_RESPONSE_BYTES: positiveInt(64 * 1024 * 1024),
  RESPONSE_WRITE_TIMEOUT_MS: z.coerce.number().int().min(100).default(10_000),
  MAX_CHARS_PER_TEXT: positiveInt(DEFAULT_MAX_CHARS_PER_TEXT),
  MAX_BATCH_SIZE: positiveInt(64),
  MAX_BATCH_TOKENS: positiveInt(2048),
  MAX_ADMITTED_TEXTS: z.coerce.number().int().positive().optional(),
  /** The former name of MAX_ADMITTED_TEXTS, still read. */
  MAX_QUEUED_TEXTS: z.coerce.number().int().positive().optional(),
  MAX_QUEUE_WAIT_MS: positiveInt(3000),
  INTERACTIVE_MAX_TEXTS: positiveInt(4),
  RUN_TARGET_MS: positiveInt(100),
  INFERENCE_TIMEOUT_FACTOR: z.coerce.number().min(1).default(10),
  INFERENCE_TIMEOUT_MIN_MS: positiveInt(10_000),
  WORKER_FAILURE_LIMIT: positiveInt(DEFAULT_SUPERVISION.failureLimit),
  WORKER_FAILURE_WINDOW_MS: positiveInt(DEFAULT_SUPERVISION.failureWindowMs),
  ORT_INTRA_OP_THREADS: z.coerce.number().int().positive().optional(),
  ORT_CPU_MEM_ARENA: booleanFlag(true),
  ORT_ALLOW_SPINNING: booleanFlag(true),
  EMBEDDING_CACHE_ENTRIES: z.coerce.number().int().min(0).default(0),
  LOG_LEVEL: z.enum(['error', 'warn', 'info', 'debug']).default('info'),
  OTEL_EXPORTER_OTLP_ENDPOINT: z.url().optional(),
  OTEL_SERVICE_NAME: z.string().min(1).default('embedding-service'),
  OTEL_TRACES_SAMPLER: z.enum(TRACE_SAMPLERS).default('parentbased_always_on'),
  OTEL_TRACES_SAMPLER_ARG: z.coerce.number().min(0).max(1).optional(),
  SHUTDOWN_GRACE_MS: z.coerce.number().int().min(0).default(25_000),
  /** `production` (the image's) refuses a synthetic model unless ALLOW_SYNTHETIC_MODEL says otherwise. */
  NODE_ENV: z.string().min(1).optional(),
});

/** The names of every variable the service reads. */
export const CONFIG_VARIABLES: readonly string[] = Object.keys(envSchema.shape);

/** Only the service's own variables from an environment (to hand on to a child process). */
export function serviceVariables(env: NodeJS.ProcessEnv): Record<string, string> {
  return Object.fromEntries(CONFIG_VARIABLES.flatMap((key) => (env[key] === undefined ? [] : [[key, env[key] as string]])));
}

/** The configuration, one group per consumer. */
export interface Config {
  readonly port: number;
  readonly host: string;
  /** NODE_ENV=production: a synthetic model is refused unless `model.allowSynthetic`. */
  readonly production: boolean;
  /** Provisioning and loading (prepare-model.ts), and what the model is called (model-identity.ts). */
  readonly model: {
    readonly dir: string;
    readonly onnxFile: string;
    /** The real model's name; a synthetic model is reported as `<name>-synthetic`. */
    readonly name: string;
    readonly autoDownload: boolean;
    readonly hubEndpoint: string;
    readonly allowSynthetic: boolean;
  };
  /** The HTTP server and its routes. */
  readonly http: {
    /** Texts in one /embed request (the Python service's limit). */
    readonly maxTextsPerRequest: number;
    /** Inputs in one /v1/embeddings request (OpenAI's limit). */
    readonly maxOpenAiInputs: number;
    readonly maxBodyBytes: number;
    /** Bytes of request bodies being read and parsed at once; a body that would exceed it is refused unread. */
    readonly maxInflightBodyBytes: number;
    /** Time a client has to send a whole request (headers and body). */
    readonly requestTimeoutMs: number;
    /** Open connections; beyond, a new connection is closed unread (and idle keep-alive ones are closed). */
    readonly maxConnections: number;
    /** Bytes held by responses being written (their vectors); beyond, embedding requests are refused unread. */
    readonly maxInflightResponseBytes: number;
    /** Time a client has to take a whole response; then the connection is destroyed. */
    readonly responseWriteTimeoutMs: number;
  };
  /** The tokenizer (model/tokenizer.ts). */
  readonly tokenizer: { readonly maxCharsPerText: number };
  /** Admission, the queue and the scheduler (batching/). */
  readonly scheduling: SchedulingConfig;
  /** The onnxruntime session (model/onnx-encoder.ts). */
  readonly session: {
    readonly intraOpThreads: number;
    readonly cpuMemArena: boolean;
    readonly allowSpinning: boolean;
  };
  /** The supervisor of the inference thread (model/supervisor.ts). */
  readonly supervision: Pick<SupervisionOptions, 'failureLimit' | 'failureWindowMs'>;
  /** The text → vector cache (embedder.ts); 0 entries turns it off. */
  readonly cache: { readonly entries: number };
  readonly logLevel: 'error' | 'warn' | 'info' | 'debug';
  readonly tracing: {
    readonly otlpEndpoint: string | undefined;
    readonly serviceName: string;
    /** Requests whose caller sent a trace follow its decision when `parentBased`; the others are sampled at `ratio`. */
    readonly sampler: { readonly parentBased: boolean; readonly ratio: number };
  };
  readonly shutdownGraceMs: number;
}

export interface SchedulingConfig {
  readonly maxBatchSize: number;
  readonly maxBatchTokens: number;
  /** Texts admitted and not yet answered (tokenising, queued or running); beyond, new requests are refused. */
  readonly maxAdmittedTexts: number;
  /** Longest wait for a request's first inference run; admission aims at half of it. */
  readonly maxQueueWaitMs: number;
  /** Requests of at most this many texts are interactive (queries) and go before bulk work. */
  readonly interactiveMaxTexts: number;
  /** What a bulk inference run may last (estimated), so a query waits for at most about this long. */
  readonly runTargetMs: number;
  /** A run's deadline: `factor` × its expected time, at least `minMs` (also the deadline before any run was measured). */
  readonly runDeadline: { readonly factor: number; readonly minMs: number };
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(
      `invalid configuration:\n  ${problems.join('\n  ')}\n` +
        'Fix: give these variables valid values, or unset them for their defaults (each is described in docs/operations.md, "Configuration").',
    );
    this.name = 'ConfigError';
  }
}

/** Parses and validates the whole environment at once; every problem is reported in one error. */
export function loadConfig(env: NodeJS.ProcessEnv, cpus: () => number = availableCpus): Config {
  const present = Object.fromEntries(
    Object.keys(envSchema.shape).flatMap((key) => {
      const value = env[key];
      return value === undefined || value === '' ? [] : [[key, value]];
    }),
  );
  const parsed = envSchema.safeParse(present);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`));
  }
  const e = parsed.data;
  const maxAdmittedTexts = e.MAX_ADMITTED_TEXTS ?? e.MAX_QUEUED_TEXTS ?? DEFAULT_MAX_ADMITTED_TEXTS;
  const inconsistent = [
    ...(e.MAX_ADMITTED_TEXTS !== undefined && e.MAX_QUEUED_TEXTS !== undefined && e.MAX_ADMITTED_TEXTS !== e.MAX_QUEUED_TEXTS
      ? [`MAX_ADMITTED_TEXTS (${e.MAX_ADMITTED_TEXTS}) and its former name MAX_QUEUED_TEXTS (${e.MAX_QUEUED_TEXTS}) disagree; set only MAX_ADMITTED_TEXTS`]
      : []),
    ...(maxAdmittedTexts < Math.max(e.MAX_TEXTS_PER_REQUEST, e.MAX_OPENAI_INPUTS)
      ? [`MAX_ADMITTED_TEXTS (${maxAdmittedTexts}) must be at least MAX_TEXTS_PER_REQUEST (${e.MAX_TEXTS_PER_REQUEST}) and MAX_OPENAI_INPUTS (${e.MAX_OPENAI_INPUTS}), or the largest allowed request could never be admitted`]
      : []),
    ...(e.MAX_INFLIGHT_BODY_BYTES < e.MAX_BODY_BYTES
      ? [`MAX_INFLIGHT_BODY_BYTES (${e.MAX_INFLIGHT_BODY_BYTES}) must be at least MAX_BODY_BYTES (${e.MAX_BODY_BYTES}), or the largest allowed body could never be read`]
      : []),
  ];
  if (inconsistent.length > 0) throw new ConfigError(inconsistent);
  return deepFreeze({
    port: e.PORT,
    host: e.HOST,
    production: e.NODE_ENV === 'production',
    model: {
      dir: e.EMBEDDING_MODEL_DIR,
      onnxFile: e.EMBEDDING_MODEL_FILE,
      name: e.MODEL_NAME,
      autoDownload: e.MODEL_AUTO_DOWNLOAD,
      hubEndpoint: e.HF_ENDPOINT.replace(/\/+$/, ''),
      allowSynthetic: e.ALLOW_SYNTHETIC_MODEL,
    },
    http: {
      maxTextsPerRequest: e.MAX_TEXTS_PER_REQUEST,
      maxOpenAiInputs: e.MAX_OPENAI_INPUTS,
      maxBodyBytes: e.MAX_BODY_BYTES,
      maxInflightBodyBytes: e.MAX_INFLIGHT_BODY_BYTES,
      requestTimeoutMs: e.REQUEST_TIMEOUT_MS,
      maxConnections: e.MAX_CONNECTIONS,
      maxInflightResponseBytes: e.MAX_INFLIGHT_RESPONSE_BYTES,
      responseWriteTimeoutMs: e.RESPONSE_WRITE_TIMEOUT_MS,
    },
    tokenizer: { maxCharsPerText: e.MAX_CHARS_PER_TEXT },
    scheduling: {
      maxBatchSize: e.MAX_BATCH_SIZE,
      maxBatchTokens: e.MAX_BATCH_TOKENS,
      maxAdmittedTexts,
      maxQueueWaitMs: e.MAX_QUEUE_WAIT_MS,
      interactiveMaxTexts: e.INTERACTIVE_MAX_TEXTS,
      runTargetMs: e.RUN_TARGET_MS,
      runDeadline: { factor: e.INFERENCE_TIMEOUT_FACTOR, minMs: e.INFERENCE_TIMEOUT_MIN_MS },
    },
    session: {
      intraOpThreads: e.ORT_INTRA_OP_THREADS ?? cpus(),
      cpuMemArena: e.ORT_CPU_MEM_ARENA,
      allowSpinning: e.ORT_ALLOW_SPINNING,
    },
    supervision: { failureLimit: e.WORKER_FAILURE_LIMIT, failureWindowMs: e.WORKER_FAILURE_WINDOW_MS },
    cache: { entries: e.EMBEDDING_CACHE_ENTRIES },
    logLevel: e.LOG_LEVEL,
    tracing: { otlpEndpoint: e.OTEL_EXPORTER_OTLP_ENDPOINT, serviceName: e.OTEL_SERVICE_NAME, sampler: samplerOf(e.OTEL_TRACES_SAMPLER, e.OTEL_TRACES_SAMPLER_ARG) },
    shutdownGraceMs: e.SHUTDOWN_GRACE_MS,
  });
}

function samplerOf(name: (typeof TRACE_SAMPLERS)[number], arg: number | undefined): Config['tracing']['sampler'] {
  const parentBased = name.startsWith('parentbased_');
  const kind = name.replace(/^parentbased_/, '');
  return { parentBased, ratio: kind === 'always_on' ? 1 : kind === 'always_off' ? 0 : (arg ?? 1) };
}

function deepFreeze<T extends object>(value: T): T {
  for (const child of Object.values(value)) {
    if (child !== null && typeof child === 'object') deepFreeze(child);
  }
  return Object.freeze(value);
}
