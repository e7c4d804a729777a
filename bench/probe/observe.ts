import fs from 'node:fs';
import { quantile } from '../load';

/** What the probe watches from outside the server: its sockets, whether it lives, and timed requests. */

/** TCP and Unix sockets the process holds open (its /proc/<pid>/fd entries that are sockets), or undefined once it has gone. */
export function openSockets(pid: number): number | undefined {
  try {
    return fs.readdirSync(`/proc/${pid}/fd`).filter((fd) => {
      try {
        return fs.readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith('socket:');
      } catch {
        return false;
      }
    }).length;
  } catch {
    return undefined;
  }
}

export const isAlive = (pid: number): boolean => fs.existsSync(`/proc/${pid}`);

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export interface Timed {
  readonly status: number;
  readonly ms: number;
  /** The body parsed as JSON (or was empty for a HEAD/204). */
  readonly json: boolean;
  readonly body: string;
}

/** One request, timed; a failed connection is status 0. */
export async function timedFetch(url: string, init: RequestInit = {}, timeoutMs = 30_000): Promise<Timed> {
  const started = performance.now();
  try {
    const response = await fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
    const body = await response.text();
    return { status: response.status, ms: performance.now() - started, json: isJson(body), body };
  } catch {
    return { status: 0, ms: performance.now() - started, json: false, body: '' };
  }
}

export function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/** Calls `send` every `everyMs` (one at a time) until `until()` is true. */
export async function repeat<T>(everyMs: number, until: () => boolean, send: () => Promise<T>): Promise<T[]> {
  const results: T[] = [];
  while (!until()) {
    const started = performance.now();
    results.push(await send());
    await sleep(Math.max(0, everyMs - (performance.now() - started)));
  }
  return results;
}

export interface LatencySummary {
  readonly count: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

export function latency(samples: readonly Timed[]): LatencySummary {
  const ms = samples.map((s) => s.ms).sort((a, b) => a - b);
  const round = (value: number) => Math.round(value * 10) / 10;
  return { count: ms.length, p50Ms: round(quantile(ms, 0.5)), p99Ms: round(quantile(ms, 0.99)), maxMs: round(ms[ms.length - 1] ?? NaN) };
}

/** Counts by key, e.g. statuses. */
export function tally<T>(items: readonly T[], key: (item: T) => string | number): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const item of items) counts[String(key(item))] = (counts[String(key(item))] ?? 0) + 1;
  return counts;
}

/** Inodes of the sockets the process holds open. */
function socketInodes(pid: number): Set<string> {
  const inodes = new Set<string>();
  try {
    for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
      try {
        const match = /^socket:\[(\d+)\]$/.exec(fs.readlinkSync(`/proc/${pid}/fd/${fd}`));
        if (match) inodes.add(match[1] as string);
      } catch {
        // closed meanwhile
      }
    }
  } catch {
    // the process has gone
  }
  return inodes;
}

/**
 * Of the given client ports, those whose connection to `serverPort` the server process still holds
 * open (a TCP socket in /proc/net/tcp from its port to that client port, whose inode is one of its
 * descriptors). A connection the server has closed drops out even while its client keeps its side.
 */
export function connectionsHeldByServer(pid: number, serverPort: number, clientPorts: readonly number[]): Set<number> {
  const inodes = socketInodes(pid);
  const wanted = new Set(clientPorts);
  const held = new Set<number>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = fs.readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      const [local, remote, inode] = [fields[1], fields[2], fields[9]];
      if (!local || !remote || !inode) continue;
      const localPort = parseInt(local.split(':')[1] ?? '', 16);
      const remotePort = parseInt(remote.split(':')[1] ?? '', 16);
      if (localPort === serverPort && wanted.has(remotePort) && inodes.has(inode)) held.add(remotePort);
    }
  }
  return held;
}
