import { link, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileFormatError, VpeftError } from '../src/errors/errors';
import { bfloat16BitsToNumber, float16BitsToNumber } from '../src/io/half';
import { parseSafetensors, readSafetensors, SAFETENSORS_DTYPES, serializeSafetensors, writeSafetensors } from '../src/io/safetensors';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');

/** JSON numbers from the Python fixtures; non-finite values are the strings "inf", "-inf", "nan". */
type JsonNum = number | 'inf' | '-inf' | 'nan';
const fromJson = (v: JsonNum): number => (v === 'inf' ? Infinity : v === '-inf' ? -Infinity : v === 'nan' ? NaN : v);

/** Builds a safetensors file by hand: 8-byte LE header length, header text, data bytes. */
function build(header: unknown, data: ArrayLike<number> = [], headerLength?: bigint): Uint8Array {
  const text = new TextEncoder().encode(typeof header === 'string' ? header : JSON.stringify(header));
  const out = new Uint8Array(8 + text.length + data.length);
  new DataView(out.buffer).setBigUint64(0, headerLength ?? BigInt(text.length), true);
  out.set(text, 8);
  out.set(Array.from(data), 8 + text.length);
  return out;
}

/** Little-endian bytes of 16-bit patterns. */
const u16le = (patterns: number[]): number[] => patterns.flatMap((p) => [p & 0xff, p >> 8]);

function expectFormatError(fn: () => unknown, ...fragments: Array<string | RegExp>): void {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  expect(caught, 'expected a FileFormatError').toBeInstanceOf(FileFormatError);
  const message = (caught as Error).message;
  for (const f of fragments) {
    if (typeof f === 'string') expect(message).toContain(f);
    else expect(message).toMatch(f);
  }
}

describe('float16 / bfloat16 bit conversions (values by formula)', () => {
  it('decodes hand-built half-precision patterns', () => {
    const cases: Array<[number, number]> = [
      [0x3c00, 1],
      [0xc000, -2],
      [0x3800, 0.5],
      [0x7bff, (1 + 1023 / 1024) * 2 ** 15], // 65504, largest half
      [0x0400, 2 ** -14], // smallest normal
      [0x0001, 2 ** -24], // smallest subnormal
      [0x03ff, 1023 * 2 ** -24], // largest subnormal
      [0x8001, -(2 ** -24)],
      [0x3555, (1 + 0x155 / 1024) * 2 ** -2], // nearest half to 1/3
      [0x3c01, 1 + 2 ** -10],
      [0x7c00, Infinity],
      [0xfc00, -Infinity],
      [0x0000, 0],
    ];
    for (const [bits, value] of cases) expect(float16BitsToNumber(bits), `0x${bits.toString(16)}`).toBe(value);
    expect(Object.is(float16BitsToNumber(0x8000), -0)).toBe(true);
    expect(float16BitsToNumber(0x7e00)).toBeNaN();
    expect(float16BitsToNumber(0x7c01)).toBeNaN();
  });

  it('decodes hand-built bfloat16 patterns', () => {
    const cases: Array<[number, number]> = [
      [0x3f80, 1],
      [0xc000, -2],
      [0x3f00, 0.5],
      [0x7f7f, (1 + 127 / 128) * 2 ** 127], // largest finite bf16
      [0x0080, 2 ** -126], // smallest normal
      [0x0001, 2 ** -133], // smallest subnormal: 2^-126 · 2^-7
      [0x8001, -(2 ** -133)],
      [0x3eab, (1 + 43 / 128) * 2 ** -2], // nearest bf16 to 1/3
      [0x7f80, Infinity],
      [0xff80, -Infinity],
      [0x0000, 0],
    ];
    for (const [bits, value] of cases) expect(bfloat16BitsToNumber(bits), `0x${bits.toString(16)}`).toBe(value);
    expect(Object.is(bfloat16BitsToNumber(0x8000), -0)).toBe(true);
    expect(bfloat16BitsToNumber(0x7fc0)).toBeNaN();
  });

  it('parses F16 and BF16 tensors from hand-built bytes', () => {
    const f16 = [0x3c00, 0xc000, 0x0001, 0x7c00, 0x8000, 0x03ff];
    const bf16 = [0x3f80, 0xc000, 0x0001, 0xff80];
    const file = build(
      { h: { dtype: 'F16', shape: [2, 3], data_offsets: [0, 12] }, b: { dtype: 'BF16', shape: [4], data_offsets: [12, 20] } },
      [...u16le(f16), ...u16le(bf16)],
    );
    const { tensors } = parseSafetensors(file);
    const h = tensors.get('h')!;
    expect(h.dtype).toBe('F16');
    expect(h.shape).toEqual([2, 3]);
    expect(Array.from(h.data)).toEqual([1, -2, 2 ** -24, Infinity, -0, 1023 * 2 ** -24]);
    expect(Object.is(h.data[4], -0)).toBe(true);
    const b = tensors.get('b')!;
    expect(b.dtype).toBe('BF16');
    expect(Array.from(b.data)).toEqual([1, -2, 2 ** -133, -Infinity]);
  });
});

