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
