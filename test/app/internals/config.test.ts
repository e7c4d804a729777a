import fs from 'node:fs';
import path from 'node:path';
import { CONFIG_VARIABLES, ConfigError, loadConfig, serviceVariables } from '../../../app/config';

describe('loadConfig', () => {
  const twoCpus = () => 2;

  it('gives the documented defaults for an empty environment', () => {
    const config = loadConfig({}, twoCpus);
    expect(config).toMatchObject({
      port: 8003,
      host: '0.0.0.0',
      model: { dir: './models/all-MiniLM-L6-v2', onnxFile: 'onnx/model.onnx', name: 'all-MiniLM-L6-v2', autoDownload: true, hubEndpoint: 'https://huggingface.co' },
      http: { maxTextsPerRequest: 100, maxBodyBytes: 2 * 1024 * 1024 },
      tokenizer: { maxCharsPerText: 20_000 },
      scheduling: { maxBatchSize: 64, maxBatchTokens: 2048, maxAdmittedTexts: 4096, maxQueueWaitMs: 3000, interactiveMaxTexts: 4, runTargetMs: 100, runDeadline: { factor: 10, minMs: 10_000 } },
      session: { intraOpThreads: 2, cpuMemArena: true, allowSpinning: true },
      supervision: { failureLimit: 3, failureWindowMs: 300_000 },
      cache: { entries: 0 },
      logLevel: 'info',
      tracing: { otlpEndpoint: undefined, serviceName: 'embedding-service', sampler: { parentBased: true, ratio: 1 } },
    });
  });

  it('reads the standard sampler variables: follow the caller, sample a ratio of root requests', () => {
    const sampler = (env: NodeJS.ProcessEnv) => loadConfig(env, twoCpus).tracing.sampler;
    expect(sampler({ OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.25' })).toEqual({ parentBased: true, ratio: 0.25 });
    expect(sampler({ OTEL_TRACES_SAMPLER: 'parentbased_traceidratio' })).toEqual({ parentBased: true, ratio: 1 });
    expect(sampler({ OTEL_TRACES_SAMPLER: 'parentbased_always_off' })).toEqual({ parentBased: true, ratio: 0 });
    expect(sampler({ OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.1' })).toEqual({ parentBased: false, ratio: 0.1 });
    expect(sampler({ OTEL_TRACES_SAMPLER: 'always_on' })).toEqual({ parentBased: false, ratio: 1 });
    expect(() => sampler({ OTEL_TRACES_SAMPLER: 'jaeger_remote' })).toThrow(/OTEL_TRACES_SAMPLER/);
    expect(() => sampler({ OTEL_TRACES_SAMPLER_ARG: '2' })).toThrow(/OTEL_TRACES_SAMPLER_ARG/);
  });

  it('reads every variable it documents', () => {
    const config = loadConfig(
      {
        PORT: '9000', EMBEDDING_MODEL_DIR: '/models/x', EMBEDDING_MODEL_FILE: 'onnx/model_quint8_avx2.onnx', MODEL_AUTO_DOWNLOAD: 'false',
        HF_ENDPOINT: 'http://hub.internal:8080/', MAX_TEXTS_PER_REQUEST: '10', MAX_BODY_BYTES: '1000', ORT_INTRA_OP_THREADS: '1',
        LOG_LEVEL: 'debug', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://localhost:4318', SHUTDOWN_GRACE_MS: '5000',
      },
      twoCpus,
    );
    expect(config.port).toBe(9000);
    expect(config.model).toMatchObject({ dir: '/models/x', onnxFile: 'onnx/model_quint8_avx2.onnx', autoDownload: false, hubEndpoint: 'http://hub.internal:8080' });
    expect(config.http).toMatchObject({ maxTextsPerRequest: 10, maxBodyBytes: 1000 });
    expect(config.session.intraOpThreads).toBe(1);
    expect(config.tracing.otlpEndpoint).toBe('http://localhost:4318');
    expect(config.shutdownGraceMs).toBe(5000);
  });

  it('treats empty strings as unset', () => {
    expect(loadConfig({ PORT: '', OTEL_EXPORTER_OTLP_ENDPOINT: '' }, twoCpus)).toMatchObject({ port: 8003, tracing: { otlpEndpoint: undefined } });
  });

  it('reports every invalid variable in one error', () => {
    let error: unknown;
    try {
      loadConfig({ PORT: 'http', LOG_LEVEL: 'verbose', MAX_TEXTS_PER_REQUEST: '0', HF_ENDPOINT: 'not a url' }, twoCpus);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.join('\n');
    for (const key of ['PORT', 'LOG_LEVEL', 'MAX_TEXTS_PER_REQUEST', 'HF_ENDPOINT']) expect(problems).toContain(key);
  });

  it('refuses limits that would refuse the largest allowed request forever, naming both problems', () => {
    let error: unknown;
    try {
      loadConfig({ MAX_QUEUED_TEXTS: '1000', MAX_BODY_BYTES: '4000000', MAX_INFLIGHT_BODY_BYTES: '1000000' }, twoCpus);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems;
    expect(problems).toHaveLength(2);
    expect(problems[0]).toMatch(/MAX_ADMITTED_TEXTS \(1000\) must be at least .*MAX_OPENAI_INPUTS \(2048\)/);
    expect(problems[1]).toMatch(/MAX_INFLIGHT_BODY_BYTES .* MAX_BODY_BYTES/);
    expect(loadConfig({ MAX_QUEUED_TEXTS: '1000', MAX_OPENAI_INPUTS: '1000' }, twoCpus).scheduling.maxAdmittedTexts).toBe(1000);
  });

  it('reads MAX_ADMITTED_TEXTS, or its former name MAX_QUEUED_TEXTS, and refuses the two disagreeing', () => {
    expect(loadConfig({ MAX_ADMITTED_TEXTS: '5000' }, twoCpus).scheduling.maxAdmittedTexts).toBe(5000);
    expect(loadConfig({ MAX_QUEUED_TEXTS: '6000' }, twoCpus).scheduling.maxAdmittedTexts).toBe(6000);
    expect(loadConfig({ MAX_ADMITTED_TEXTS: '7000', MAX_QUEUED_TEXTS: '7000' }, twoCpus).scheduling.maxAdmittedTexts).toBe(7000);
    expect(() => loadConfig({ MAX_ADMITTED_TEXTS: '5000', MAX_QUEUED_TEXTS: '6000' }, twoCpus)).toThrow(/MAX_ADMITTED_TEXTS \(5000\) and its former name MAX_QUEUED_TEXTS \(6000\) disagree/);
  });

  it('parses the hardening limits and the worker supervision', () => {
    const config = loadConfig(
      { MAX_QUEUE_WAIT_MS: '1500', INTERACTIVE_MAX_TEXTS: '8', RUN_TARGET_MS: '250', INFERENCE_TIMEOUT_FACTOR: '2.5', INFERENCE_TIMEOUT_MIN_MS: '800', WORKER_FAILURE_LIMIT: '5', WORKER_FAILURE_WINDOW_MS: '60000', REQUEST_TIMEOUT_MS: '5000' },
      twoCpus,
    );
    expect(config.scheduling).toMatchObject({ maxQueueWaitMs: 1500, interactiveMaxTexts: 8, runTargetMs: 250, runDeadline: { factor: 2.5, minMs: 800 } });
    expect(config.supervision).toEqual({ failureLimit: 5, failureWindowMs: 60000 });
    expect(config.http).toMatchObject({ maxOpenAiInputs: 2048, maxInflightBodyBytes: 16 * 1024 * 1024, requestTimeoutMs: 5000 });
  });

  it('returns a frozen object', () => {
    const config = loadConfig({}, twoCpus);
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.model)).toBe(true);
  });

  it('refuses a synthetic model only under NODE_ENV=production, unless ALLOW_SYNTHETIC_MODEL (a boolean, checked) allows it', () => {
    const policy = (env: Record<string, string>) => {
      const config = loadConfig(env, twoCpus);
      return { production: config.production, allowSynthetic: config.model.allowSynthetic };
    };
    expect(policy({})).toEqual({ production: false, allowSynthetic: false });
    expect(policy({ NODE_ENV: 'development', ALLOW_SYNTHETIC_MODEL: 'true' })).toEqual({ production: false, allowSynthetic: true });
    expect(policy({ NODE_ENV: 'production' })).toEqual({ production: true, allowSynthetic: false });
    expect(policy({ NODE_ENV: 'production', ALLOW_SYNTHETIC_MODEL: 'yes' })).toEqual({ production: true, allowSynthetic: true });
    expect(() => loadConfig({ ALLOW_SYNTHETIC_MODEL: 'sometimes' }, twoCpus)).toThrow(/ALLOW_SYNTHETIC_MODEL: /);
  });

  it('hands on only its own variables', () => {
    expect(serviceVariables({ PORT: '1', HOME: '/root', MAX_BATCH_TOKENS: '1024' })).toEqual({ PORT: '1', MAX_BATCH_TOKENS: '1024' });
    expect(CONFIG_VARIABLES).toContain('ORT_ALLOW_SPINNING');
  });

  it('documents every variable in the configuration table of docs/operations.md', () => {
    const readme = fs.readFileSync(path.join(__dirname, '../../../docs/operations.md'), 'utf8');
    for (const key of CONFIG_VARIABLES) expect(readme).toMatch(new RegExp(`^\\| \`${key}\` \\|`, 'm'));
  });
});
