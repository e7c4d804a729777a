import { loadConfig } from '../../app/config';
import { appContainerEnvironment, appMemoryMiB, parseTaskShape, productionStack, taskContainers } from '../../bench/production';
import { oursEnvironment, type ServerContext } from '../../bench/servers';

describe('the production configuration, from the Pulumi program', () => {
  const stack = productionStack();

  it('reads the production stack file: a 512/1024 task at LOG_LEVEL info', () => {
    expect({ cpu: stack.cpu, memory: stack.memory, logLevel: stack.logLevel }).toEqual({ cpu: 512, memory: 1024, logLevel: 'info' });
  });

  it('gives the app container the task definition environment: threads from the task CPU, tracing to the sidecar, the shutdown grace', () => {
    const env = appContainerEnvironment(stack, 512);
    expect(env).toMatchObject({
      NODE_ENV: 'production',
      LOG_LEVEL: 'info',
      ORT_INTRA_OP_THREADS: '1',
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318',
      SHUTDOWN_GRACE_MS: String(stack.shutdownGraceMs),
    });
    expect(appContainerEnvironment(stack, 2048).ORT_INTRA_OP_THREADS).toBe('2');
  });

  it('the app can count on the task memory less the collector hard limit (not its soft reservation)', () => {
    const { collector } = taskContainers(stack, 512);
    expect(appMemoryMiB(stack, { cpuUnits: 512, memoryMiB: 1024 })).toEqual({ appMiB: 1024 - collector.memory!, collectorMiB: collector.memory, collectorReservationMiB: collector.memoryReservation });
    expect(collector.memory).toBe(192);
  });

  it('parses --task-shape values, and only Fargate sizes', () => {
    expect(parseTaskShape('512/1024')).toEqual({ cpuUnits: 512, memoryMiB: 1024 });
    expect(parseTaskShape(' 1024/2048 ')).toEqual({ cpuUnits: 1024, memoryMiB: 2048 });
    expect(() => parseTaskShape('512')).toThrow(/<cpu units>\/<memory MiB>/);
    expect(() => parseTaskShape('500/1024')).toThrow(/not a Fargate size/);
    expect(() => parseTaskShape('512/512')).toThrow(/not valid with cpu 512/);
  });

  describe('our service environment in the benchmark', () => {
    const context: ServerContext = { repo: '/repo', modelDir: '/models/x', tuning: { MAX_BATCH_TOKENS: '1024' }, stack, logDir: '/tmp' };

    it('production: the task definition, tracing to the sink, loopback, the local model, the bench tuning on top; the service accepts it', () => {
      const env = oursEnvironment(context, { kind: 'ours', config: 'production', taskCpu: 512 }, 4321, 'http://127.0.0.1:9999');
      expect(env).toMatchObject({ HOST: '127.0.0.1', PORT: '4321', EMBEDDING_MODEL_DIR: '/models/x', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9999', LOG_LEVEL: 'info', MAX_BATCH_TOKENS: '1024' });
      const config = loadConfig(env);
      // NODE_ENV=production, as on ECS, serving the synthetic model on purpose.
      expect({ production: config.production, allowSynthetic: config.model.allowSynthetic }).toEqual({ production: true, allowSynthetic: true });
      expect(config.tracing.otlpEndpoint).toBe('http://127.0.0.1:9999');
      expect(config.session.intraOpThreads).toBe(1);
      expect(config.shutdownGraceMs).toBe(stack.shutdownGraceMs);
      expect(config.scheduling.maxBatchTokens).toBe(1024);
    });

    it('quiet: the same, with tracing off and LOG_LEVEL=warn', () => {
      const production = oursEnvironment(context, { kind: 'ours', config: 'production', taskCpu: 2048, onnxFile: 'onnx/int8.onnx' }, 1, 'http://127.0.0.1:9999');
      const quiet = oursEnvironment(context, { kind: 'ours', config: 'quiet', taskCpu: 2048, onnxFile: 'onnx/int8.onnx' }, 1, 'http://127.0.0.1:9999');
      expect(quiet.OTEL_EXPORTER_OTLP_ENDPOINT).toBeUndefined();
      expect(quiet.LOG_LEVEL).toBe('warn');
      const { OTEL_EXPORTER_OTLP_ENDPOINT: _endpoint, LOG_LEVEL: _level, ...rest } = production;
      const { LOG_LEVEL: _quietLevel, ...quietRest } = quiet;
      expect(quietRest).toEqual(rest);
      expect(loadConfig(quiet).tracing.otlpEndpoint).toBeUndefined();
      expect(loadConfig(quiet).model.onnxFile).toBe('onnx/int8.onnx');
    });
  });
});
