// Decode + batch throughput of the VTAB (224x224) and FGVC pipelines on 500x375 JPEGs.
// Run from the repo root: npx tsx packages/datasets/bench/decode.bench.ts [images=256] [batchSize=32]
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { mkdirSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import sharp from 'sharp';
import { batches, fgvcTransform, vtab1k, vtabTransform } from '../src/index.js';
import type { ImageTransform } from '../src/index.js';

const count = Number(process.argv[2] ?? 256);
const batchSize = Number(process.argv[3] ?? 32);

async function writeJpegs(root: string): Promise<void> {
  const dir = join(root, 'eurosat', 'images', 'test');
  mkdirSync(dir, { recursive: true });
  const width = 500;
  const height = 375;
  const lines: string[] = [];
  for (let i = 0; i < count; i++) {
    // Smooth colour waves plus noise: compresses like a photo, not like a flat fill.
    const raw = Buffer.alloc(width * height * 3);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const o = (y * width + x) * 3;
        const n = ((x * 7919 + y * 104729 + i * 31) % 97) - 48;
        raw[o] = 128 + 90 * Math.sin((x + i) / 23) + n * 0.4;
        raw[o + 1] = 128 + 90 * Math.cos((y - i) / 17) + n * 0.4;
        raw[o + 2] = 128 + 90 * Math.sin((x + y) / 31 + i) + n * 0.4;
      }
    }
    const name = `${String(i).padStart(6, '0')}.jpg`;
    await sharp(raw, { raw: { width, height, channels: 3 } }).jpeg({ quality: 90 }).toFile(join(dir, name));
    lines.push(`images/test/${name} ${i % 10}`);
  }
  await writeFile(join(root, 'eurosat', 'test.txt'), lines.join('\n') + '\n');
}

async function measure(label: string, root: string, transform: ImageTransform, concurrency: number): Promise<number> {
  const dataset = await vtab1k(root, 'eurosat', 'test');
  const start = performance.now();
  let images = 0;
  for await (const { x, y } of batches(dataset, { batchSize, transform, concurrency, prefetch: 2, shuffle: true })) {
    images += x.shape[0];
    tf.dispose([x, y]);
  }
  const seconds = (performance.now() - start) / 1000;
  const rate = images / seconds;
  console.log(`${label.padEnd(34)} concurrency ${String(concurrency).padStart(2)}: ${rate.toFixed(1).padStart(7)} img/s (${images} images, ${seconds.toFixed(2)} s)`);
  return rate;
}

async function main(): Promise<void> {
  await tf.setBackend('cpu');
  const root = await mkdtemp(join(tmpdir(), 'vpeft-decode-bench-'));
  try {
    console.log(`writing ${count} JPEGs of 500x375 ...`);
    await writeJpegs(root);
    console.log(`node ${process.version}, ${availableParallelism()} cores, sharp threads ${sharp.concurrency()}, libuv pool ${process.env.UV_THREADPOOL_SIZE ?? 4}, batch ${batchSize}`);
    await measure('warm-up', root, vtabTransform(), 4);
    for (const concurrency of [1, 2, 4, 8]) await measure('VTAB (bicubic 224x224, ImageNet)', root, vtabTransform(), concurrency);
    await measure('FGVC train (256, crop 224, flip)', root, fgvcTransform({ train: true }), 4);
    await measure('FGVC test (256, centre 224)', root, fgvcTransform({ train: false }), 4);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

await main();
