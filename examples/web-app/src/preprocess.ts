import { normalizeInto, type ImageTransform } from '@vpeft/datasets';

/** Something a canvas can draw with a known size: a decoded file, a canvas. */
export type Picture = HTMLCanvasElement | ImageBitmap;

/** A canvas 2-D context of `width` x `height` for reading pixels back. */
function canvasContext(width: number, height: number): CanvasRenderingContext2D {
  const canvas = document.createElement('canvas');
  canvas.width = width;
  canvas.height = height;
  return canvas.getContext('2d', { willReadFrequently: true })!;
}

/**
 * An image (a decoded file, a video frame) as the ViT's input: drawn to 28x28, luminance in [0, 1].
 * MNIST digits are light on dark; a picture that is mostly light (dark ink on paper) is inverted.
 */
export function toGrey28(source: CanvasImageSource): Float32Array {
  const context = canvasContext(28, 28);
  context.drawImage(source, 0, 0, 28, 28);
  const { data } = context.getImageData(0, 0, 28, 28);
  const grey = new Float32Array(784);
  for (let p = 0; p < 784; p++) grey[p] = (0.299 * data[4 * p]! + 0.587 * data[4 * p + 1]! + 0.114 * data[4 * p + 2]!) / 255;
  const mean = grey.reduce((a, b) => a + b, 0) / 784;
  if (mean > 0.5) for (let p = 0; p < 784; p++) grey[p] = 1 - grey[p]!;
  return grey;
}

/**
 * An image as a CNN's input under `transform` (a `@vpeft/datasets` transform, as Node's batches use):
 * transparent pixels composited on the transform's background, resized to its exact size by the
 * canvas (high-quality smoothing, where Node resizes with sharp's kernel), then normalised by the
 * datasets package's `normalizeInto` — NHWC float32, `height * width * 3` values.
 */
export function toRgb(source: CanvasImageSource, transform: ImageTransform): Float32Array {
  const { width, height } = transform;
  const context = canvasContext(width, height);
  context.fillStyle = `rgb(${transform.background.join(',')})`;
  context.fillRect(0, 0, width, height);
  context.imageSmoothingEnabled = true;
  context.imageSmoothingQuality = 'high';
  context.drawImage(source, 0, 0, width, height);
  const rgba = context.getImageData(0, 0, width, height).data;
  const rgb = new Uint8Array(width * height * 3);
  for (let p = 0; p < width * height; p++) rgb.set(rgba.subarray(4 * p, 4 * p + 3), 3 * p);
  const out = new Float32Array(width * height * 3);
  normalizeInto({ data: rgb, width, height }, transform, out, 0);
  return out;
}

/** A picture as a small (at most 56 px) data URL, for thumbnails. */
export function thumbnail(picture: Picture): string {
  const scale = Math.min(1, 56 / Math.max(picture.width, picture.height));
  const context = canvasContext(Math.max(1, Math.round(picture.width * scale)), Math.max(1, Math.round(picture.height * scale)));
  context.drawImage(picture, 0, 0, context.canvas.width, context.canvas.height);
  return context.canvas.toDataURL();
}

/** A copy of a video's current frame. */
export function snapshot(video: HTMLVideoElement): HTMLCanvasElement {
  const context = canvasContext(video.videoWidth, video.videoHeight);
  context.drawImage(video, 0, 0);
  return context.canvas;
}