describe('reading files written by PyTorch (make_vit_fixture.py)', () => {
  it('decodes F16 / BF16 / F32 exactly as torch does (dtypes.safetensors)', async () => {
    const expected = JSON.parse(await readFile(join(FIXTURES, 'dtypes.json'), 'utf8')) as {
      metadata: Record<string, string>;
      tensors: Record<string, { dtype: string; shape: number[]; bits: number[]; values: JsonNum[] }>;
    };
    const file = await readSafetensors(join(FIXTURES, 'dtypes.safetensors'));
    expect(file.metadata).toEqual(expected.metadata);
    expect([...file.tensors.keys()].sort()).toEqual(Object.keys(expected.tensors).sort());
    for (const [name, want] of Object.entries(expected.tensors)) {
      const got = file.tensors.get(name)!;
      expect(got.dtype, name).toBe(want.dtype);
      expect(got.shape, name).toEqual(want.shape);
      expect(got.data.length, name).toBe(want.values.length);
      for (let i = 0; i < want.values.length; i++) {
        const value = fromJson(want.values[i]!);
        // toBe uses Object.is: NaN matches NaN and -0 is told from +0.
        expect(got.data[i], `${name}[${i}]`).toBe(value);
        if (want.dtype === 'F16') expect(float16BitsToNumber(want.bits[i]!), `${name}[${i}] bits`).toBe(value);
        if (want.dtype === 'BF16') expect(bfloat16BitsToNumber(want.bits[i]!), `${name}[${i}] bits`).toBe(value);
      }
    }
  });

  it('reads the torchvision ViT converted to timm names (vit-parity.safetensors)', async () => {
    const expected = JSON.parse(await readFile(join(FIXTURES, 'vit-parity.json'), 'utf8')) as {
      config: { dim: number; depth: number; patch_size: number; image_size: number; mlp_dim: number; classes: number };
      metadata: Record<string, string>;
      tensors: Record<string, { shape: number[]; first: number[]; sum: number }>;
    };
    const file = await readSafetensors(join(FIXTURES, 'vit-parity.safetensors'));
    expect(file.metadata).toEqual(expected.metadata);
    expect(file.metadata?.layer_norm_eps).toBe('1e-06');
    expect([...file.tensors.keys()].sort()).toEqual(Object.keys(expected.tensors).sort());

    const { dim: d, depth, patch_size: p, image_size: size, mlp_dim: mlp, classes } = expected.config;
    const tokens = (size / p) ** 2 + 1;
    const shapes: Record<string, number[]> = {
      cls_token: [1, 1, d],
      pos_embed: [1, tokens, d],
      'patch_embed.proj.weight': [d, 3, p, p],
      'blocks.0.attn.qkv.weight': [3 * d, d],
      'blocks.0.attn.qkv.bias': [3 * d],
      'blocks.0.mlp.fc1.weight': [mlp, d],
      [`blocks.${depth - 1}.mlp.fc2.weight`]: [d, mlp],
      'norm.weight': [d],
      'head.weight': [classes, d],
    };
    for (const [name, shape] of Object.entries(shapes)) expect(file.tensors.get(name)?.shape, name).toEqual(shape);

    for (const [name, want] of Object.entries(expected.tensors)) {
      const got = file.tensors.get(name)!;
      expect(got.dtype, name).toBe('F32');
      expect(got.shape, name).toEqual(want.shape);
      expect(got.data.length).toBe(want.shape.reduce((a, b) => a * b, 1));
      // The JSON holds the float32 values printed as float64: Math.fround is exact on them.
      expect(Array.from(got.data.subarray(0, 4)), name).toEqual(want.first.map(Math.fround));
      let sum = 0;
      for (const v of got.data) sum += v;
      expect(Math.abs(sum - want.sum), `${name} sum`).toBeLessThan(1e-9 * (1 + Math.abs(want.sum)) * got.data.length);
    }
    // Nothing trivially zero or one: every tensor was re-randomised.
    for (const [name, t] of file.tensors) expect(new Set(t.data).size, name).toBeGreaterThan(t.data.length / 2);
  });
});

