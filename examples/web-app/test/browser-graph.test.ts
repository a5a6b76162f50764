import { describe, expect, it } from 'vitest';
import { browserPackages, importEverything, nodeImportsInBrowserGraph } from './browser-graph';

describe('browser bundle', () => {
  it('core, every method package, train, pretrained, backbone-layers, datasets and the backends bundle for a browser with no Node built-in in the graph', async () => {
    const packages = browserPackages();
    expect(packages.filter((p) => p.startsWith('@vpeft/method-')).length).toBeGreaterThanOrEqual(9);
    const { imports, modules } = await nodeImportsInBrowserGraph(importEverything(packages));
    expect(modules).toBeGreaterThan(100); // the whole graph was bundled, not an empty entry
    expect(imports.map((i) => `${i.importer} imports ${i.specifier}`)).toEqual([]);
  });

  it('reports each Node built-in that reaches the graph (node: and bare), not only the first', async () => {
    const { imports } = await nodeImportsInBrowserGraph("import { join } from 'node:path';\nimport { readFileSync } from 'fs';\nconsole.log(join, readFileSync);");
    expect(imports.map((i) => i.specifier)).toEqual(['node:path', 'fs']);
  });
});
