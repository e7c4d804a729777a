import fs from 'node:fs/promises';

const START = '<!-- bench:start -->';
const END = '<!-- bench:end -->';

/**
 * Replaces the text between the bench markers in README.md with `content`. When the README has no
 * markers yet, appends a "Benchmark" section that holds them.
 */
export async function updateReadme(readmePath: string, content: string): Promise<'replaced' | 'appended'> {
  const readme = await fs.readFile(readmePath, 'utf8');
  const block = `${START}\n${content.trim()}\n${END}`;
  const start = readme.indexOf(START);
  const end = readme.indexOf(END);
  if (start !== -1 && end > start) {
    await fs.writeFile(readmePath, readme.slice(0, start) + block + readme.slice(end + END.length));
    return 'replaced';
  }
  const section = `\n## Benchmark\n\n\`npm run bench\` measures this service against a typical Express + transformers.js server and the in-process limit; see [docs/benchmark.md](docs/benchmark.md).\n\n${block}\n`;
  await fs.writeFile(readmePath, readme.replace(/\n*$/, '\n') + section);
  return 'appended';
}
