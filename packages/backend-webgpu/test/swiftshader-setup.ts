import { existsSync } from 'node:fs';

/**
 * Points Dawn's Vulkan loader at the SwiftShader driver that Debian's `chromium` package ships (in
 * `chromium-common`): a CPU implementation of Vulkan, so the webgpu backend can be tested on machines
 * without a GPU. `.ci/run` installs chromium when missing; without it these tests fail, never skip.
 */
const CANDIDATES = ['/usr/lib/chromium/vk_swiftshader_icd.json', '/usr/lib/chromium-browser/vk_swiftshader_icd.json'];
const icd = process.env.VPEFT_SWIFTSHADER_ICD ?? CANDIDATES.find((path) => existsSync(path));
if (!icd) {
  throw new Error(`no SwiftShader Vulkan driver: looked for ${CANDIDATES.join(', ')}; install Debian's chromium (apt-get install chromium) or set VPEFT_SWIFTSHADER_ICD`);
}
process.env.VK_ICD_FILENAMES = icd;
process.env.XDG_RUNTIME_DIR ??= '/tmp';
