import { defineConfig } from 'tsup';

export default defineConfig({
  entry: {
    index: 'src/index.ts',
    browser: 'src/browser.ts',
    'testing/index': 'src/testing/index.ts',
  },
  // import.meta.url in the CommonJS build (initBackend resolves optional backend packages from it).
  shims: true,
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
  external: [/^@tensorflow\//, /^@vpeft\//, 'vitest'],
});
