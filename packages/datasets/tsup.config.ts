import { defineConfig } from 'tsup';

export default defineConfig({
  entry: { index: 'src/index.ts', browser: 'src/browser.ts' },
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
  // `import.meta.url` (used to find the optional mnist / emoji packages) needs a shim in the CJS build.
  shims: true,
  external: [/^@tensorflow\//, 'sharp', 'mnist', /^emoji-datasource-/],
});
