import { defineConfig } from 'tsup';
import { packageBuild } from '../../tsup.package';

export default defineConfig({
  ...packageBuild,
  entry: {
    ...(packageBuild.entry as Record<string, string>),
    browser: 'src/browser.ts',
    // Loaded by createDataParallelTrainer as a worker_threads entry (new URL('./parallel/gradient-worker.js', import.meta.url)).
    'parallel/gradient-worker': 'src/parallel/gradient-worker.ts',
  },
  // import.meta.url in the CommonJS build (the worker entry is located from it).
  shims: true,
});
