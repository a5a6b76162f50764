import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DiskCache } from '../src/index';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vpeft-disk-cache-damaged-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('a feature-cache chunk whose metadata is damaged', () => {
  it('is a miss (its rows are computed again), not an error', async () => {
    const cache = new DiskCache(join(dir, 'cache'), Number.POSITIVE_INFINITY);
    const specs = [{ name: 'x', shape: [2] }];
    expect(await cache.write('entry', 'k', specs, ['a', 'b'], new Float32Array([1, 2, 3, 4]), 'float32')).toBe(true);
    await new Promise((r) => setTimeout(r, 5));
    expect(await cache.write('entry', 'k', specs, ['c'], new Float32Array([5, 6]), 'float32')).toBe(true);
    const [entry] = await readdir(join(dir, 'cache'));
    const metas = (await readdir(join(dir, 'cache', entry!))).filter((n) => n.endsWith('.json')).sort();
    expect(metas).toHaveLength(2);
    // The newer chunk's metadata torn in the middle of a string; the older one's identities not a list.
    const newer = join(dir, 'cache', entry!, metas[1]!);
    await writeFile(newer, (await readFile(newer, 'utf8')).slice(0, 40));
    const rows = await cache.rows('entry');
    expect([...rows!.rows.keys()].sort()).toEqual(['a', 'b']);
    const older = join(dir, 'cache', entry!, metas[0]!);
    await writeFile(older, JSON.stringify({ ...JSON.parse(await readFile(older, 'utf8')), identities: 'a,b' }));
    expect(await cache.rows('entry')).toBeUndefined();
  });
});
