import type { Options } from 'tsup';

/**
 * The build every single-entry vpeft package shares: ESM + CJS + declarations from `src/index.ts`,
 * tfjs and other vpeft packages left external (peers share one instance).
 */
export const packageBuild: Options = {
  entry: { index: 'src/index.ts' },
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
  external: [/^@tensorflow\//, /^@vpeft\//],
};
