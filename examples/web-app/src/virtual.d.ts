/** The bundled task's digits, 8-bit grey, class by class (train then test images), in base64 (vite.config.ts). */
declare module 'virtual:bundled-digits' {
  const base64: string;
  export default base64;
}