describe('serializeSafetensors / parseSafetensors round trip', () => {
  it('writes the exact bytes of the spec for a small tensor', () => {
    const bytes = serializeSafetensors({ a: { shape: [2], data: new Float32Array([1, -2]) } });
    const header = '{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}';
    const padded = header + ' '.repeat((8 - ((8 + header.length) % 8)) % 8);
    const expected = [
      ...Array.from({ length: 8 }, (_, i) => Math.floor(padded.length / 256 ** i) % 256), // u64 little-endian
      ...new TextEncoder().encode(padded),
      0x00, 0x00, 0x80, 0x3f, // 1.0f little-endian
      0x00, 0x00, 0x00, 0xc0, // -2.0f
    ];
    expect(Array.from(bytes)).toEqual(expected);
  });

  it('round-trips values bit-exactly, with metadata, sorted keys and an 8-byte-aligned data start', () => {
    const special = new Float32Array([0, -0, Infinity, -Infinity, NaN, 2 ** -149, 3.4028234663852886e38, Math.fround(Math.PI)]);
    const random = new Float32Array(2 * 3 * 5).map((_, i) => Math.fround(Math.sin(i * 12.9898) * 437.5453));
    const input = new Map([
      ['z.last', { shape: [2, 3, 5], data: random }],
      ['a.first', { shape: [8], data: special }],
      ['scalar', { shape: [], data: new Float32Array([7.5]) }],
      ['empty', { shape: [0, 4], data: new Float32Array(0) }],
    ]);
    const metadata = { format: 'pt', note: 'ünïcode ✓' };
    const bytes = serializeSafetensors(input, metadata);

    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect((8 + n) % 8).toBe(0);
    const text = new TextDecoder().decode(bytes.subarray(8, 8 + n));
    expect(text.trimEnd().length).toBeGreaterThan(0);
    expect(/^ *$/.test(text.slice(text.trimEnd().length))).toBe(true);
    expect(Object.keys(JSON.parse(text))).toEqual(['__metadata__', 'a.first', 'empty', 'scalar', 'z.last']);

    const file = parseSafetensors(bytes);
    expect(file.metadata).toEqual(metadata);
    expect([...file.tensors.keys()]).toEqual(['a.first', 'empty', 'scalar', 'z.last']);
    for (const [name, t] of input) {
      const got = file.tensors.get(name)!;
      expect(got.dtype).toBe('F32');
      expect(got.shape).toEqual(t.shape);
      expect(new Uint32Array(got.data.slice().buffer), name).toEqual(new Uint32Array(t.data.slice().buffer));
    }
  });

  it('accepts a plain object, omits __metadata__ when none is given, and copies the data', () => {
    const data = new Float32Array([1, 2, 3, 4]);
    const bytes = serializeSafetensors({ w: { shape: [2, 2], data } });
    const file = parseSafetensors(bytes);
    expect(file.metadata).toBeUndefined();
    const w = file.tensors.get('w')!;
    expect(Array.from(w.data)).toEqual([1, 2, 3, 4]);
    bytes.fill(0);
    expect(Array.from(w.data)).toEqual([1, 2, 3, 4]);
  });

  it('reads a file whose data start is not 4-byte aligned (e.g. an unpadded header)', () => {
    const header = { x: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } };
    const text = JSON.stringify(header);
    const pad = ((5 - ((8 + text.length) % 8)) + 8) % 8; // force (8 + n) % 8 === 5
    const file = build(text + ' '.repeat(pad), [0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x40, 0xc0]);
    expect((8 + text.length + pad) % 8).toBe(5);
    expect(Array.from(parseSafetensors(file).tensors.get('x')!.data)).toEqual([1, -3]);
  });

  it('rejects bad input to serialize with a clear error', () => {
    expect(() => serializeSafetensors({ w: { shape: [2, 3], data: new Float32Array(5) } })).toThrow(/shape \[2, 3\] \(6 values\) but its data has 5/);
    expect(() => serializeSafetensors({ w: { shape: [-1], data: new Float32Array(1) } })).toThrow(VpeftError);
    expect(() => serializeSafetensors({ __metadata__: { shape: [1], data: new Float32Array(1) } })).toThrow(/invalid tensor name/);
    expect(() => serializeSafetensors({}, { n: 3 as unknown as string })).toThrow(/metadata "n" must be a string/);
  });
});

