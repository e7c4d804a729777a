import path from 'node:path';

/**
 * A start-up that cannot go on, for a reason the person starting the service can fix: no model, a
 * busy port, a model directory it cannot read, a file that is not the model. The message says what
 * is wrong, then how to fix it; main.ts prints it without a stack trace and exits 1.
 */
export class StartupError extends Error {
  override name = 'StartupError';

  constructor(problem: string, fixes: readonly string[], options?: ErrorOptions) {
    super(`${problem}\n${formatFixes(fixes)}`, options);
  }
}

function formatFixes(fixes: readonly string[]): string {
  if (fixes.length === 1) return `Fix: ${fixes[0]}`;
  return ['Any one of these fixes it:', ...fixes.map((fix) => `  - ${fix}`)].join('\n');
}

const errorCode = (error: unknown): string | undefined => (error as NodeJS.ErrnoException | null)?.code;

/** Why the server could not listen on HOST:PORT, as a StartupError; any other error unchanged. */
export function listenFailure(error: unknown, host: string, port: number): unknown {
  const where = `${host}:${port}`;
  switch (errorCode(error)) {
    case 'EADDRINUSE':
      return new StartupError(`cannot listen on ${where}: the port is already in use (another embedding-service, or another program)`, [
        `stop the process that holds it (\`ss -ltnp 'sport = :${port}'\` names it), or set PORT to a free port`,
      ]);
    case 'EACCES':
      return new StartupError(`cannot listen on ${where}: permission denied (ports below 1024 need privileges)`, [
        'set PORT to 1024 or above (the default is 8003)',
      ]);
    case 'EADDRNOTAVAIL':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new StartupError(`cannot listen on ${where}: HOST ${host} is not an address of this machine`, [
        'set HOST to 0.0.0.0 (every interface, the default), 127.0.0.1 (this machine only) or one of its addresses',
      ]);
    default:
      return error;
  }
}

/**
 * A model directory that exists but cannot be read (permissions) or is not a directory, as a
 * StartupError; undefined for any other error (a missing directory is not this: provisioning
 * downloads or explains).
 */
export function modelDirectoryFailure(error: unknown, dir: string): StartupError | undefined {
  const absolute = path.resolve(dir);
  switch (errorCode(error)) {
    case 'EACCES':
    case 'EPERM': {
      const user = typeof process.getuid === 'function' ? ` (uid ${process.getuid()})` : '';
      return new StartupError(`cannot read the model directory ${absolute} (EMBEDDING_MODEL_DIR): ${(error as Error).message}`, [
        `make it readable by the user running the service${user}: \`chmod -R a+rX ${absolute}\``,
        'or point EMBEDDING_MODEL_DIR at a readable copy',
      ]);
    }
    case 'ENOTDIR':
    case 'EEXIST':
      return new StartupError(`EMBEDDING_MODEL_DIR=${dir} is not a directory (or has a file where a folder belongs)`, [
        'point EMBEDDING_MODEL_DIR at the model directory: the folder that holds onnx/model.onnx, tokenizer.json and 1_Pooling/',
      ]);
    default:
      return undefined;
  }
}
