import { z } from 'zod';
import { availableCpus } from './cpus';

const DEFAULT_MODEL_DIR = './models/all-MiniLM-L6-v2';

const positiveInt = (fallback: number) => z.coerce.number().int().positive().default(fallback);
const booleanFlag = (fallback: boolean) =>
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no'])
    .default(fallback ? 'true' : 'false')
    .transform((value) => value === 'true' || value === '1' || value === 'yes');

/**
 * Every environment variable the service reads, with its default. Nothing else in the service
 * reads process.env: main() calls loadConfig(process.env) once and passes the result down.
 */
const envSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(8003),
  HOST: z.string().min(1).default('0.0.0.0'),
  EMBEDDING_MODEL_DIR: z.string().min(1).default(DEFAULT_MODEL_DIR),
  EMBEDDING_MODEL_FILE: z.string().min(1).default('onnx/model.onnx'),
  MODEL_NAME: z.string().min(1).default('all-MiniLM-L6-v2'),
  MODEL_AUTO_DOWNLOAD: booleanFlag(true),
  HF_ENDPOINT: z.url().default('https://huggingface.co'),
  MAX_TEXTS_PER_REQUEST: positiveInt(100),
  MAX_BODY_BYTES: positiveInt(2 * 1024 * 1024),
  MAX_CHARS_PER_TEXT: positiveInt(20_000),
  MAX_BATCH_SIZE: positiveInt(64),
  MAX_BATCH_TOKENS: positiveInt(2048),
  MAX_QUEUED_TEXTS: positiveInt(4096),
  ORT_INTRA_OP_THREADS: z.coerce.number().int().positive().optional(),
  ORT_CPU_MEM_ARENA: booleanFlag(true),
  ORT_ALLOW_SPINNING: booleanFlag(true),
  EMBEDDING_CACHE_ENTRIES: z.coerce.number().int().min(0).default(0),
  LOG_LEVEL: z.enum(['error', 'warn', 'info', 'debug']).default('info'),
  OTEL_EXPORTER_OTLP_ENDPOINT: z.url().optional(),
  OTEL_SERVICE_NAME: z.string().min(1).default('embedding-service'),
  SHUTDOWN_GRACE_MS: z.coerce.number().int().min(0).default(25_000),
});

/** The names of every variable the service reads. */
export const CONFIG_VARIABLES: readonly string[] = Object.keys(envSchema.shape);

/** Only the service's own variables from an environment (to hand on to a child process). */
export function serviceVariables(env: NodeJS.ProcessEnv): Record<string, string> {
  return Object.fromEntries(CONFIG_VARIABLES.flatMap((key) => (env[key] === undefined ? [] : [[key, env[key] as string]])));
}

export interface Config {
  readonly port: number;
  readonly host: string;
  readonly model: {
    readonly dir: string;
    readonly onnxFile: string;
    readonly name: string;
    readonly autoDownload: boolean;
    readonly hubEndpoint: string;
  };
  readonly limits: {
    readonly maxTextsPerRequest: number;
    readonly maxBodyBytes: number;
    readonly maxCharsPerText: number;
  };
  readonly inference: {
    readonly maxBatchSize: number;
    readonly maxBatchTokens: number;
    readonly maxQueuedTexts: number;
    readonly intraOpThreads: number;
    readonly cpuMemArena: boolean;
    readonly allowSpinning: boolean;
    readonly cacheEntries: number;
  };
  readonly logLevel: 'error' | 'warn' | 'info' | 'debug';
  readonly tracing: { readonly otlpEndpoint: string | undefined; readonly serviceName: string };
  readonly shutdownGraceMs: number;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`);
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
  return deepFreeze({
    port: e.PORT,
    host: e.HOST,
    model: {
      dir: e.EMBEDDING_MODEL_DIR,
      onnxFile: e.EMBEDDING_MODEL_FILE,
      name: e.MODEL_NAME,
      autoDownload: e.MODEL_AUTO_DOWNLOAD,
      hubEndpoint: e.HF_ENDPOINT.replace(/\/+$/, ''),
    },
    limits: {
      maxTextsPerRequest: e.MAX_TEXTS_PER_REQUEST,
      maxBodyBytes: e.MAX_BODY_BYTES,
      maxCharsPerText: e.MAX_CHARS_PER_TEXT,
    },
    inference: {
      maxBatchSize: e.MAX_BATCH_SIZE,
      maxBatchTokens: e.MAX_BATCH_TOKENS,
      maxQueuedTexts: e.MAX_QUEUED_TEXTS,
      intraOpThreads: e.ORT_INTRA_OP_THREADS ?? cpus(),
      cpuMemArena: e.ORT_CPU_MEM_ARENA,
      allowSpinning: e.ORT_ALLOW_SPINNING,
      cacheEntries: e.EMBEDDING_CACHE_ENTRIES,
    },
    logLevel: e.LOG_LEVEL,
    tracing: { otlpEndpoint: e.OTEL_EXPORTER_OTLP_ENDPOINT, serviceName: e.OTEL_SERVICE_NAME },
    shutdownGraceMs: e.SHUTDOWN_GRACE_MS,
  });
}

function deepFreeze<T extends object>(value: T): T {
  for (const child of Object.values(value)) {
    if (child !== null && typeof child === 'object') deepFreeze(child);
  }
  return Object.freeze(value);
}
