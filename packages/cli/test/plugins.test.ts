// Plugins from outside the @vpeft scope, as a third party ships them: `--plugin`, `plugins:` in a config
// file, VPEFT_PLUGINS (honoured by data-parallel workers), and discovery by the package.json keyword.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { vpeft } from './spawn-cli';

const ia3 = fileURLToPath(new URL('../../../examples/method-ia3', import.meta.url));
const coreSource = pathToFileURL(fileURLToPath(new URL('../../core/src/index.ts', import.meta.url))).href;
// IA3's defaults on vit_test_patch8_32 (2 blocks, width 32, MLP 128): k and v of qkv (2·32) and fc1's output (128) per block.
const IA3_COUNT = 2 * (2 * 32 + 128);

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vpeft-plugins-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('vpeft plugins beyond @vpeft/', () => {
  it('--plugin <path> loads examples/method-ia3; without it the method is unknown (exit 2, one line)', async () => {
    const run = await vpeft(['inspect', '--backbone', 'vit_test_patch8_32', '--classes', '3', '--plugin', ia3, '--method', 'ia3', '--json']);
    expect(run.code, run.stderr).toBe(0);
    const result = JSON.parse(run.stdout) as { installedMethods: string[]; summary: { trainableExcludingHead: number } };
    expect(result.installedMethods).toContain('ia3');
    expect(result.summary.trainableExcludingHead).toBe(IA3_COUNT);
    const missing = await vpeft(['inspect', '--backbone', 'vit_test_patch8_32', '--method', 'ia3']);
    expect(missing.code).toBe(2);
    expect(missing.stderrLines).toHaveLength(1);
    expect(missing.stderr).toMatch(/ia3/);
  });

  it('plugins: in the config file reach the data-parallel workers (vpeft train --workers 2 with IA3)', async () => {
    const config = join(dir, 'train.yaml');
    await writeFile(config, `plugins:\n  - ${ia3}\nmethod:\n  - ia3\n`);
    const run = await vpeft(['train', '--config', config, '--backbone', 'vit_test_patch8_32', '--data', 'mnist:classes=0|1', '--epochs', '1', '--batch-size', '100', '--workers', '2', '--json']);
    expect(run.code, run.stderr).toBe(0);
    const result = JSON.parse(run.stdout) as { report: { trainableExcludingHead: number; fit: { steps: number } } };
    expect(result.report.trainableExcludingHead).toBe(IA3_COUNT);
    expect(result.report.fit.steps).toBeGreaterThan(0);
  });

  it('VPEFT_PLUGINS loads plugins too; a missing one is one line, exit 2', async () => {
    const run = await vpeft(['inspect', '--backbone', 'vit_test_patch8_32', '--method', 'ia3', '--json'], { VPEFT_PLUGINS: ia3 });
    expect(run.code, run.stderr).toBe(0);
    const bad = await vpeft(['inspect', '--backbone', 'vit_test_patch8_32'], { VPEFT_PLUGINS: 'vpeft-no-such-plugin' });
    expect(bad.code).toBe(2);
    expect(bad.stderrLines).toHaveLength(1);
    expect(bad.stderr).toMatch(/VPEFT_PLUGINS vpeft-no-such-plugin: package not found/);
  });

  it('finds an installed third-party package by its "vpeft-plugin" keyword; it registers a backbone', async () => {
    const project = join(dir, 'project');
    const pkg = join(project, 'node_modules', 'vpeft-backbone-foo');
    await mkdir(pkg, { recursive: true });
    await writeFile(join(pkg, 'package.json'), JSON.stringify({ name: 'vpeft-backbone-foo', version: '1.0.0', type: 'module', main: 'index.js', keywords: ['vpeft-plugin'] }));
    await writeFile(
      join(pkg, 'index.js'),
      `import { createViT, defineBackbone, registerBackbone } from ${JSON.stringify(coreSource)};\n` +
        `registerBackbone(defineBackbone({ name: 'foo_vit', description: 'a third-party test backbone', packageName: 'vpeft-backbone-foo', load: () => createViT({ base: 'vit_test_patch8_32', embedDim: 16, numHeads: 2 }) }));\n`,
    );
    const run = await vpeft(['inspect', '--backbone', 'foo_vit', '--classes', '2', '--json'], {}, project);
    expect(run.code, run.stderr).toBe(0);
    // A linear probe on width 16: 16·2 + 2 head parameters.
    expect((JSON.parse(run.stdout) as { summary: { trainableTotal: number } }).summary.trainableTotal).toBe(16 * 2 + 2);
    const help = await vpeft(['--help'], {}, project);
    expect(help.stdout).toMatch(/foo_vit/);
  });
});
