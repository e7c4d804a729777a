/**
 * buildah and podman as this kind of machine runs them: rootful, runc (crun 1.8 refuses hybrid
 * cgroups), cgroupfs and file events (no systemd), and open-file/process limits the rootful runtime
 * can set here.
 */
import { spawn, spawnSync } from 'node:child_process';

export const PODMAN_GLOBAL = ['--runtime', 'runc', '--cgroup-manager', 'cgroupfs', '--events-backend', 'file'];
export const RUN_LIMITS = ['--ulimit', 'nofile=20000:20000', '--ulimit', 'nproc=32768:32768'];

export interface Result {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a command to completion, capturing its output; never throws on a non-zero exit. */
export function run(command: string, args: readonly string[], options: { cwd?: string } = {}): Result {
  const r = spawnSync(command, args, { cwd: options.cwd, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (r.error) throw r.error;
  return { status: r.status ?? 1, stdout: r.stdout, stderr: r.stderr };
}

/** Like run(), but a non-zero exit throws with the command's last output lines. */
export function must(command: string, args: readonly string[], options: { cwd?: string } = {}): string {
  const r = run(command, args, options);
  if (r.status !== 0) {
    const tail = `${r.stdout}\n${r.stderr}`.trim().split('\n').slice(-15).join('\n');
    throw new Error(`${command} ${args.slice(0, 3).join(' ')} ... exited with ${r.status}:\n${tail}`);
  }
  return r.stdout.trim();
}

/** Runs a long command with its output streamed to ours (a build); resolves with its exit status. */
export function stream(command: string, args: readonly string[], options: { cwd?: string } = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, stdio: ['ignore', 'inherit', 'inherit'] });
    child.once('error', reject);
    child.once('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });
}

export const podman = (...args: string[]): Result => run('podman', [...PODMAN_GLOBAL, ...args]);
export const mustPodman = (...args: string[]): string => must('podman', [...PODMAN_GLOBAL, ...args]);
