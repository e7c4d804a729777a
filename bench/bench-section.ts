import fs from 'node:fs/promises';

const START = '<!-- bench:start -->';
const END = '<!-- bench:end -->';

/** Replaces the text between the bench markers of a markdown page (docs/performance.md) with `content`. */
export async function replaceBenchSection(pagePath: string, content: string): Promise<void> {
  const page = await fs.readFile(pagePath, 'utf8');
  const start = page.indexOf(START);
  const end = page.indexOf(END);
  if (start === -1 || end < start) throw new Error(`${pagePath} has no ${START} … ${END} markers`);
  await fs.writeFile(pagePath, `${page.slice(0, start)}${START}\n${content.trim()}\n${page.slice(end)}`);
}
