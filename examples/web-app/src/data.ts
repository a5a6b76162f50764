import base64 from 'virtual:bundled-digits';
import { BUNDLED_DIGITS } from './bundled-task';

/** One image of the task: 28x28 grey pixels in [0, 1] (the pre-trained ViT's input), its class and split. */
export interface TaskImage {
  pixels: Float32Array;
  label: number;
  split: 'train' | 'test';
}

/** The classes the user is teaching and their images. */
export class Task {
  readonly classNames: string[] = [];
  readonly images: TaskImage[] = [];

  /** Adds a class; returns its id. */
  addClass(name: string): number {
    const trimmed = name.trim();
    if (!trimmed) throw new Error('a class needs a name');
    if (this.classNames.includes(trimmed)) throw new Error(`there is already a class "${trimmed}"`);
    this.classNames.push(trimmed);
    return this.classNames.length - 1;
  }

  /**
   * Adds a user's image to class `label`: every fourth image of a class is held out for evaluation,
   * so each class has test images as soon as it has four.
   */
  addImage(label: number, pixels: Float32Array): TaskImage {
    const seen = this.images.filter((i) => i.label === label).length;
    const image: TaskImage = { pixels, label, split: seen % 4 === 3 ? 'test' : 'train' };
    this.images.push(image);
    return image;
  }

  split(split: TaskImage['split']): TaskImage[] {
    return this.images.filter((i) => i.split === split);
  }

  count(label: number, split: TaskImage['split']): number {
    return this.images.filter((i) => i.label === label && i.split === split).length;
  }

  clear(): void {
    this.classNames.length = 0;
    this.images.length = 0;
  }
}

/** Replaces `task` with the bundled digits 5-9 (`BUNDLED_DIGITS.train` + `.test` per class). */
export function loadBundledDigits(task: Task): void {
  task.clear();
  const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
  const { digits, train, test } = BUNDLED_DIGITS;
  digits.forEach((digit, label) => {
    task.addClass(String(digit));
    for (let i = 0; i < train + test; i++) {
      const offset = (label * (train + test) + i) * 784;
      const pixels = Float32Array.from(bytes.subarray(offset, offset + 784), (v) => v / 255);
      task.images.push({ pixels, label, split: i < train ? 'train' : 'test' });
    }
  });
}

/**
 * An image (a decoded file, a video frame) as the ViT's input: drawn to 28x28, luminance in [0, 1].
 * MNIST digits are light on dark; a picture that is mostly light (dark ink on paper) is inverted.
 */
export function toGrey28(source: CanvasImageSource): Float32Array {
  const canvas = document.createElement('canvas');
  canvas.width = 28;
  canvas.height = 28;
  const context = canvas.getContext('2d', { willReadFrequently: true })!;
  context.drawImage(source, 0, 0, 28, 28);
  const { data } = context.getImageData(0, 0, 28, 28);
  const grey = new Float32Array(784);
  for (let p = 0; p < 784; p++) grey[p] = (0.299 * data[4 * p]! + 0.587 * data[4 * p + 1]! + 0.114 * data[4 * p + 2]!) / 255;
  const mean = grey.reduce((a, b) => a + b, 0) / 784;
  if (mean > 0.5) for (let p = 0; p < 784; p++) grey[p] = 1 - grey[p]!;
  return grey;
}

/** Decodes an image file the user dropped or picked. */
export async function fileToGrey28(file: Blob): Promise<Float32Array> {
  const bitmap = await createImageBitmap(file);
  try {
    return toGrey28(bitmap);
  } finally {
    bitmap.close();
  }
}

/** A 28x28 grey image as a data URL, for thumbnails. */
export function thumbnail(pixels: Float32Array): string {
  const canvas = document.createElement('canvas');
  canvas.width = 28;
  canvas.height = 28;
  const context = canvas.getContext('2d')!;
  const image = context.createImageData(28, 28);
  for (let p = 0; p < 784; p++) {
    const v = Math.round(pixels[p]! * 255);
    image.data.set([v, v, v, 255], 4 * p);
  }
  context.putImageData(image, 0, 0);
  return canvas.toDataURL();
}
