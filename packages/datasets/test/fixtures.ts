// Test fixtures written on the fly: real image files (sharp) in the exact VTAB-1k and FGVC layouts.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import sharp from 'sharp';

/** A distinct solid colour per class id. */
export function classColour(label: number): [number, number, number] {
  return [(40 + label * 53) % 256, (200 + label * 97) % 256, (90 + label * 31) % 256];
}

/** Writes a solid-colour image (format from the extension: .jpg, .png, .webp). */
export async function writeSolidImage(path: string, rgb: readonly number[], width = 40, height = 30, alpha?: number): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const channels = alpha === undefined ? 3 : 4;
  const image = sharp({ create: { width, height, channels, background: { r: rgb[0], g: rgb[1], b: rgb[2], alpha: alpha ?? 1 } } });
  const ext = path.slice(path.lastIndexOf('.') + 1).toLowerCase();
  const encoded = ext === 'png' ? image.png() : ext === 'webp' ? image.webp({ lossless: true }) : image.jpeg({ quality: 95 });
  await encoded.toFile(path);
}

/** Writes RGB bytes (`height x width x 3`) as a lossless PNG. */
export async function writeRgbPng(path: string, data: Uint8Array, width: number, height: number): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await sharp(data, { raw: { width, height, channels: 3 } }).png().toFile(path);
}

/** A fresh temp folder; call the returned cleanup in afterAll. */
export async function tempDir(prefix: string): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), `vpeft-datasets-${prefix}-`));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/**
 * Writes `<root>/<folder>/images/<split>/NNNNNN.jpg` and `<root>/<folder>/<split>.txt` for each split,
 * `counts[split]` images with labels cycling through `0..numClasses-1`.
 */
export async function writeVtabTask(root: string, folder: string, numClasses: number, counts: Record<string, number>): Promise<void> {
  for (const [split, count] of Object.entries(counts)) {
    const lines: string[] = [];
    for (let i = 0; i < count; i++) {
      const label = i % numClasses;
      const rel = `images/${split}/${String(i).padStart(6, '0')}.jpg`;
      await writeSolidImage(join(root, folder, rel), classColour(label));
      lines.push(`${rel} ${label}`);
    }
    await writeFile(join(root, folder, `${split}.txt`), lines.join('\n') + '\n');
  }
}

/**
 * Writes an FGVC dataset in VPT's layout: `<root>/{train,val,test}.json` with keys relative to
 * `imageRoot` (`images`, `Images` or ''), one sub-folder per class, original ids `ids`.
 */
export async function writeFgvcDataset(root: string, imageRoot: string, ids: readonly number[], perSplit: Record<string, number>): Promise<void> {
  for (const [split, perClass] of Object.entries(perSplit)) {
    const json: Record<string, number> = {};
    for (const [c, id] of ids.entries()) {
      for (let k = 0; k < perClass; k++) {
        const key = `${String(id).padStart(3, '0')}.class_${id}/${split}_${k}.jpg`;
        await writeSolidImage(join(root, imageRoot, key), classColour(c), 48, 36);
        json[key] = id;
      }
    }
    await writeFile(join(root, `${split}.json`), JSON.stringify(json));
  }
}
