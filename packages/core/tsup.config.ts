import { defineConfig } from 'tsup';

export default defineConfig({
  entry: {
    index: 'src/index.ts',
    'testing/index': 'src/testing/index.ts',
    // Loaded by createDataParallelTrainer as a worker_threads entry (new URL('./parallel/gradient-worker.js', import.meta.url)).
    'parallel/gradient-worker': 'src/parallel/gradient-worker.ts',
  },
  // import.meta.url in the CommonJS build (the worker entry is located from it).
  shims: true,
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
  external: [/^@tensorflow\//, /^@vpeft\//, 'vitest'],
});
