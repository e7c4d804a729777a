'use strict';
/**
 * Load for the overload tests, in its own process so that the test process (which probes /health
 * and reads the service's logs) is not slowed by it, and its timings are not slowed by the test.
 * Usage: node load-generator.js < plan.json, the plan one of
 *   { "url": "http://127.0.0.1:1234/embed", "mode": "closed", "concurrency": 2, "durationMs": 3000, "body": {...} }
 *   { "url": ..., "mode": "open", "rate": 100, "durationMs": 8000, "maxRequests": 2500, "body": {...} }
 *   { "url": ..., "mode": "burst", "count": 64, "body": {...} }
 * Prints one JSON line: an array of [status, ms, isJson, detail] (status 0: the connection failed;
 * detail: the error body's `detail` when it is a string).
 */
const http = require('node:http');

const config = JSON.parse(require('node:fs').readFileSync(0, 'utf8'));
const body = Buffer.from(JSON.stringify(config.body));
// node:http on keep-alive sockets: less work per request than fetch, so the timings are the server's.
const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });

function timed() {
  const started = performance.now();
  return new Promise((resolve) => {
    const request = http.request(config.url, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': body.length } }, (response) => {
      const chunks = [];
      response.on('data', (chunk) => chunks.push(chunk));
      response.on('end', () => {
        let json = true;
        let detail = '';
        try {
          const parsed = JSON.parse(Buffer.concat(chunks).toString('utf8'));
          if (typeof parsed?.detail === 'string') detail = parsed.detail;
        } catch {
          json = false;
        }
        resolve([response.statusCode, performance.now() - started, json, detail]);
      });
      response.on('error', () => resolve([0, performance.now() - started, false, '']));
    });
    request.on('error', () => resolve([0, performance.now() - started, false, '']));
    request.end(body);
  });
}

/** A request every 1/rate seconds whatever the answers (a closed loop would slow down with the server). */
async function openLoop() {
  const pending = [];
  const started = performance.now();
  for (let i = 0; i < config.maxRequests; i++) {
    const due = started + (i * 1000) / config.rate;
    if (due - started > config.durationMs) break;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
    pending.push(timed());
  }
  return Promise.all(pending);
}

async function closedLoop() {
  const samples = [];
  const deadline = performance.now() + config.durationMs;
  await Promise.all(
    Array.from({ length: config.concurrency }, async () => {
      while (performance.now() < deadline) samples.push(await timed());
    }),
  );
  return samples;
}

const burst = () => Promise.all(Array.from({ length: config.count }, timed));

const run = { open: openLoop, closed: closedLoop, burst }[config.mode];
run().then((samples) => {
  agent.destroy();
  process.stdout.write(`${JSON.stringify(samples)}\n`);
});
