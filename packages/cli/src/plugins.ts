import { existsSync, readFileSync, statSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { listMethods } from '@vpeft/core';
import { UsageError } from './errors';

/**
 * The package.json keyword that marks a vpeft plugin (a package that registers methods, backbones or
 * adapter formats when imported). `"vpeft": { "plugin": true }` marks one too.
 */
export const PLUGIN_KEYWORD = 'vpeft-plugin';

/** Environment variable with extra plugins (comma-separated package names or paths); workers honour it too. */
export const PLUGINS_ENV = 'VPEFT_PLUGINS';

interface PackageJson {
  name?: string;
  keywords?: unknown;
  vpeft?: { plugin?: unknown };
  exports?: unknown;
  module?: string;
  main?: string;
}

/** Whether a package.json marks a vpeft plugin. */
export function isPluginPackage(pkg: PackageJson): boolean {
  return (Array.isArray(pkg.keywords) && pkg.keywords.includes(PLUGIN_KEYWORD)) || pkg.vpeft?.plugin === true;
}

const requireFromHere = createRequire(import.meta.url);

/**
 * The node_modules folders a package can be found in: the CLI's resolution path and the working
 * directory's (not pnpm's private `.pnpm` store, whose packages are not installed for the user).
 */
function nodeModulesFolders(): string[] {
  const folders = new Set<string>();
  for (const folder of requireFromHere.resolve.paths('@vpeft/core') ?? []) if (!/[\\/]\.pnpm[\\/]/.test(folder)) folders.add(folder);
  for (let dir = process.cwd(); ; dir = dirname(dir)) {
    folders.add(join(dir, 'node_modules'));
    if (dirname(dir) === dir) break;
  }
  return [...folders];
}

async function readPackageJson(dir: string): Promise<PackageJson | undefined> {
  try {
    return JSON.parse(await readFile(join(dir, 'package.json'), 'utf8')) as PackageJson;
  } catch {
    return undefined;
  }
}

/**
 * Installed plugin packages: every package in the node_modules folders the CLI and the working
 * directory see (scoped ones included) whose package.json marks it (see {@link isPluginPackage}).
 * Returns package name → its folder, first found wins.
 */
export async function findPluginPackages(): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  for (const folder of nodeModulesFolders()) {
    const entries = await readdir(folder).catch(() => [] as string[]);
    const dirs: string[] = [];
    for (const entry of entries) {
      if (entry.startsWith('.')) continue;
      if (entry.startsWith('@')) {
        for (const inner of await readdir(join(folder, entry)).catch(() => [] as string[])) dirs.push(join(folder, entry, inner));
      } else {
        dirs.push(join(folder, entry));
      }
    }
    for (const dir of dirs) {
      const pkg = await readPackageJson(dir);
      if (pkg?.name && !found.has(pkg.name) && isPluginPackage(pkg)) found.set(pkg.name, dir);
    }
  }
  return found;
}

/** The import conditions this process runs with (`--conditions X` / `-C X`), then `import`, `default`. */
function importConditions(): string[] {
  const args = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)];
  const conditions: string[] = [];
  args.forEach((arg, i) => {
    const inline = /^(?:--conditions|-C)=(.+)$/.exec(arg);
    if (inline) conditions.push(inline[1]!);
    else if ((arg === '--conditions' || arg === '-C') && args[i + 1]) conditions.push(args[i + 1]!);
  });
  return [...conditions, 'import', 'default'];
}

/** The entry file of a package folder: its `exports["."]` under this process's conditions, else `module` / `main` / `index.js`. */
function packageEntry(dir: string, pkg: PackageJson): string {
  const conditions = importConditions();
  const pick = (target: unknown): string | undefined => {
    if (typeof target === 'string') return target;
    if (!target || typeof target !== 'object' || Array.isArray(target)) return undefined;
    for (const [key, value] of Object.entries(target as Record<string, unknown>)) {
      if (key === '.' || conditions.includes(key)) {
        const chosen = pick(value);
        if (chosen) return chosen;
      }
    }
    return undefined;
  };
  const exported = pkg.exports && typeof pkg.exports === 'object' && '.' in (pkg.exports as object) ? pick((pkg.exports as Record<string, unknown>)['.']) : pick(pkg.exports);
  return join(dir, exported ?? pkg.module ?? pkg.main ?? 'index.js');
}

/** True when importing `name` failed because the package (or its entry) is not installed. */
function isNotFound(error: unknown, name: string): boolean {
  const { code, message } = error as { code?: string; message?: string };
  if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') return (message ?? '').includes(name);
  return /Failed to resolve entry for package|Cannot find package/.test(message ?? '') && (message ?? '').includes(name);
}

