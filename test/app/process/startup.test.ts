import { chmod, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { MODEL_FILES, modelPath } from '../../../app/model/layout';
import { ServiceProcess } from '../support/child';
import { closedPort } from '../support/fake-hub';
import { modelDirWith, notAnEncoderOnnx } from '../support/model-dirs';
import { fullModelDir, smallModelDir } from '../support/models';

const SYNTHETIC_WARNING = 'synthetic model (random weights, written by npm run model:synthetic): its vectors are not meaningful embeddings';

/**
 * Every start-up failure a newcomer can hit, in the real process: one message at the end of stderr
 * saying what is wrong and then how to fix it, the same at level error in the log, a non-zero exit
 * and no stack trace. Then the synthetic model's start: reported as such, refused in production.
 */
describe('service start-up', () => {
  let modelDir: string;
  const running: ServiceProcess[] = [];
  const cleanup: string[] = [];
  const spawnService = (env: Record<string, string>, options: { launchPrefix?: readonly string[] } = {}) => {
    const service = new ServiceProcess(env, options);
    running.push(service);
    return service;
  };
  const tempDir = async (prefix: string) => {
    const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
    cleanup.push(dir);
    return dir;
  };

  beforeAll(async () => {
    modelDir = await fullModelDir();
  });
  afterEach(async () => {
    for (const service of running.splice(0)) service.kill('SIGKILL');
    for (const dir of cleanup.splice(0)) {
      await chmod(dir, 0o700).catch(() => {});
      await rm(dir, { recursive: true, force: true });
    }
  });

  /**
   * Starts the service, waits for it to exit and checks the exit: `code`, stderr ending with one
   * message (the problem, then a fix), no stack trace, and the same message in one error log line.
   * Returns the message.
   */
  async function expectStartupFailure(service: ServiceProcess, code: number): Promise<string> {
    const exit = await service.exited;
    expect(exit).toEqual({ code, signal: null });
    expect(service.stderr).not.toMatch(/^\s+at /m);
    expect(service.stderr).not.toMatch(/unhandled|terminate called/i);
    const message = service.stderr.trim();
    expect(message.split('\n').length).toBeLessThanOrEqual(10);
    expect(message).toMatch(/\n(Fix: |Any one of these fixes it:\n {2}- )/);
    if (code === 1) {
      expect(message).toMatch(/^embedding-service: cannot start: /);
      const errors = service.logs.filter((entry) => entry.level === 'error');
      expect(errors.map((entry) => entry.message)).toEqual([message.replace(/^embedding-service: /, '')]);
    }
    return message;
  }

  describe('each failure ends with one message naming the fix', () => {
    it('no model and no hub: the fixes, the offline one (npm run model:synthetic) first; nothing left in the directory', async () => {
      const emptyDir = await tempDir('offline-');
      const endpoint = `http://127.0.0.1:${await closedPort()}`;
      const message = await expectStartupFailure(spawnService({ EMBEDDING_MODEL_DIR: emptyDir, MODEL_AUTO_DOWNLOAD: 'true', HF_ENDPOINT: endpoint }), 1);
      expect(message).toContain(`no model in ${emptyDir} (EMBEDDING_MODEL_DIR), and it could not be downloaded from ${endpoint} (HF_ENDPOINT)`);
      expect(message).toMatch(/Any one of these fixes it:\n {2}- offline: `npm run model:synthetic -- \.\/models\/synthetic`, then start with EMBEDDING_MODEL_DIR=\.\/models\/synthetic/);
      expect(message).toContain('set HF_ENDPOINT to a reachable Hugging Face mirror');
      expect(message).toContain('`npm run model:fetch -- <dir>`');
      expect(await readdir(emptyDir, { recursive: true })).toEqual([]);
    });

    it('no model and MODEL_AUTO_DOWNLOAD=false: says the download is off and how to turn it on', async () => {
      const emptyDir = await tempDir('no-download-');
      const message = await expectStartupFailure(spawnService({ EMBEDDING_MODEL_DIR: emptyDir, MODEL_AUTO_DOWNLOAD: 'false' }), 1);
      expect(message).toContain(`no model in ${emptyDir} (EMBEDDING_MODEL_DIR), and MODEL_AUTO_DOWNLOAD=false`);
      expect(message).toContain('- set MODEL_AUTO_DOWNLOAD=true to download it from https://huggingface.co (HF_ENDPOINT)');
      expect(message).toContain('`npm run model:synthetic -- ./models/synthetic`');
    });

    it('port in use: names the address and the two ways out', async () => {
      const holder = net.createServer();
      await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
      const { port } = holder.address() as net.AddressInfo;
      try {
        const message = await expectStartupFailure(spawnService({ EMBEDDING_MODEL_DIR: modelDir, PORT: String(port) }), 1);
        expect(message).toContain(`cannot listen on 127.0.0.1:${port}: the port is already in use`);
        expect(message).toMatch(/Fix: stop the process that holds it .*, or set PORT to a free port$/);
      } finally {
        await new Promise((resolve) => holder.close(resolve));
      }
    });

    it('a model directory the service cannot read: says so and how to make it readable', async () => {
      const locked = await modelDirWith(await smallModelDir(), await readFile(modelPath(await smallModelDir(), MODEL_FILES.onnxModel)));
      cleanup.push(locked);
      await chmod(locked, 0o000);
      // root reads anything: run the service as root without the capabilities that override file permissions.
      const launchPrefix = process.getuid?.() === 0 ? ['setpriv', '--bounding-set', '-dac_override,-dac_read_search', '--'] : [];
      const message = await expectStartupFailure(spawnService({ EMBEDDING_MODEL_DIR: locked }, { launchPrefix }), 1);
      expect(message).toContain(`cannot read the model directory ${locked} (EMBEDDING_MODEL_DIR): EACCES: permission denied`);
      expect(message).toContain(`make it readable by the user running the service (uid ${process.getuid?.()}): \`chmod -R a+rX ${locked}\``);
    });

    it('EMBEDDING_MODEL_DIR naming a file: says to point it at the model directory', async () => {
      const file = path.join(await tempDir('not-a-dir-'), 'model.onnx');
      await writeFile(file, 'x');
      const message = await expectStartupFailure(spawnService({ EMBEDDING_MODEL_DIR: file }), 1);
      expect(message).toContain(`EMBEDDING_MODEL_DIR=${file} is not a directory`);
      expect(message).toContain('Fix: point EMBEDDING_MODEL_DIR at the model directory');
    });

    it.each([
      ['not a model (an HTML page saved as model.onnx)', async () => '<!doctype html><title>404</title>', /onnx\/model\.onnx is not an ONNX model \(it starts with "<!doctype html><titl"\)/],
      ['cut short (an interrupted download)', async () => (await readFile(modelPath(await smallModelDir(), MODEL_FILES.onnxModel))).subarray(0, 5000), /onnx\/model\.onnx is cut short: a field needs \d+ bytes and the file has 5000/],
      ['of the wrong width (another model\'s ONNX file)', async () => readFile(modelPath(await smallModelDir(), MODEL_FILES.onnxModel)), /its last_hidden_state has 64 values per token, but the directory's 1_Pooling\/config\.json says 384/],
      ['not a sentence encoder (a classifier)', async () => notAnEncoderOnnx(), /it has no output "last_hidden_state" \(outputs: logits\); it is not a BERT encoder/],
    ])('an ONNX file %s: what is wrong with it, and how to get a good one', async (_name, onnxBytes, problem) => {
      const dir = await modelDirWith(modelDir, await onnxBytes());
      cleanup.push(dir);
      const message = await expectStartupFailure(spawnService({ EMBEDDING_MODEL_DIR: dir }), 1);
      expect(message).toContain(`the model in ${dir} (EMBEDDING_MODEL_DIR, file onnx/model.onnx) cannot be served: `);
      expect(message).toMatch(problem);
      expect(message).toContain(`- download the model again: \`npm run model:fetch -- ${dir}\``);
      expect(message).toContain(`- offline, for a test model: \`npm run model:synthetic -- ${dir}\``);
    });

    it('an invalid configuration: exit 2, every problem at once, then where the variables are described', async () => {
      const message = await expectStartupFailure(spawnService({ EMBEDDING_MODEL_DIR: modelDir, PORT: 'eighty', LOG_LEVEL: 'loud', ALLOW_SYNTHETIC_MODEL: 'perhaps' }), 2);
      expect(message.split('\n')).toEqual([
        'invalid configuration:',
        expect.stringMatching(/^ {2}PORT: /),
        expect.stringMatching(/^ {2}ALLOW_SYNTHETIC_MODEL: /),
        expect.stringMatching(/^ {2}LOG_LEVEL: /),
        'Fix: give these variables valid values, or unset them for their defaults (each is described in docs/operations.md, "Configuration").',
      ]);
    });
  });

  describe('a synthetic model', () => {
    it('is served under its -synthetic name, with a warning at start-up', async () => {
      const service = spawnService({ EMBEDDING_MODEL_DIR: modelDir });
      await service.waitHealthy();
      const starting = await service.waitForLog((entry) => entry.message === 'starting');
      expect(starting.model).toBe('all-MiniLM-L6-v2-synthetic');
      const warning = await service.waitForLog((entry) => entry.level === 'warn');
      expect(warning.message).toBe(`serving a ${SYNTHETIC_WARNING}; reported as all-MiniLM-L6-v2-synthetic`);
      expect((await service.waitForLog((entry) => /^model loaded in/.test(String(entry.message)))).model).toBe('all-MiniLM-L6-v2-synthetic');
    });

    it('is refused under NODE_ENV=production, naming the variable that allows it', async () => {
      const message = await expectStartupFailure(spawnService({ EMBEDDING_MODEL_DIR: modelDir, NODE_ENV: 'production' }), 1);
      expect(message).toContain(`${modelPath(modelDir, MODEL_FILES.onnxModel)} is a ${SYNTHETIC_WARNING}, and NODE_ENV=production does not serve one`);
      expect(message).toContain('- if serving random vectors is what you mean (a test of the image), set ALLOW_SYNTHETIC_MODEL=true');
    });

    it('is served under NODE_ENV=production with ALLOW_SYNTHETIC_MODEL=true, still with its name and warning', async () => {
      const service = spawnService({ EMBEDDING_MODEL_DIR: modelDir, NODE_ENV: 'production', ALLOW_SYNTHETIC_MODEL: 'true' });
      await service.waitHealthy();
      const health = await (await fetch(`http://127.0.0.1:${await service.port()}/health`)).json();
      expect(health).toMatchObject({ status: 'ok', model_name: 'all-MiniLM-L6-v2-synthetic', synthetic_model: true });
      expect(await service.waitForLog((entry) => entry.level === 'warn')).toMatchObject({ model: 'all-MiniLM-L6-v2-synthetic', production: true });
    });
  });
});
