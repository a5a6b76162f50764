import base64 from 'virtual:bundled-digits';
import { BUNDLED_DIGITS } from './bundled-task';
import { thumbnail, type Picture } from './preprocess';

/**
 * One image of the task: the picture as given (each backbone prepares its own input from it: 28x28
 * grey for the ViT, 224x224 RGB for the MobileNetV2), a thumbnail, its class and split.
 */
export interface TaskImage {
  picture: Picture;
  thumbnail: string;
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
  addImage(label: number, picture: Picture): TaskImage {
    const seen = this.images.filter((i) => i.label === label).length;
    const image: TaskImage = { picture, thumbnail: thumbnail(picture), label, split: seen % 4 === 3 ? 'test' : 'train' };
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

/** An 8-bit grey 28x28 digit as a picture. */
function digitPicture(grey: Uint8Array): HTMLCanvasElement {
  const canvas = document.createElement('canvas');
  canvas.width = 28;
  canvas.height = 28;
  const context = canvas.getContext('2d')!;
  const image = context.createImageData(28, 28);
  grey.forEach((v, p) => image.data.set([v, v, v, 255], 4 * p));
  context.putImageData(image, 0, 0);
  return canvas;
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
      const picture = digitPicture(bytes.subarray(offset, offset + 784));
      task.images.push({ picture, thumbnail: picture.toDataURL(), label, split: i < train ? 'train' : 'test' });
    }
  });
}

/** Decodes an image file the user dropped or picked. */
export function decodeFile(file: Blob): Promise<ImageBitmap> {
  return createImageBitmap(file);
}
