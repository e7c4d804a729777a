import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * `npm run test:repeat -- N`: the whole jest suite N times in a row while another process keeps one
 * core busy, then every test that failed, by name, with how often. A flaky test shows up here
 * before it blocks a landing. Exit code 1 if any run failed.
 */

interface JestAssertion {
  readonly fullName: string;
  readonly status: string;
}
interface JestReport {
  readonly numFailedTests: number;
  readonly numPassedTests: number;
  readonly testResults: ReadonlyArray<{ readonly name: string; readonly message: string; readonly assertionResults: readonly JestAssertion[] }>;
}

const repoRoot = path.resolve(__dirname, '..', '..');
const runs = Number(process.argv[2] ?? 10);
if (!Number.isInteger(runs) || runs < 1) {
  process.stderr.write('usage: npm run test:repeat -- <runs>\n');
  process.exit(2);
}

const typecheck = spawnSync('npm', ['run', 'typecheck', '--silent'], { cwd: repoRoot, stdio: 'inherit' });
if (typecheck.status !== 0) process.exit(typecheck.status ?? 1);

// One core kept busy for the whole series, as on a shared CI machine.
const burner = spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' });
const stopBurner = () => burner.kill('SIGKILL');
process.on('exit', stopBurner);

const failures = new Map<string, number>();
const outcomes: string[] = [];
const jest = require.resolve('jest/bin/jest', { paths: [repoRoot] });
const reportFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'test-repeat-')), 'report.json');

for (let run = 1; run <= runs; run++) {
  const started = Date.now();
  spawnSync(process.execPath, [jest, '--json', `--outputFile=${reportFile}`], { cwd: repoRoot, stdio: ['ignore', 'ignore', 'ignore'] });
  const seconds = Math.round((Date.now() - started) / 1000);
  let report: JestReport;
  try {
    report = JSON.parse(fs.readFileSync(reportFile, 'utf8')) as JestReport;
  } catch {
    outcomes.push(`run ${run}: jest wrote no report (${seconds} s)`);
    failures.set('(jest did not report)', (failures.get('(jest did not report)') ?? 0) + 1);
    process.stdout.write(`${outcomes.at(-1)}\n`);
    continue;
  }
  const failed: string[] = [];
  for (const file of report.testResults) {
    const relative = path.relative(repoRoot, file.name);
    const failedTests = file.assertionResults.filter((a) => a.status === 'failed');
    // A suite that fails to load has a message and no failed assertion.
    if (failedTests.length === 0 && file.message) failed.push(`${relative}: (suite failed to run)`);
    for (const test of failedTests) failed.push(`${relative}: ${test.fullName}`);
  }
  for (const name of failed) failures.set(name, (failures.get(name) ?? 0) + 1);
  // A failed run's report stays, with Jest's messages, for reading afterwards.
  const kept = failed.length > 0 ? reportFile.replace(/\.json$/, `-run-${run}.json`) : undefined;
  if (kept) fs.renameSync(reportFile, kept);
  else fs.rmSync(reportFile);
  outcomes.push(`run ${run}: ${report.numPassedTests} passed, ${report.numFailedTests} failed (${seconds} s)${failed.map((name) => `\n  ✕ ${name}`).join('')}${kept ? `\n  messages: ${kept}` : ''}`);
  process.stdout.write(`${outcomes.at(-1)}\n`);
}
stopBurner();

const failedRuns = outcomes.filter((line) => !/ 0 failed /.test(line)).length;
process.stdout.write(`\n${runs} runs with one core kept busy: ${runs - failedRuns} passed, ${failedRuns} failed\n`);
for (const [name, count] of [...failures].sort((a, b) => b[1] - a[1])) process.stdout.write(`  ${count}/${runs}  ${name}\n`);
process.exit(failedRuns === 0 ? 0 : 1);