describe('other dtypes', () => {
  it('converts F64 to the nearest float32 and integers / BOOL exactly', () => {
    const f64 = new Uint8Array(new Float64Array([0.1, -1e10]).buffer);
    const i64 = new Uint8Array(new BigInt64Array([-5n, 2n ** 24n]).buffer);
    const i32 = new Uint8Array(new Int32Array([-7, 123456]).buffer);
    const file = build(
      {
        a: { dtype: 'F64', shape: [2], data_offsets: [0, 16] },
        b: { dtype: 'I64', shape: [2], data_offsets: [16, 32] },
        c: { dtype: 'I32', shape: [2], data_offsets: [32, 40] },
        d: { dtype: 'U8', shape: [2], data_offsets: [40, 42] },
        e: { dtype: 'BOOL', shape: [2], data_offsets: [42, 44] },
      },
      [...f64, ...i64, ...i32, 255, 3, 1, 0],
    );
    const { tensors } = parseSafetensors(file);
    expect(Array.from(tensors.get('a')!.data)).toEqual([Math.fround(0.1), Math.fround(-1e10)]);
    expect(Array.from(tensors.get('b')!.data)).toEqual([-5, 2 ** 24]);
    expect(Array.from(tensors.get('c')!.data)).toEqual([-7, 123456]);
    expect(Array.from(tensors.get('d')!.data)).toEqual([255, 3]);
    expect(Array.from(tensors.get('e')!.data)).toEqual([1, 0]);
    expect(tensors.get('b')!.dtype).toBe('I64');
  });

  it('rejects integers that float32 cannot hold exactly', () => {
    const i64 = new Uint8Array(new BigInt64Array([1n, -(2n ** 24n) - 1n]).buffer);
    expectFormatError(() => parseSafetensors(build({ ids: { dtype: 'I64', shape: [2], data_offsets: [0, 16] } }, i64), 'ids.st'),
      'ids.st:', 'tensor "ids" (I64)', 'value -16777217 at index 1', 'float32');
    const i32 = new Uint8Array(new Int32Array([2 ** 24 + 1]).buffer);
    expectFormatError(() => parseSafetensors(build({ ids: { dtype: 'I32', shape: [1], data_offsets: [0, 4] } }, i32)), 'value 16777217');
  });
});

