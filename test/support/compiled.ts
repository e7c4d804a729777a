import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { REPO_ROOT } from '../../scripts/repo-paths';

/**
 * The service, the benchmark and the tools as JavaScript, for the tests. Worker threads and child
 * processes cannot load TypeScript, and the tests run what production runs: jest's resolver
 * (resolve-compiled.js) hands every test the compiled module instead of its source.
 *
 * Built by jest's global setup with the TypeScript compiler's transpile-only mode, file by file and
 * only where the source changed: no type checking (`npm test` type-checks the whole project first,
 * `tsc -p tsconfig.test.json`), so no full `tsc` build stands before the first test.
 * `isolatedModules` in tsconfig.base.json guarantees that this output is what `tsc` would emit.
 */
export const TEST_BUILD_DIR = path.join(REPO_ROOT, '.cache', 'test-build');

/** The service's entry point, as `node` runs it in production. */
export const COMPILED_MAIN = path.join(TEST_BUILD_DIR, 'app', 'main.js');

/** Transpiles what tsconfig.json's projects compile into TEST_BUILD_DIR; returns how many files it wrote. */
export function buildForTests(): number {
  const { fileNames, options } = buildInputs();
  const compilerOptions: ts.CompilerOptions = { ...options, sourceMap: false, inlineSourceMap: false, declaration: false, composite: false, incremental: false, noEmit: false };

  // Compiler options or compiler changed: everything is built again.
  const stampFile = path.join(TEST_BUILD_DIR, '.stamp.json');
  const stamp = JSON.stringify({ typescript: ts.version, compilerOptions });
  const fresh = fs.existsSync(stampFile) && fs.readFileSync(stampFile, 'utf8') === stamp;

  const outputs = new Set<string>();
  let written = 0;
  for (const source of withLocalImports(fileNames)) {
    const output = path.join(TEST_BUILD_DIR, path.relative(REPO_ROOT, source)).replace(/\.ts$/, '.js');
    outputs.add(output);
    if (fresh && fs.existsSync(output) && fs.statSync(output).mtimeMs >= fs.statSync(source).mtimeMs) continue;
    const { outputText } = ts.transpileModule(fs.readFileSync(source, 'utf8'), { compilerOptions, fileName: source, reportDiagnostics: false });
    fs.mkdirSync(path.dirname(output), { recursive: true });
    fs.writeFileSync(output, outputText);
    written++;
  }
  removeStale(TEST_BUILD_DIR, outputs);
  fs.writeFileSync(stampFile, stamp);
  return written;
}

function parseConfig(configFile: string): ts.ParsedCommandLine {
  const read = ts.readConfigFile(configFile, (file) => ts.sys.readFile(file));
  if (read.error) throw new Error(ts.flattenDiagnosticMessageText(read.error.messageText, '\n'));
  return ts.parseJsonConfigFileContent(read.config, ts.sys, path.dirname(configFile), undefined, configFile);
}

/**
 * The sources of the projects tsconfig.json references (the service, then the tools) and their
 * compiler options: every project extends tsconfig.base.json, so they share what shapes the output.
 */
function buildInputs(): { fileNames: string[]; options: ts.CompilerOptions } {
  const projects = (parseConfig(path.join(REPO_ROOT, 'tsconfig.json')).projectReferences ?? []).map((reference) =>
    parseConfig(ts.resolveProjectReferencePath(reference)),
  );
  const [first] = projects;
  if (!first) throw new Error('tsconfig.json references no project');
  return { fileNames: projects.flatMap((project) => project.fileNames), options: first.options };
}

/**
 * The files and every repository file they import, as `tsc` emits them (the benchmark imports
 * infra/'s pure helpers): relative imports read with the compiler's pre-processor, no type checking.
 */
function withLocalImports(roots: readonly string[]): string[] {
  const files = new Set(roots);
  for (const file of files) {
    for (const { fileName } of ts.preProcessFile(fs.readFileSync(file, 'utf8')).importedFiles) {
      if (!fileName.startsWith('.')) continue;
      const base = path.resolve(path.dirname(file), fileName);
      const found = [`${base}.ts`, path.join(base, 'index.ts')].find((candidate) => fs.existsSync(candidate));
      if (found) files.add(found);
    }
  }
  return [...files];
}

/** Compiled files whose source is gone, so a stale module can never stand in for a deleted one. */
function removeStale(dir: string, keep: ReadonlySet<string>): void {
  if (!fs.existsSync(dir)) return;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) removeStale(file, keep);
    else if (file.endsWith('.js') && !keep.has(file)) fs.rmSync(file);
  }
}
