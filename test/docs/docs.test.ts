import fs from 'node:fs';
import path from 'node:path';
import type { ErrorKind } from '../../app/errors';
import { LOG_LEVEL_BY_KIND, STATUS_BY_KIND } from '../../app/http/error-response';
import { smallModelDir } from '../app/support/models';
import { REPO_ROOT } from '../app/support/paths';
import { startTestServer } from '../app/support/server';

/**
 * The docs stay true to the code: the README stays short, every link to a page and section of the
 * docs resolves, every status and log level they state is the one app/http/error-response.ts gives,
 * and every metric they name is one a running server exposes.
 */

const read = (file: string) => fs.readFileSync(path.join(REPO_ROOT, file), 'utf8');

/** The repository's own text files (not dependencies, builds or caches). */
function repositoryFiles(dir = REPO_ROOT): string[] {
  const skipped = new Set(['node_modules', 'dist', '.cache', '.git', 'coverage', 'fixtures', 'results']);
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) return skipped.has(entry.name) ? [] : repositoryFiles(file);
    return /\.(md|ts|js|py|sh|ya?ml)$|^Dockerfile$/.test(entry.name) ? [path.relative(REPO_ROOT, file)] : [];
  });
}

const MARKDOWN = ['README.md', ...fs.readdirSync(path.join(REPO_ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];

/** A markdown file's text without its fenced code blocks. */
const prose = (text: string) => text.replace(/^```[\s\S]*?^```/gm, '');

/** GitHub's anchors of a markdown file's headings (lower case, punctuation dropped, spaces to hyphens, -1 for a repeat). */
function anchorsOf(file: string): Set<string> {
  const anchors = new Set<string>();
  for (const [, heading] of prose(read(file)).matchAll(/^#{1,6} (.+)$/gm)) {
    const base = (heading as string).trim().toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-');
    let anchor = base;
    for (let n = 1; anchors.has(anchor); n++) anchor = `${base}-${n}`;
    anchors.add(anchor);
  }
  return anchors;
}

const headingsOf = (file: string) => new Set([...prose(read(file)).matchAll(/^#{1,6} (.+)$/gm)].map(([, heading]) => (heading as string).trim()));

describe('the docs', () => {
  it('README.md is at most 10 KB', () => {
    expect(fs.statSync(path.join(REPO_ROOT, 'README.md')).size).toBeLessThanOrEqual(10_000);
  });

  it('every link to a page of the docs, and to a section of one, resolves (markdown links, and references in code and config)', () => {
    const broken: string[] = [];
    let checked = 0;
    const check = (from: string, target: string, anchor: string | undefined) => {
      checked++;
      if (!fs.existsSync(path.join(REPO_ROOT, target))) broken.push(`${from}: ${target} does not exist`);
      else if (anchor !== undefined && !anchorsOf(target).has(anchor)) broken.push(`${from}: ${target} has no section #${anchor}`);
    };
    for (const file of repositoryFiles()) {
      const text = read(file);
      if (file.endsWith('.md')) {
        for (const [, link] of prose(text).matchAll(/\]\(([^)\s]+)\)/g)) {
          const [target, anchor] = (link as string).split('#') as [string, string | undefined];
          if (/^[a-z]+:/.test(target) || (target !== '' && !target.endsWith('.md'))) continue;
          check(file, target === '' ? file : path.normalize(path.join(path.dirname(file), target)), anchor);
        }
      } else {
        for (const [, target, anchor] of text.matchAll(/\b((?:docs\/)?[\w-]+\.md)#([\w-]+)/g)) {
          check(file, (target as string).startsWith('docs/') || target === 'README.md' ? (target as string) : `docs/${target}`, anchor);
        }
      }
      // A section named in words: docs/deploy.md, "Scale-out".
      for (const [, target, heading] of text.matchAll(/\b(docs\/[\w-]+\.md),? "([^"]+)"/g)) {
        checked++;
        if (!headingsOf(target as string).has(heading as string)) broken.push(`${file}: ${target} has no section "${heading}"`);
      }
    }
    expect(broken).toEqual([]);
    expect(checked).toBeGreaterThan(50);
  });

  it('the errors table of docs/api.md gives every error kind its status and log level from the code', () => {
    const rows = new Map([...read('docs/api.md').matchAll(/^\| (\d{3}) \| `([a-z_]+)` \|.*\| (\w+) \|$/gm)].map(([, status, kind, level]) => [kind, { status: Number(status), level }]));
    const fromCode = Object.fromEntries(Object.entries(STATUS_BY_KIND).map(([kind, status]) => [kind, { status, level: LOG_LEVEL_BY_KIND[kind as ErrorKind] }]));
    expect(Object.fromEntries(rows)).toEqual(fromCode);
  });

  it('every status the docs pair with a log level or an error kind is paired as the code pairs them', () => {
    const levelsByStatus = new Map<number, Set<string>>([[200, new Set(['info'])]]);
    for (const [kind, status] of Object.entries(STATUS_BY_KIND)) {
      levelsByStatus.set(status, (levelsByStatus.get(status) ?? new Set()).add(LOG_LEVEL_BY_KIND[kind as ErrorKind]));
    }
    const wrong: string[] = [];
    let checked = 0;
    for (const file of MARKDOWN) {
      const text = prose(read(file));
      // "a 503 is logged at `warn`", "status 503 (level `warn`)", "status 499 at `info`"
      for (const [statement, status, level] of text.matchAll(/\b([1-5]\d\d)\b[^.\n|]{0,40}?(?:\(level|logged at|\bat) `(error|warn|info|debug)`/g)) {
        checked++;
        if (!levelsByStatus.get(Number(status))?.has(level as string)) wrong.push(`${file}: "${statement.replace(/\s+/g, ' ')}"`);
      }
      // "503 `overloaded`", "422 `validation`"
      for (const [statement, status, kind] of text.matchAll(/\b([1-5]\d\d) `([a-z_]+)`/g)) {
        if (!(kind as string in STATUS_BY_KIND)) continue;
        checked++;
        if (STATUS_BY_KIND[kind as ErrorKind] !== Number(status)) wrong.push(`${file}: "${statement}"`);
      }
    }
    expect(wrong).toEqual([]);
    expect(checked).toBeGreaterThan(10);
  });

  it('every metric the docs name is a series a running server exposes', async () => {
    const server = await startTestServer({ EMBEDDING_MODEL_DIR: await smallModelDir() });
    let families: string[];
    try {
      families = [...(await (await fetch(`${server.url}/metrics`)).text()).matchAll(/^# TYPE (\S+) /gm)].map(([, name]) => name as string);
    } finally {
      await server.stop();
    }
    const named = MARKDOWN.flatMap((file) => [...read(file).matchAll(/`(embedding_[a-z0-9_]+\*?)`/g)].map(([, name]) => ({ file, name: name as string })));
    const unknown = named.filter(({ name }) =>
      name.endsWith('*') ? !families.some((family) => family.startsWith(name.slice(0, -1))) : !families.includes(name.replace(/_(bucket|sum|count)$/, '')),
    );
    expect(unknown).toEqual([]);
    expect(named.length).toBeGreaterThan(20);
  });
});
