import zlib from 'node:zlib';
import { readMemory } from '../rss';
import type { StartedServer } from '../server-process';
import { fuzzCases } from './fuzz-cases';
import { holdConnection, parseResponse, rawRequest, type HeldConnection } from './raw-http';
import { connectionsHeldByServer, isAlive, isJson, latency, openSockets, repeat, sleep, tally, timedFetch, type LatencySummary, type Timed } from './observe';

/**
 * The four target scenarios of issue 20, each against a fresh server process. Every figure is
 * measured from outside the server (sockets, statuses, /proc), so a server that predates the
 * budgets' own metrics is measured the same way.
 */

const MiB = 1024 * 1024;
const post = (server: StartedServer, path: string, body: string | Buffer, headers: Record<string, string> = {}) =>
  timedFetch(`http://127.0.0.1:${server.port}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
const normalRequest = (server: StartedServer, i: number) => post(server, '/embed', JSON.stringify({ texts: [`normal request ${i}: the farmers market opens on Saturday`] }));
const health = (server: StartedServer) => timedFetch(`http://127.0.0.1:${server.port}/health`, {}, 10_000);
const refused = (samples: readonly Timed[]) => samples.filter((s) => s.status !== 200).length;

export interface IdleAnnouncersResult {
  readonly connections: number;
  readonly holdS: number;
  readonly normalRequests: number;
  readonly normalRefused: number;
  /** What the server answered the held connections (e.g. {"408": 8}), and when it closed them. */
  readonly answers: Record<string, number>;
  readonly closedByServer: number;
  readonly closedAfterS: readonly number[];
  /** The server's open sockets before the connections came and once the hold is over (the client still holding them). */
  readonly serverSockets: { readonly before: number; readonly atEnd: number };
  /** SIGTERM while the client still holds the connections: time to exit. */
  readonly shutdownMs: number;
  readonly peakRssMb: number;
}

/** 8 connections send headers announcing 2 MB bodies and nothing else, and keep their side open for `holdS`. */
export async function idleAnnouncers(server: StartedServer, options: { connections: number; holdS: number }): Promise<IdleAnnouncersResult> {
  const started = performance.now();
  const head = `POST /embed HTTP/1.1\r\nHost: probe\r\nContent-Type: application/json\r\nContent-Length: ${2 * MiB}\r\n\r\n`;
  const held: HeldConnection[] = [];
  const closedAt: number[] = [];
  const before = openSockets(server.pid) ?? 0;
  for (let i = 0; i < options.connections; i++) {
    const connection = await holdConnection(server.port, [head]);
    void connection.serverClosed.then(() => closedAt.push((performance.now() - started) / 1000));
    held.push(connection);
  }
  await sleep(500);
  let i = 0;
  const normal = await repeat(1500, () => performance.now() - started > options.holdS * 1000, () => normalRequest(server, i++));
  const peakRssMb = (readMemory(server.pid)?.peakKb ?? NaN) / 1024;
  const atEnd = openSockets(server.pid) ?? 0;
  const signalled = performance.now();
  process.kill(server.pid, 'SIGTERM');
  while (isAlive(server.pid) && performance.now() - signalled < 60_000) await sleep(20);
  const shutdownMs = performance.now() - signalled;
  for (const connection of held) connection.destroy();
  return {
    connections: options.connections,
    holdS: options.holdS,
    normalRequests: normal.length,
    normalRefused: refused(normal),
    answers: tally(held, (c) => parseResponse(c.received()).status ?? 'none'),
    closedByServer: closedAt.length,
    closedAfterS: closedAt.map((s) => Math.round(s * 10) / 10).sort((a, b) => a - b),
    serverSockets: { before, atEnd },
    shutdownMs: Math.round(shutdownMs),
    peakRssMb: Math.round(peakRssMb),
  };
}

export interface GzipBombsResult {
  readonly clients: number;
  readonly durationS: number;
  readonly bombBytes: number;
  readonly inflatedBytes: number;
  readonly bombs: number;
  readonly bombAnswers: Record<string, number>;
  readonly health: LatencySummary & { readonly failed: number };
  readonly normalRequests: number;
  readonly normalRefused: number;
}

/** `clients` loop on 2 KB gzip bodies that inflate to 2 MB of nested brackets, while /health is probed every 50 ms. */
export async function gzipBombs(server: StartedServer, options: { clients: number; durationS: number }): Promise<GzipBombsResult> {
  const inflated = 2 * MiB - 16;
  const bomb = zlib.gzipSync(Buffer.alloc(inflated, '['));
  const started = performance.now();
  const over = () => performance.now() - started > options.durationS * 1000;
  let n = 0;
  const [bombs, probes, normal] = await Promise.all([
    Promise.all(Array.from({ length: options.clients }, () => repeat(0, over, () => post(server, '/embed', bomb, { 'content-encoding': 'gzip' })))).then((all) => all.flat()),
    repeat(50, over, () => health(server)),
    repeat(500, over, () => normalRequest(server, n++)),
  ]);
  return {
    clients: options.clients,
    durationS: options.durationS,
    bombBytes: bomb.length,
    inflatedBytes: inflated,
    bombs: bombs.length,
    bombAnswers: tally(bombs, (s) => s.status),
    health: { ...latency(probes), failed: probes.filter((p) => p.status !== 200).length },
    normalRequests: normal.length,
    normalRefused: refused(normal),
  };
}

export interface NeverReadersResult {
  readonly clients: number;
  readonly windowS: number;
  readonly responseBytes: number;
  /** Requests sent (a client refused with 503 retries a second later), and what they got. */
  readonly requests: number;
  readonly answers: Record<string, number>;
  /** Of the 200s (never read): cut by the server, or sent whole into the kernel's buffers, as found when read at the end. */
  readonly cutByServer: number;
  readonly complete: number;
  /** Seconds from a 200's first byte until the server closed that connection, the longest (those still open count until the end). */
  readonly longestOpenS: number;
  readonly normalRequests: number;
  readonly normalRefused: number;
}

/**
 * `clients` each ask for a 16 MB response (2,048 empty strings), read its status line and then
 * nothing more; one refused (503) asks again a second later, one answered 200 keeps its connection,
 * unread, until the end of `windowS`. Which of those connections the server still holds is read
 * from /proc every 250 ms.
 */
export async function neverReaders(server: StartedServer, options: { clients: number; windowS: number }): Promise<NeverReadersResult> {
  const body = JSON.stringify({ input: Array.from({ length: 2048 }, () => ''), encoding_format: 'float' });
  const head = `POST /v1/embeddings HTTP/1.1\r\nHost: probe\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n`;
  const started = performance.now();
  const over = () => performance.now() - started > options.windowS * 1000;
  const statuses: Array<number | 'none'> = [];
  const unread: Array<{ connection: HeldConnection; answeredAt: number; closedAt?: number }> = [];

  const client = async () => {
    while (!over()) {
      const connection = await holdConnection(server.port, [head, body]);
      while (parseResponse(connection.received()).status === undefined && !over()) await Promise.race([connection.serverClosed, sleep(5)]);
      connection.pause();
      const { status } = parseResponse(connection.received());
      statuses.push(status ?? 'none');
      if (status === 200) {
        unread.push({ connection, answeredAt: performance.now() });
        return;
      }
      connection.destroy();
      await sleep(1000);
    }
  };
  let n = 0;
  const [, , normal] = await Promise.all([
    Promise.all(Array.from({ length: options.clients }, client)),
    repeat(250, over, async () => {
      const held = connectionsHeldByServer(server.pid, server.port, unread.map((u) => u.connection.localPort));
      for (const reader of unread) if (reader.closedAt === undefined && !held.has(reader.connection.localPort)) reader.closedAt = performance.now();
    }),
    repeat(1000, over, () => normalRequest(server, n++)),
  ]);
  const end = performance.now();
  const outcomes = await Promise.all(
    unread.map(async ({ connection }) => {
      connection.resume();
      await Promise.race([connection.serverClosed, sleep(10_000)]);
      const { complete, body: received } = parseResponse(connection.received());
      connection.destroy();
      return { complete, bytes: Buffer.byteLength(received) };
    }),
  );
  return {
    clients: options.clients,
    windowS: options.windowS,
    responseBytes: Math.max(0, ...outcomes.filter((o) => o.complete).map((o) => o.bytes)),
    requests: statuses.length,
    answers: tally(statuses, (status) => status),
    cutByServer: outcomes.filter((o) => !o.complete).length,
    complete: outcomes.filter((o) => o.complete).length,
    longestOpenS: Math.round(Math.max(0, ...unread.map((u) => (u.closedAt ?? end) - u.answeredAt)) / 100) / 10,
    normalRequests: normal.length,
    normalRefused: refused(normal),
  };
}

export interface HostileResult {
  readonly fuzz: {
    readonly requests: number;
    readonly halfClosed: number;
    readonly statuses: Record<string, number>;
    /** 5xx answers other than 503 overloaded, answers that are not JSON, stack traces in a body. */
    readonly other5xx: number;
    readonly nonJson: number;
    readonly stackTraces: number;
    /** Closed without an answer: the client half-closed (Node ends such a request), or not. */
    readonly unansweredHalfClosed: number;
    readonly unansweredOther: number;
    readonly examples: readonly string[];
  };
  readonly overload: {
    readonly capacityPerS: number;
    readonly offeredPerS: number;
    readonly requests: number;
    readonly statuses: Record<string, number>;
    readonly other5xx: number;
    readonly nonJson: number;
    readonly health: LatencySummary & { readonly failed: number };
  };
  readonly crashed: boolean;
  readonly healthyAfter: boolean;
}

/** A 503 that sheds load (`overloaded`: "...; retry shortly"), as opposed to any other 5xx. */
const isOverloaded = (status: number, body: string) => status === 503 && (body.includes('"code":"overloaded"') || body.includes('retry shortly'));

/** The fuzz (hostile and careless requests, some half-closed) and then 10x overload, on one server. */
export async function hostile(server: StartedServer, options: { requests: number; seed: number; halfCloseShare: number }): Promise<HostileResult> {
  const next = fuzzCases(options.seed);
  const cases = Array.from({ length: options.requests }, (_, i) => ({ ...next(i), halfClose: (i * 7919) % 100 < options.halfCloseShare * 100 }));
  const answers: Array<{ status: number | undefined; body: string; halfClose: boolean; expectsJson: boolean; description: string; contentType: string }> = [];
  let cursor = 0;
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      while (cursor < cases.length) {
        const fuzz = cases[cursor++] as (typeof cases)[number];
        const response = await rawRequest(server.port, [fuzz.bytes], 15_000, { halfClose: fuzz.halfClose });
        answers.push({ status: response.status, body: response.body, halfClose: fuzz.halfClose, expectsJson: fuzz.expectsJson, description: fuzz.description, contentType: response.headers['content-type'] ?? '' });
      }
    }),
  );
  const answered = answers.filter((a) => a.status !== undefined);
  const other5xx = answered.filter((a) => (a.status as number) >= 500 && !isOverloaded(a.status as number, a.body));
  const nonJson = answered.filter((a) => a.expectsJson && !(/application\/json/.test(a.contentType) && isJson(a.body)));
  const stackTraces = answered.filter((a) => /\bat .*\.(js|ts):\d+/.test(a.body));

  // 10x overload: capacity from two callers back to back for 3 s (24 texts a request), then 10x that, open loop, for 8 s.
  const request = JSON.stringify({ texts: Array.from({ length: 24 }, (_, j) => `text ${j}: the farmers market opens on Saturday with live music and food stalls`) });
  const calibrationEnd = performance.now() + 3000;
  const calibration = (await Promise.all([0, 1].map(() => repeat(0, () => performance.now() > calibrationEnd, () => post(server, '/embed', request))))).flat();
  const capacityPerS = calibration.filter((s) => s.status === 200).length / 3;
  const offeredPerS = Math.max(1, capacityPerS * 10);
  const loadStart = performance.now();
  const sends: Array<Promise<Timed>> = [];
  const probes = repeat(100, () => performance.now() - loadStart > 8000, () => health(server));
  for (let k = 0; k < offeredPerS * 8; k++) {
    await sleep(Math.max(0, loadStart + (k * 1000) / offeredPerS - performance.now()));
    sends.push(post(server, '/embed', request));
  }
  const [load, healthProbes] = await Promise.all([Promise.all(sends), probes]);
  const crashed = !isAlive(server.pid);
  const healthyAfter = !crashed && (await health(server)).status === 200;
  return {
    fuzz: {
      requests: answers.length,
      halfClosed: answers.filter((a) => a.halfClose).length,
      statuses: tally(answers, (a) => a.status ?? 'none'),
      other5xx: other5xx.length,
      nonJson: nonJson.length,
      stackTraces: stackTraces.length,
      unansweredHalfClosed: answers.filter((a) => a.status === undefined && a.halfClose).length,
      unansweredOther: answers.filter((a) => a.status === undefined && !a.halfClose).length,
      examples: [...other5xx, ...nonJson, ...answers.filter((a) => a.status === undefined && !a.halfClose)].slice(0, 5).map((a) => `${a.description}: ${a.status ?? 'no answer'} ${a.body.slice(0, 120)}`),
    },
    overload: {
      capacityPerS: Math.round(capacityPerS * 10) / 10,
      offeredPerS: Math.round(offeredPerS),
      requests: load.length,
      statuses: tally(load, (s) => s.status),
      other5xx: load.filter((s) => s.status >= 500 && !isOverloaded(s.status, s.body)).length,
      nonJson: load.filter((s) => !s.json).length,
      health: { ...latency(healthProbes), failed: healthProbes.filter((p) => p.status !== 200).length },
    },
    crashed,
    healthyAfter,
  };
}
