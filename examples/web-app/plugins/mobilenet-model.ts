import type { Plugin } from 'vite';
// A relative import of the package's source: Node loads this config-side file with the workspace
// packages resolving to builds (`dist/`), which a checkout does not have; this file needs only Node
// built-ins, so it runs as it is.
import { nsfwjsMobileNetV2Dir, readNsfwjsMobileNetV2, tfjsModelFiles } from '../../../packages/backbone-layers/src/nsfwjs-files';

const MODULE = 'virtual:mobilenet-v2-model';
/** Where the files are: in the build output, and under the dev server. */
const FOLDER = 'models/mobilenet_v2';

/**
 * The nsfwjs MobileNetV2 as static files of the app — `model.json` and its weight shard, read from the
 * installed `nsfwjs` package — and a module `virtual:mobilenet-v2-model` exporting the URL of the
 * `model.json` (same origin, so the page fetches nothing from elsewhere). `vite build` emits them as
 * assets; `vite dev` serves them.
 */
export function mobileNetV2Model(): Plugin {
  let files: Promise<Record<string, Uint8Array>> | undefined;
  let serving = false;
  const read = () =>
    (files ??= (async () => {
      const dir = nsfwjsMobileNetV2Dir();
      if (!dir) throw new Error('the MobileNetV2 backbone ships in the npm package nsfwjs@4; install it (npm i -D nsfwjs@4.4.0)');
      return tfjsModelFiles(await readNsfwjsMobileNetV2(dir));
    })());
  return {
    name: 'vpeft-mobilenet-v2-model',
    configResolved(config) {
      serving = config.command === 'serve';
    },
    configureServer(server) {
      server.middlewares.use(`/${FOLDER}/`, (request, response, next) => {
        void read().then((all) => {
          const bytes = all[(request.url ?? '').replace(/^\//, '').split('?')[0]!];
          if (!bytes) return next();
          response.setHeader('Content-Type', request.url?.endsWith('.json') ? 'application/json' : 'application/octet-stream');
          response.end(bytes);
        }, next);
      });
    },
    resolveId: (id) => (id === MODULE ? `\0${MODULE}` : null),
    async load(id) {
      if (id !== `\0${MODULE}`) return null;
      const all = await read();
      if (serving) return `export default new URL('/${FOLDER}/model.json', location.href).href;`;
      let modelJson = '';
      for (const [name, source] of Object.entries(all)) {
        const ref = this.emitFile({ type: 'asset', fileName: `${FOLDER}/${name}`, source });
        if (name === 'model.json') modelJson = ref;
      }
      return `export default new URL(import.meta.ROLLUP_FILE_URL_${modelJson}, location.href).href;`;
    },
  };
}
