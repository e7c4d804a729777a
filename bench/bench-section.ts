import fs from 'node:fs/promises';

/** The markers around the full run's tables and around the mixed traffic's (recorded by runs of their own). */
export const BENCH_MARKERS = { start: '<!-- bench:start -->', end: '<!-- bench:end -->' } as const;
export const MIXED_MARKERS = { start: '<!-- bench-mixed:start -->', end: '<!-- bench-mixed:end -->' } as const;

/** Replaces the text between a pair of markers of a markdown page (docs/performance.md) with `content`. */
export async function replaceBenchSection(pagePath: string, content: string, markers: { readonly start: string; readonly end: string } = BENCH_MARKERS): Promise<void> {
  const { start: START, end: END } = markers;
  const page = await fs.readFile(pagePath, 'utf8');
  const start = page.indexOf(START);
  const end = page.indexOf(END);
  if (start === -1 || end < start) throw new Error(`${pagePath} has no ${START} … ${END} markers`);
  await fs.writeFile(pagePath, `${page.slice(0, start)}${START}\n${content.trim()}\n${page.slice(end)}`);
}
