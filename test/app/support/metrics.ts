/** The value of one Prometheus series (name plus optional `{labels}` exactly as exposed), or undefined. */
export function metricValue(text: string, series: string): number | undefined {
  const escaped = series.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const match = new RegExp(`^${escaped} ([0-9.e+-]+)$`, 'm').exec(text);
  return match ? Number(match[1]) : undefined;
}

/** Polls GET /metrics (bounded) until `series` satisfies `accept`; returns the last value either way. */
export async function waitForMetric(baseUrl: string, series: string, accept: (value: number) => boolean, timeoutMs = 10_000): Promise<number | undefined> {
  const deadline = Date.now() + timeoutMs;
  let value: number | undefined;
  for (;;) {
    value = metricValue(await (await fetch(`${baseUrl}/metrics`)).text(), series);
    if (value !== undefined && accept(value)) return value;
    if (Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * Waits (bounded) until the server has read `count` requests to `route`: in flight now or already
 * answered. A request the kernel has accepted but the server has not read yet sits in the listen
 * backlog, and closing the listener on SIGTERM resets it; so a test about what happens to requests
 * in flight must not signal before they are.
 */
export async function waitUntilRead(base: string, route: string, count: number, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const text = await (await fetch(`${base}/metrics`)).text();
    const inFlight = Number(/^embedding_http_requests_in_flight (\d+)$/m.exec(text)?.[1] ?? 0) - 1; // the scrape counts itself
    const answered = [...text.matchAll(new RegExp(`^embedding_http_request_duration_seconds_count\\{[^}]*route="${route}"[^}]*\\} (\\d+)$`, 'gm'))]
      .reduce((sum, match) => sum + Number(match[1]), 0);
    if (inFlight + answered >= count) return;
    if (Date.now() > deadline) throw new Error(`the server read ${inFlight + answered} of ${count} requests in ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