describe('parse errors name the file and say what is wrong', () => {
  const good = { t: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } };
  const eight = [0, 0, 128, 63, 0, 0, 0, 64];

  it('file shorter than 8 bytes', () => {
    expectFormatError(() => parseSafetensors(new Uint8Array(0), 'empty.safetensors'), 'empty.safetensors:', '0 byte(s)', '8-byte');
    expectFormatError(() => parseSafetensors(new Uint8Array(7)), '<buffer>:', '7 byte(s)');
  });

  it('header length beyond the file', () => {
    expectFormatError(() => parseSafetensors(build(good, eight, 1000n)), 'header length 1000 is beyond the file', 'only');
    expectFormatError(() => parseSafetensors(build(good, eight, 2n ** 63n)), `header length ${2n ** 63n}`);
    expectFormatError(() => parseSafetensors(new Uint8Array([4, 0, 0, 0, 0, 0, 0, 0, 0x7b])), 'header length 4', 'only 1 byte(s)');
  });

  it('malformed header: bad JSON, bad UTF-8, not an object', () => {
    expectFormatError(() => parseSafetensors(build('{"t": {"dtype": "F32",', eight)), 'header is not valid JSON');
    expectFormatError(() => parseSafetensors(build('', [])), 'header is not valid JSON');
    const bad = build('{"a":1}');
    bad[9] = 0xff;
    expectFormatError(() => parseSafetensors(bad), 'not valid UTF-8');
    expectFormatError(() => parseSafetensors(build('[1,2]')), 'must be a JSON object', 'array');
    expectFormatError(() => parseSafetensors(build({ t: 5 }, [])), 'tensor "t": entry must be an object');
  });

  it('missing dtype, shape or data_offsets', () => {
    for (const field of ['dtype', 'shape', 'data_offsets']) {
      const entry: Record<string, unknown> = { ...good.t };
      delete entry[field];
      expectFormatError(() => parseSafetensors(build({ t: entry }, eight)), `tensor "t": missing "${field}"`);
    }
  });

  it('ill-typed dtype, shape or data_offsets', () => {
    expectFormatError(() => parseSafetensors(build({ t: { ...good.t, dtype: 4 } }, eight)), '"dtype" must be a string');
    expectFormatError(() => parseSafetensors(build({ t: { ...good.t, shape: [2.5] } }, eight)), '"shape" must be an array of non-negative integers');
    expectFormatError(() => parseSafetensors(build({ t: { ...good.t, shape: [-2] } }, eight)), '"shape"');
    expectFormatError(() => parseSafetensors(build({ t: { ...good.t, data_offsets: [0] } }, eight)), '"data_offsets" must be [begin, end]');
    expectFormatError(() => parseSafetensors(build({ t: { ...good.t, data_offsets: [8, 0] } }, eight)), '"data_offsets"', '[8,0]');
    expectFormatError(() => parseSafetensors(build({ t: { ...good.t, data_offsets: ['0', 8] } }, eight)), '"data_offsets"');
  });

  it('unsupported dtype says which are supported', () => {
    expectFormatError(
      () => parseSafetensors(build({ t: { dtype: 'F8_E4M3', shape: [8], data_offsets: [0, 8] } }, eight)),
      'unsupported dtype "F8_E4M3"',
      `supported: ${SAFETENSORS_DTYPES.join(', ')}`,
    );
    expect(SAFETENSORS_DTYPES).toEqual(expect.arrayContaining(['F32', 'F16', 'BF16']));
  });

  it('offsets not matching shape × dtype size', () => {
    expectFormatError(
      () => parseSafetensors(build({ t: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, eight)),
      'data_offsets [0, 8] span 8 byte(s), but F32 with shape [3] needs 12',
    );
    expectFormatError(() => parseSafetensors(build({ t: { dtype: 'F16', shape: [2], data_offsets: [0, 8] } }, eight)), 'F16 with shape [2] needs 4');
  });

  it('offsets out of range: overlapping, leaving gaps, or leaving bytes over', () => {
    const two = (a: number[], b: number[]) => ({ a: { dtype: 'F32', shape: [1], data_offsets: a }, b: { dtype: 'F32', shape: [1], data_offsets: b } });
    expectFormatError(() => parseSafetensors(build(two([0, 4], [2, 6]), eight)), 'overlap');
    expectFormatError(() => parseSafetensors(build(two([0, 4], [0, 4]), eight)), 'overlap');
    expectFormatError(() => parseSafetensors(build(two([0, 4], [6, 10]), [...eight, 0, 0])), 'data bytes [4, 6) belong to no tensor');
    expectFormatError(() => parseSafetensors(build(two([0, 4], [4, 8]), [...eight, 1])), '1 byte(s) after the last tensor');
    expect(parseSafetensors(build(two([4, 8], [0, 4]), eight)).tensors.get('a')!.data[0]).toBe(2);
  });

  it('truncated data', () => {
    const whole = serializeSafetensors({ a: { shape: [4], data: new Float32Array([1, 2, 3, 4]) }, b: { shape: [2], data: new Float32Array([5, 6]) } });
    expectFormatError(() => parseSafetensors(whole.subarray(0, whole.length - 3), 'cut.safetensors'),
      'cut.safetensors:', 'truncated data', 'describes 24 byte(s)', 'only 21', 'tensor "b"');
    expectFormatError(() => parseSafetensors(build({ t: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }, eight)), 'truncated data');
  });

  it('bad __metadata__', () => {
    expectFormatError(() => parseSafetensors(build({ __metadata__: { a: 1 } })), '"__metadata__.a" must be a string');
    expectFormatError(() => parseSafetensors(build({ __metadata__: ['x'] })), '"__metadata__" must be an object');
  });
});