/**
 * Imports one plugin: a package name the CLI can resolve, a package found in a node_modules folder
 * (see {@link findPluginPackages}), or a path (to a package folder or a module file; relative to the
 * working directory).
 */
async function importPlugin(spec: string, installed: Map<string, string>, where: string): Promise<void> {
  if (isPathSpec(spec)) {
    const path = resolve(spec);
    if (!existsSync(path)) throw new UsageError(`${where} ${spec}: no such file or folder`);
    let file = path;
    if (statSync(path).isDirectory()) {
      const pkg = JSON.parse(readFileSync(join(path, 'package.json'), 'utf8')) as PackageJson;
      file = packageEntry(path, pkg);
    }
    await import(pathToFileURL(file).href);
    return;
  }
  try {
    await import(spec);
    return;
  } catch (error) {
    if (!isNotFound(error, spec)) throw error;
  }
  const dir = installed.get(spec) ?? nodeModulesFolders().map((f) => join(f, spec)).find((d) => existsSync(join(d, 'package.json')));
  if (!dir) throw new UsageError(`${where} ${spec}: package not found (install it, or give a path to its folder or module)`);
  const pkg = (await readPackageJson(dir)) ?? {};
  await import(pathToFileURL(packageEntry(dir, pkg)).href);
}

/** The plugins named in {@link PLUGINS_ENV}. */
export function pluginsFromEnv(): string[] {
  return (process.env[PLUGINS_ENV] ?? '').split(',').map((s) => s.trim()).filter(Boolean);
}

/**
 * Imports every installed vpeft plugin package (each registers its methods, backbones or adapter
 * formats on import), then the `extra` plugins (`--plugin`, `plugins:` of a config file) and those
 * in {@link PLUGINS_ENV}; returns the registered method names.
 */
export async function discoverPlugins(extra: readonly string[] = []): Promise<string[]> {
  const installed = await findPluginPackages();
  for (const [name, dir] of installed) {
    try {
      await import(name);
    } catch (error) {
      if (!isNotFound(error, name)) throw error;
      await import(pathToFileURL(packageEntry(dir, (await readPackageJson(dir)) ?? {})).href);
    }
  }
  for (const spec of extra) await importPlugin(spec, installed, '--plugin');
  for (const spec of pluginsFromEnv()) await importPlugin(spec, installed, PLUGINS_ENV);
  return listMethods();
}

/** Whether a plugin spec names a path (else a package name). */
function isPathSpec(spec: string): boolean {
  return spec.startsWith('.') || isAbsolute(spec) || existsSync(spec);
}

/**
 * Adds plugins for this run (`--plugin`, a config file's `plugins:`) to {@link PLUGINS_ENV}, paths made
 * absolute (against `base`, default the working directory), so {@link discoverPlugins} and the
 * data-parallel workers (which inherit the environment) import them. `runCli` restores the
 * variable when the command ends.
 */
export function usePlugins(specs: readonly string[], base = process.cwd()): void {
  if (specs.length === 0) return;
  const absolute = specs.map((spec) => (spec.startsWith('.') || isAbsolute(spec) || existsSync(resolve(base, spec)) ? resolve(base, spec) : spec));
  process.env[PLUGINS_ENV] = [...new Set([...pluginsFromEnv(), ...absolute])].join(',');
}

/** Takes every `--plugin X` / `--plugin=X` out of `args` (a global option of every command). */
export function takePluginOptions(args: readonly string[]): { args: string[]; plugins: string[] } {
  const rest: string[] = [];
  const plugins: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--plugin') {
      const value = args[++i];
      if (value === undefined || value.startsWith('--')) throw new UsageError('--plugin needs a package name or a path (e.g. --plugin vpeft-method-foo or --plugin ./my-plugin)');
      plugins.push(value);
    } else if (arg.startsWith('--plugin=')) {
      plugins.push(arg.slice('--plugin='.length));
    } else {
      rest.push(arg);
    }
  }
  return { args: rest, plugins };
}

/** The `plugins:` list of a config file (package names or paths, paths relative to the file), checked. */
export function pluginsFromConfig(value: unknown, file: string): void {
  if (value === undefined) return;
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string' && v.length > 0)) {
    throw new UsageError(`--config ${file}: plugins must be a list of package names or paths, got ${JSON.stringify(value)}`);
  }
  usePlugins(value as string[], dirname(resolve(file)));
}
