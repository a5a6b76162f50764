/** The bundled task's digits, 8-bit grey, class by class (train then test images), in base64 (vite.config.ts). */
declare module 'virtual:bundled-digits' {
  const base64: string;
  export default base64;
}
/** The URL of the nsfwjs MobileNetV2's `model.json`, served by the app (plugins/mobilenet-model.ts). */
declare module 'virtual:mobilenet-v2-model' {
  const modelUrl: string;
  export default modelUrl;
}
