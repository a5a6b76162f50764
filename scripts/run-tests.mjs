// Runs the whole vitest suite and closes with one line, "tests: N passed, N failed, N skipped".
// Exits non-zero when vitest fails or when no test ran.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const report = '.vitest-report.json';
rmSync(report, { force: true });
// Feature-cache rows written by the tests go to a fresh folder, removed afterwards (not ~/.cache/vpeft).
const cacheDir = mkdtempSync(join(tmpdir(), 'vpeft-test-features-'));
const run = spawnSync('vitest', ['run', '--reporter=default', '--reporter=json', `--outputFile=${report}`, ...process.argv.slice(2)], {
  stdio: 'inherit',
  shell: process.platform === 'win32',
  env: { ...process.env, VPEFT_CACHE_DIR: cacheDir },
});
rmSync(cacheDir, { recursive: true, force: true });
if (!existsSync(report)) {
  console.log('tests: 0 passed, 1 failed (vitest wrote no report)');
  process.exit(run.status || 1);
}
const json = JSON.parse(readFileSync(report, 'utf8'));
const passed = json.numPassedTests ?? 0;
const failed = (json.numFailedTests ?? 0) + (json.numFailedTestSuites ?? 0);
const skipped = (json.numPendingTests ?? 0) + (json.numTodoTests ?? 0);
console.log(`tests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(run.status !== 0 || failed > 0 || passed === 0 ? 1 : 0);
