/** Progress of one file's download, as reported by downloadModel's onProgress. */
export interface DownloadProgress {
  /** Path of the file inside the model directory. */
  file: string;
  /** Bytes received so far. */
  received: number;
  /** Bytes expected in all (the pinned size). */
  total: number;
}

const MIB = 1024 * 1024;

/** `model: onnx/model.onnx 45.1/86.2 MB (52%)` (sizes in MiB, as `du -h` and most tools show). */
export function formatProgress(p: DownloadProgress): string {
  const percent = p.total > 0 ? Math.floor((p.received / p.total) * 100) : 100;
  return `model: ${p.file} ${(p.received / MIB).toFixed(1)}/${(p.total / MIB).toFixed(1)} MB (${percent}%)`;
}

export interface StderrProgressOptions {
  /** Where to print; process.stderr unless given (tests pass a stream of their own). */
  stream?: NodeJS.WritableStream & { isTTY?: boolean };
}

/**
 * A progress printer for downloadModel's onProgress, shared by the CLIs. On a terminal it
 * rewrites one line per file; elsewhere (logs, CI) it prints a line at each 10% step and at the
 * end, so a log holds at most ~11 lines per file. Throttling in time is downloadModel's job.
 */
export function createStderrProgress(options: StderrProgressOptions = {}): (p: DownloadProgress) => void {
  const stream = options.stream ?? process.stderr;
  const tty = stream.isTTY === true;
  let currentFile: string | undefined;
  let lastStep = -1;

  return (p) => {
    const done = p.received >= p.total;
    if (p.file !== currentFile) {
      if (tty && currentFile !== undefined) stream.write('\n');
      currentFile = p.file;
      lastStep = -1;
    }
    if (tty) {
      stream.write(`\r${formatProgress(p)}\x1b[K`);
      if (done) {
        stream.write('\n');
        currentFile = undefined;
      }
      return;
    }
    const step = p.total > 0 ? Math.floor((p.received / p.total) * 10) : 10;
    if (step > lastStep || done) {
      lastStep = done ? 11 : step;
      stream.write(`${formatProgress(p)}\n`);
    }
    if (done) currentFile = undefined;
  };
}
