import { readdirSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, defaultClientConditions, type Plugin } from 'vite';

const APP = join(dirname(fileURLToPath(import.meta.url)), '..');
const ROOT = join(APP, '../..');

/**
 * The packages that must bundle for a browser: core, every method package (found on disk, so a new
 * one is covered without editing this list), the trainer, the pre-trained backbones (the ViT, the
 * LayersModel backbone with the MobileNetV2 loader), the datasets' transforms and the two backend
 * packages the web app uses.
 */
export function browserPackages(): string[] {
  const methods = readdirSync(join(ROOT, 'packages'))
    .filter((name) => name.startsWith('method-'))
    .map((name) => `@vpeft/${name}`);
  return ['@vpeft/core', ...methods, '@vpeft/train', '@vpeft/pretrained', '@vpeft/backbone-layers', '@vpeft/datasets', '@vpeft/backend-wasm', '@vpeft/backend-webgpu'];
}

/** An entry that imports every export of each package (so nothing is tree-shaken away unchecked). */
export function importEverything(packages: readonly string[]): string {
  return packages.map((p, i) => `import * as m${i} from '${p}';\nconsole.log(m${i});`).join('\n');
}

/** One Node built-in module import found in the browser graph. */
export interface NodeImport {
  /** The specifier as written (`node:fs/promises`, `fs`). */
  specifier: string;
  /** The importing file, relative to the repository root. */
  importer: string;
}

const BUILTINS = new Set(builtinModules);
const STUB = '\0node-builtin:';
const isOwnFile = (file: string) => !file.includes('/node_modules/');

/**
 * Bundles `entrySource` for the browser (Vite, the `browser` export condition plus
 * the repository's `@vpeft/source`) and returns every Node built-in that reached the graph: any
 * `node:` specifier, and any bare built-in (`fs`) imported by a vpeft file. (Third-party packages
 * that name a built-in and map it away in their `browser` field, as tfjs does, are left to that field.)
 */
export async function nodeImportsInBrowserGraph(entrySource: string): Promise<{ imports: NodeImport[]; modules: number }> {
  const entryId = '\0browser-graph-entry';
  const imports: NodeImport[] = [];
  let modules = 0;
  const probe: Plugin = {
    name: 'browser-graph-probe',
    enforce: 'pre',
    resolveId(source, importer) {
      if (source === 'browser-graph-entry') return entryId;
      if (!importer) return null;
      const bare = source.replace(/^node:/, '').split('/')[0]!;
      if (source.startsWith('node:') || (BUILTINS.has(bare) && isOwnFile(importer))) {
        imports.push({ specifier: source, importer: relative(ROOT, importer) });
        // A stub, so that the build goes on and every such import is reported, not just the first.
        return { id: `${STUB}${source}`, syntheticNamedExports: true };
      }
      return null;
    },
    load(id) {
      if (id.startsWith(STUB)) return 'export default {};';
      return id === entryId ? entrySource : null;
    },
    generateBundle() {
      modules = [...this.getModuleIds()].length;
    },
  };
  await build({
    configFile: false,
    root: APP,
    logLevel: 'silent',
    resolve: { conditions: ['@vpeft/source', ...defaultClientConditions] },
    plugins: [probe],
    build: { write: false, minify: false, reportCompressedSize: false, rollupOptions: { input: 'browser-graph-entry' } },
  });
  return { imports, modules };
}