describe('readSafetensors / writeSafetensors', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vpeft-safetensors-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes atomically: a new file replaces the old by rename, leaving no temporary file', async () => {
    const path = join(dir, 'w.safetensors');
    await writeSafetensors(path, { w: { shape: [2], data: new Float32Array([1, 2]) } }, { v: '1' });
    const before = await stat(path);
    // A hard link keeps the old inode: an in-place rewrite would change what it shows, a rename does not.
    await link(path, join(dir, 'old-link'));
    await writeSafetensors(path, new Map([['w', { shape: [3], data: new Float32Array([3, 4, 5]) }]]), { v: '2' });
    const after = await stat(path);
    expect(after.ino).not.toBe(before.ino);

    const now = await readSafetensors(path);
    expect(now.metadata).toEqual({ v: '2' });
    expect(Array.from(now.tensors.get('w')!.data)).toEqual([3, 4, 5]);
    const old = await readSafetensors(join(dir, 'old-link'));
    expect(old.metadata).toEqual({ v: '1' });
    expect(Array.from(old.tensors.get('w')!.data)).toEqual([1, 2]);
    expect((await readdir(dir)).sort()).toEqual(['old-link', 'w.safetensors']);
  });

  it('leaves an existing file untouched when the tensors are invalid', async () => {
    const path = join(dir, 'keep.safetensors');
    await writeSafetensors(path, { k: { shape: [1], data: new Float32Array([9]) } });
    const original = await readFile(path);
    await expect(writeSafetensors(path, { k: { shape: [2], data: new Float32Array([9]) } })).rejects.toThrow(VpeftError);
    expect(Buffer.compare(await readFile(path), original)).toBe(0);
    expect((await readdir(dir)).filter((f) => f.includes('keep'))).toEqual(['keep.safetensors']);
  });

  it('read errors name the path', async () => {
    const path = join(dir, 'broken.safetensors');
    await writeFile(path, new Uint8Array([1, 2, 3]));
    await expect(readSafetensors(path)).rejects.toThrow(FileFormatError);
    await expect(readSafetensors(path)).rejects.toThrow(`${path}: not a safetensors file`);
    await expect(readSafetensors(join(dir, 'missing.safetensors'))).rejects.toThrow(/ENOENT/);
  });
});
