import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { REPO_ROOT } from '../app/support/paths';

/**
 * The npm scripts compile only what changed: each one that runs compiled code first runs `tsc -b` on
 * a project that compiles that code (tsc -b skips a project whose build info is newer than its
 * sources), never a full `tsc -p` build or a nested `npm run build`.
 */
const scripts = (JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;

function project(configFile: string): ts.ParsedCommandLine {
  const absolute = path.join(REPO_ROOT, configFile);
  const read = ts.readConfigFile(absolute, (file) => ts.sys.readFile(file));
  return ts.parseJsonConfigFileContent(read.config, ts.sys, path.dirname(absolute), undefined, absolute);
}

/** The source files a `tsc -b <config>` compiles: the project's and those of the projects it references. */
function compiledBy(configFile: string): Set<string> {
  const parsed = project(configFile);
  const referenced = (parsed.projectReferences ?? []).flatMap((ref) => [...compiledBy(path.relative(REPO_ROOT, ts.resolveProjectReferencePath(ref)))]);
  return new Set([...parsed.fileNames.map((file) => path.relative(REPO_ROOT, file)), ...referenced]);
}

describe('the build', () => {
  it('each project keeps its build info in dist/, so that removing dist/ builds everything again', () => {
    for (const config of ['tsconfig.app.json', 'tsconfig.tools.json']) {
      const { options } = project(config);
      expect({ config, composite: options.composite, buildInfo: path.relative(REPO_ROOT, options.tsBuildInfoFile ?? '') }).toEqual({
        config,
        composite: true,
        buildInfo: `dist/${config.replace(/^tsconfig\.(\w+)\.json$/, '$1')}.tsbuildinfo`,
      });
    }
    expect([...compiledBy('tsconfig.app.json')].every((file) => file.startsWith('app/'))).toBe(true);
  });

  it.each(Object.entries(scripts).filter(([, command]) => /\bnode dist\//.test(command)))(
    '%s builds with tsc -b, a project that compiles what it runs',
    (name, command) => {
      const pre = scripts[`pre${name}`];
      const full = pre === undefined ? command : `${pre} && ${command}`;
      expect(full).not.toMatch(/npm run build|tsc -p|tsc --project/);
      const build = /^tsc -b(?: (\S+\.json))? && /.exec(full);
      expect(build).not.toBeNull();
      const compiled = compiledBy(build?.[1] ?? 'tsconfig.json');
      for (const [, script] of full.matchAll(/\bnode dist\/(\S+)\.js/g)) expect(compiled).toContain(`${script}.ts`);
    },
  );

  it('start and the Dockerfile build the app alone; prepack builds everything the package ships', () => {
    expect(scripts.prestart).toBe('tsc -b tsconfig.app.json');
    expect(scripts['build:app']).toBe('tsc -b tsconfig.app.json');
    expect(scripts.prepack).toBe('tsc -b');
  });
});
