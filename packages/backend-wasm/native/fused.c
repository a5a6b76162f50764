// vpeft's fused float32 kernels for the TensorFlow.js wasm backend, in wasm SIMD (f32x4): GELU and
// LayerNorm over the last axis, forward and gradient, softmax's gradient over the last axis, matrix
// products on unpacked operands, and multi-head attention read from and written to the qkv layout.
//
// Built by scripts/build-fused.mjs (clang --target=wasm32 -msimd128 -O3, no libc) into a module that
// IMPORTS tfjs-backend-wasm's own memory ("env"."memory") and works in place on its tensors: every
// pointer argument is a tensor's byte offset in that memory. The module must own no memory of its
// own: no static data and no stack use (the build script checks both), or it would write over tfjs's.
//
// Accuracy (float32, ε = 2^-24): erf within ~1.4 ulp (relative) below |x| = 0.921875 and ~1 ulp of 1
// above; exp within ~1 ulp (relative). The coefficients are float32 least-squares (Lawson-weighted,
// near-minimax) fits with mpmath as reference: native/fit-erf.py reproduces them.

#include <wasm_simd128.h>

typedef v128_t f4;

#define EXPORT(name) __attribute__((export_name(#name))) __attribute__((visibility("default")))

static inline f4 splat(float v) { return wasm_f32x4_splat(v); }
static inline f4 add(f4 a, f4 b) { return wasm_f32x4_add(a, b); }
static inline f4 sub(f4 a, f4 b) { return wasm_f32x4_sub(a, b); }
static inline f4 mul(f4 a, f4 b) { return wasm_f32x4_mul(a, b); }
static inline f4 madd(f4 a, f4 b, float c) { return add(mul(a, b), splat(c)); }
// Clamps use pmin/pmax (b < a ? b : a), one x86 minps/maxps each: f32x4.min/max's NaN and ±0 rules cost
// V8 ~7 instructions. A NaN `a` still comes through (the comparison is false), as with min/max.

// exp(x) for x <= 88: n = round(x/ln2), r = x - n·ln2 (ln2 in two parts, Cody-Waite), exp(r) by the
// Cephes degree-5 polynomial, times 2^n built in the exponent bits. x is clamped below at -87.33
// (2^-126, the smallest normal): a result that would be subnormal comes out as ~1e-38 instead.
static inline f4 exp4(f4 x) {
  x = wasm_f32x4_pmax(wasm_f32x4_pmin(x, splat(88.0f)), splat(-87.33f));
  // n = round(x/ln2) by adding 1.5·2^23: the float addition rounds to an integer (ties to even, as
  // f32x4.nearest) and leaves n + 0x4B400000 in the bits, from which 2^n is built without a conversion.
  f4 t = add(mul(x, splat(1.44269504088896341f)), splat(12582912.0f));
  f4 n = sub(t, splat(12582912.0f));
  f4 r = sub(x, mul(n, splat(0.693359375f)));
  r = sub(r, mul(n, splat(-2.12194440e-4f)));
  f4 p = splat(1.9875691500e-4f);
  p = madd(p, r, 1.3981999507e-3f);
  p = madd(p, r, 8.3334519073e-3f);
  p = madd(p, r, 4.1665795894e-2f);
  p = madd(p, r, 1.6666665459e-1f);
  p = madd(p, r, 5.0000001201e-1f);
  p = add(add(mul(p, mul(r, r)), r), splat(1.0f));
  f4 scale = wasm_i32x4_shl(wasm_i32x4_sub(t, wasm_i32x4_splat(0x4B400000 - 127)), 23);
  return mul(p, scale);
}

// erf(x). Below |x| = 0.921875: x + x·P(x²); above: 1 − exp(Q(|x|)), sign restored, Q fitted to
// log(erfc) up to |x| = 3.93 (beyond it erf rounds to ±1 in float32). Both are computed and blended.
static inline f4 erf4(f4 x) {
  f4 a = wasm_f32x4_abs(x);
  f4 s = mul(x, x);
  f4 p = splat(-0.0006013840902596712f);
  p = madd(p, s, 0.004998104181140661f);
  p = madd(p, s, -0.026770317927002907f);
  p = madd(p, s, 0.11281930655241013f);
  p = madd(p, s, -0.3761250674724579f);
  p = madd(p, s, 0.12837915122509003f);
  f4 small = add(x, mul(x, p));
  f4 t = wasm_f32x4_pmin(a, splat(3.93f));
  f4 q = splat(1.6288363440253306e-06f);
  q = madd(q, t, -4.5859043893869966e-05f);
  q = madd(q, t, 0.000594831071794033f);
  q = madd(q, t, -0.004748932551592588f);
  q = madd(q, t, 0.026386773213744164f);
  q = madd(q, t, -0.11001236736774445f);
  q = madd(q, t, -0.631905734539032f);
  q = madd(q, t, -1.1301822662353516f);
  q = madd(q, t, 0.0003063929616473615f);
  f4 large = sub(splat(1.0f), exp4(q));
  large = wasm_f32x4_pmin(large, splat(1.0f));
  // Sign of x onto the large branch: copy the sign bit.
  f4 sign = wasm_v128_and(x, wasm_i32x4_splat((int)0x80000000));
  large = wasm_v128_or(large, sign);
  return wasm_v128_bitselect(small, large, wasm_f32x4_lt(a, splat(0.921875f)));
}

// Loads/stores of the last `count` (< 4) elements of an array, one lane at a time (no stack buffer).
static inline f4 load_tail(const float* p, int count) {
  f4 v = splat(0.0f);
  if (count > 0) v = wasm_f32x4_replace_lane(v, 0, p[0]);
  if (count > 1) v = wasm_f32x4_replace_lane(v, 1, p[1]);
  if (count > 2) v = wasm_f32x4_replace_lane(v, 2, p[2]);
  return v;
}
static inline void store_tail(float* p, f4 v, int count) {
  if (count > 0) p[0] = wasm_f32x4_extract_lane(v, 0);
  if (count > 1) p[1] = wasm_f32x4_extract_lane(v, 1);
  if (count > 2) p[2] = wasm_f32x4_extract_lane(v, 2);
}
static inline f4 load(const float* p) { return wasm_v128_load(p); }
static inline void store(float* p, f4 v) { wasm_v128_store(p, v); }
static inline float hsum(f4 v) {
  return (wasm_f32x4_extract_lane(v, 0) + wasm_f32x4_extract_lane(v, 1)) +
         (wasm_f32x4_extract_lane(v, 2) + wasm_f32x4_extract_lane(v, 3));
}

// ---- GELU, exact (erf) form, in the composed ops' order: (x·0.5)·(1 + erf(x·(1/√2))). ----
static inline f4 gelu4(f4 x) {
  f4 e = erf4(mul(x, splat(0.70710678118654752f)));
  return mul(mul(x, splat(0.5f)), add(splat(1.0f), e));
}

// The element-wise loops take two vectors a turn: two independent polynomial chains hide each other's
// latency (measured 1.6-2x on the x86-64 this was written on).
EXPORT(gelu) void gelu(const float* x, float* y, int n) {
  int i = 0;
  for (; i + 8 <= n; i += 8) {
    f4 a = gelu4(load(x + i)), b = gelu4(load(x + i + 4));
    store(y + i, a);
    store(y + i + 4, b);
  }
  for (; i + 4 <= n; i += 4) store(y + i, gelu4(load(x + i)));
  if (i < n) store_tail(y + i, gelu4(load_tail(x + i, n - i)), n - i);
}

// dGELU/dx · dy = dy·(Φ(x) + x·φ(x)), Φ(x) = (1 + erf(x/√2))·0.5, φ(x) = exp(−x²/2)/√(2π).
static inline f4 gelu_grad4(f4 x, f4 dy) {
  f4 cdf = mul(add(splat(1.0f), erf4(mul(x, splat(0.70710678118654752f)))), splat(0.5f));
  f4 pdf = mul(exp4(mul(mul(x, x), splat(-0.5f))), splat(0.39894228040143268f));
  return mul(dy, add(cdf, mul(x, pdf)));
}

EXPORT(gelu_grad) void gelu_grad(const float* x, const float* dy, float* dx, int n) {
  int i = 0;
  for (; i + 8 <= n; i += 8) {
    f4 a = gelu_grad4(load(x + i), load(dy + i)), b = gelu_grad4(load(x + i + 4), load(dy + i + 4));
    store(dx + i, a);
    store(dx + i + 4, b);
  }
  for (; i + 4 <= n; i += 4) store(dx + i, gelu_grad4(load(x + i), load(dy + i)));
  if (i < n) {
    int r = n - i;
    store_tail(dx + i, gelu_grad4(load_tail(x + i, r), load_tail(dy + i, r)), r);
  }
}

// Sum of a row of `n` floats, four partial sums.
static inline float row_sum(const float* x, int n) {
  f4 acc = splat(0.0f);
  int i = 0;
  for (; i + 4 <= n; i += 4) acc = add(acc, load(x + i));
  if (i < n) acc = add(acc, load_tail(x + i, n - i));
  return hsum(acc);
}

// ---- LayerNorm over the last axis (`cols`), two-pass moments as tfjs's `moments`. ----
// Writes y = x̂·γ + β, x̂ = (x − μ)·rstd and rstd = 1/√(σ² + eps) per row.
EXPORT(layer_norm)
void layer_norm(const float* x, const float* gamma, const float* beta, float* y, float* xhat, float* rstd,
                int rows, int cols, float eps) {
  float inv_n = 1.0f / (float)cols;
  for (int row = 0; row < rows; row++) {
    const float* xr = x + (long)row * cols;
    float* yr = y + (long)row * cols;
    float* hr = xhat + (long)row * cols;
    f4 mean = splat(row_sum(xr, cols) * inv_n);
    f4 acc = splat(0.0f);
    int i = 0;
    for (; i + 4 <= cols; i += 4) {
      f4 d = sub(load(xr + i), mean);
      acc = add(acc, mul(d, d));
    }
    int r = cols - i;
    if (r > 0) {
      f4 d = sub(load_tail(xr + i, r), mean);
      d = wasm_v128_and(d, wasm_i32x4_gt(wasm_i32x4_splat(r), wasm_i32x4_make(0, 1, 2, 3)));
      acc = add(acc, mul(d, d));
    }
    float var = hsum(acc) * inv_n;
    f4 rs = wasm_f32x4_div(splat(1.0f), wasm_f32x4_sqrt(splat(var + eps)));
    rstd[row] = wasm_f32x4_extract_lane(rs, 0);
    for (i = 0; i + 4 <= cols; i += 4) {
      f4 h = mul(sub(load(xr + i), mean), rs);
      store(hr + i, h);
      store(yr + i, add(mul(h, load(gamma + i)), load(beta + i)));
    }
    if (r > 0) {
      f4 h = mul(sub(load_tail(xr + i, r), mean), rs);
      store_tail(hr + i, h, r);
      store_tail(yr + i, add(mul(h, load_tail(gamma + i, r)), load_tail(beta + i, r)), r);
    }
  }
}

// g = dy·γ; dx = rstd·(g − mean(g) − x̂·mean(g·x̂)); dγ = Σ_rows dy·x̂; dβ = Σ_rows dy.
EXPORT(layer_norm_grad)
void layer_norm_grad(const float* dy, const float* xhat, const float* rstd, const float* gamma, float* dx,
                     float* dgamma, float* dbeta, int rows, int cols) {
  float inv_n = 1.0f / (float)cols;
  int i;
  for (i = 0; i < cols; i++) {
    dgamma[i] = 0.0f;
    dbeta[i] = 0.0f;
  }
  for (int row = 0; row < rows; row++) {
    const float* dr = dy + (long)row * cols;
    const float* hr = xhat + (long)row * cols;
    float* xr = dx + (long)row * cols;
    f4 sg = splat(0.0f), sgh = splat(0.0f);
    int r = 0;
    for (i = 0; i + 4 <= cols; i += 4) {
      f4 d = load(dr + i), h = load(hr + i);
      f4 g = mul(d, load(gamma + i));
      sg = add(sg, g);
      sgh = add(sgh, mul(g, h));
      store(dgamma + i, add(load(dgamma + i), mul(d, h)));
      store(dbeta + i, add(load(dbeta + i), d));
    }
    r = cols - i;
    if (r > 0) {
      f4 d = load_tail(dr + i, r), h = load_tail(hr + i, r);
      f4 g = mul(d, load_tail(gamma + i, r));
      sg = add(sg, g);
      sgh = add(sgh, mul(g, h));
      store_tail(dgamma + i, add(load_tail(dgamma + i, r), mul(d, h)), r);
      store_tail(dbeta + i, add(load_tail(dbeta + i, r), d), r);
    }
    f4 mg = splat(hsum(sg) * inv_n), mgh = splat(hsum(sgh) * inv_n), rs = splat(rstd[row]);
    for (i = 0; i + 4 <= cols; i += 4) {
      f4 g = mul(load(dr + i), load(gamma + i));
      store(xr + i, mul(sub(sub(g, mg), mul(load(hr + i), mgh)), rs));
    }
    if (r > 0) {
      f4 g = mul(load_tail(dr + i, r), load_tail(gamma + i, r));
      store_tail(xr + i, mul(sub(sub(g, mg), mul(load_tail(hr + i, r), mgh)), rs), r);
    }
  }
}

// ---- Softmax's gradient over the last axis (its forward stays tfjs's: XNNPACK's softmax is faster). ----
// dx = (dy − Σ dy·y)·y·scale per row (tfjs's Softmax gradient, in one pass over each row, times `scale`).
// dx may be dy (in place): each element of dy is read before dx's at the same place is written.
static inline void softmax_grad_rows(const float* y, const float* dy, float* dx, int rows, int cols, float scale) {
  f4 sc = splat(scale);
  for (int row = 0; row < rows; row++) {
    const float* yr = y + (long)row * cols;
    const float* dr = dy + (long)row * cols;
    float* xr = dx + (long)row * cols;
    int i = 0;
    f4 acc = splat(0.0f);
    for (; i + 4 <= cols; i += 4) acc = add(acc, mul(load(dr + i), load(yr + i)));
    int r = cols - i;
    if (r > 0) acc = add(acc, mul(load_tail(dr + i, r), load_tail(yr + i, r)));
    f4 s = splat(hsum(acc));
    for (i = 0; i + 4 <= cols; i += 4) store(xr + i, mul(mul(sub(load(dr + i), s), load(yr + i)), sc));
    if (r > 0) store_tail(xr + i, mul(mul(sub(load_tail(dr + i, r), s), load_tail(yr + i, r)), sc), r);
  }
}

EXPORT(softmax_grad) void softmax_grad(const float* y, const float* dy, float* dx, int rows, int cols) {
  softmax_grad_rows(y, dy, dx, rows, cols, 1.0f);
}

// ---- Matrix product c[m, n] = a[m, k] · b[k, n] on strided operands, for attention's slices. ----
// XNNPACK packs its right operand for every product at 15-50 ns per element: with attention's small
// slices (ViT-Ti: 197x64 · 64x197) the packing costs a third of the product. This kernel reads b as it
// is: 4x8 tiles of c held in eight f32x4 accumulators over k, then 4x4, 4x1, and single rows at the
// edges. a's element (i, p) is a[i·si + p·sp]: (si, sp) = (lda, 1) for a row-major a, (1, lda) for
// aᵀ (read in place, no transpose); b's row p starts at b + p·ldb and c's row i at c + i·ldc (rows
// inside a wider matrix, e.g. one head's columns of qkv). Each element is a float32 sum in k order, as
// a plain loop computes it. k >= 1 (callers handle k = 0); the accumulators start from the first term, so no path stores constant
// zeros (clang would turn such stores into a memset call, which this module has no libc for).
// With a bias (length n, or NULL for none) each element starts from bias[j] + the first term, then adds
// the rest in k order: XNNPACK's order (its accumulators start from the bias). Always inlined, so the
// constant NULL of the plain product folds away and it compiles to the code it had before the bias.
#define INLINE static inline __attribute__((always_inline))
INLINE f4 first4(f4 product, const float* bias, int j) { return bias ? add(load(bias + j), product) : product; }
INLINE float first1(float product, const float* bias, int j) { return bias ? bias[j] + product : product; }

INLINE void rows4_from(const float* a, const float* b, const float* bias, float* c, int k, int n, int si, int sp, int ldb, int ldc) {
  const float* a1 = a + si;
  const float* a2 = a1 + si;
  const float* a3 = a2 + si;
  int j = 0;
  for (; j + 8 <= n; j += 8) {
    f4 b0 = load(b + j), b1 = load(b + j + 4);
    f4 x0 = splat(a[0]), x1 = splat(a1[0]), x2 = splat(a2[0]), x3 = splat(a3[0]);
    f4 c00 = first4(mul(x0, b0), bias, j), c01 = first4(mul(x0, b1), bias, j + 4);
    f4 c10 = first4(mul(x1, b0), bias, j), c11 = first4(mul(x1, b1), bias, j + 4);
    f4 c20 = first4(mul(x2, b0), bias, j), c21 = first4(mul(x2, b1), bias, j + 4);
    f4 c30 = first4(mul(x3, b0), bias, j), c31 = first4(mul(x3, b1), bias, j + 4);
    const float* bp = b + j + ldb;
    for (int p = 1; p < k; p++, bp += ldb) {
      b0 = load(bp);
      b1 = load(bp + 4);
      f4 x = splat(a[(long)p * sp]);
      c00 = add(c00, mul(x, b0));
      c01 = add(c01, mul(x, b1));
      x = splat(a1[(long)p * sp]);
      c10 = add(c10, mul(x, b0));
      c11 = add(c11, mul(x, b1));
      x = splat(a2[(long)p * sp]);
      c20 = add(c20, mul(x, b0));
      c21 = add(c21, mul(x, b1));
      x = splat(a3[(long)p * sp]);
      c30 = add(c30, mul(x, b0));
      c31 = add(c31, mul(x, b1));
    }
    float* cp = c + j;
    store(cp, c00);
    store(cp + 4, c01);
    store(cp + ldc, c10);
    store(cp + ldc + 4, c11);
    store(cp + 2 * ldc, c20);
    store(cp + 2 * ldc + 4, c21);
    store(cp + 3 * ldc, c30);
    store(cp + 3 * ldc + 4, c31);
  }
  for (; j + 4 <= n; j += 4) {
    f4 b0 = load(b + j);
    f4 c0 = first4(mul(splat(a[0]), b0), bias, j), c1 = first4(mul(splat(a1[0]), b0), bias, j);
    f4 c2 = first4(mul(splat(a2[0]), b0), bias, j), c3 = first4(mul(splat(a3[0]), b0), bias, j);
    const float* bp = b + j + ldb;
    for (int p = 1; p < k; p++, bp += ldb) {
      b0 = load(bp);
      c0 = add(c0, mul(splat(a[(long)p * sp]), b0));
      c1 = add(c1, mul(splat(a1[(long)p * sp]), b0));
      c2 = add(c2, mul(splat(a2[(long)p * sp]), b0));
      c3 = add(c3, mul(splat(a3[(long)p * sp]), b0));
    }
    store(c + j, c0);
    store(c + ldc + j, c1);
    store(c + 2 * ldc + j, c2);
    store(c + 3 * ldc + j, c3);
  }
  for (; j < n; j++) {
    float bv = b[j];
    float s0 = first1(a[0] * bv, bias, j), s1 = first1(a1[0] * bv, bias, j);
    float s2 = first1(a2[0] * bv, bias, j), s3 = first1(a3[0] * bv, bias, j);
    for (int p = 1; p < k; p++) {
      bv = b[(long)p * ldb + j];
      s0 += a[(long)p * sp] * bv;
      s1 += a1[(long)p * sp] * bv;
      s2 += a2[(long)p * sp] * bv;
      s3 += a3[(long)p * sp] * bv;
    }
    c[j] = s0;
    c[ldc + j] = s1;
    c[2 * ldc + j] = s2;
    c[3 * ldc + j] = s3;
  }
}

INLINE void row1_from(const float* a, const float* b, const float* bias, float* c, int k, int n, int sp, int ldb) {
  int j = 0;
  for (; j + 8 <= n; j += 8) {
    f4 x = splat(a[0]);
    f4 c0 = first4(mul(x, load(b + j)), bias, j), c1 = first4(mul(x, load(b + j + 4)), bias, j + 4);
    const float* bp = b + j + ldb;
    for (int p = 1; p < k; p++, bp += ldb) {
      x = splat(a[(long)p * sp]);
      c0 = add(c0, mul(x, load(bp)));
      c1 = add(c1, mul(x, load(bp + 4)));
    }
    store(c + j, c0);
    store(c + j + 4, c1);
  }
  for (; j < n; j++) {
    float s = first1(a[0] * b[j], bias, j);
    for (int p = 1; p < k; p++) s += a[(long)p * sp] * b[(long)p * ldb + j];
    c[j] = s;
  }
}

INLINE void product_from(const float* a, const float* b, const float* bias, float* c, int m, int k, int n, int si, int sp, int ldb,
                         int ldc) {
  if (k <= 0) return;
  int i = 0;
  for (; i + 4 <= m; i += 4) rows4_from(a + (long)i * si, b, bias, c + (long)i * ldc, k, n, si, sp, ldb, ldc);
  for (; i < m; i++) row1_from(a + (long)i * si, b, bias, c + (long)i * ldc, k, n, sp, ldb);
}

// The plain product (no bias) on strided operands.
static void product(const float* a, const float* b, float* c, int m, int k, int n, int si, int sp, int ldb, int ldc) {
  product_from(a, b, 0, c, m, k, n, si, sp, ldb, ldc);
}

// Packed operands: a [m, k] (or aᵀ, a stored [k, m]), b [k, n], c [m, n].
EXPORT(matmul) void matmul(const float* a, const float* b, float* c, int m, int k, int n, int transpose_a) {
  product(a, b, c, m, k, n, transpose_a ? 1 : k, transpose_a ? m : 1, n, n);
}

// c[m, n] = a[m, k] · b[k, n] + bias[n] (or aᵀ · b + bias), each element bias[j] + the terms in k order.
EXPORT(matmul_bias)
void matmul_bias(const float* a, const float* b, const float* bias, float* c, int m, int k, int n, int transpose_a) {
  product_from(a, b, bias, c, m, k, n, transpose_a ? 1 : k, transpose_a ? m : 1, n, n);
}

// ---- Multi-head attention on the packed qkv layout (core's qkvAttention). ----
// qkv is [B, N, 3·d] with d = heads·hd, as the qkv linear writes it: head h of image b reads q's rows
// at qkv + b·N·3d + h·hd, k's at +d and v's at +2d, each row 3d floats after the previous one. The
// context [B, N, d] gets head h's columns at h·hd (row stride d); scores and probabilities are packed
// [B·heads, N, N]. No split, head transpose or concatenation is materialised: the products read the
// heads in place (strided operands of `product`), except kᵀ and vᵀ, copied per head into `scratch`
// ([hd, N]) because the product reads its right operand's rows contiguously.

// dst[c·rows + r] = src[r·ld + c]·scale: a [rows, cols] block of row stride ld into a packed [cols, rows].
static inline void transpose_block(const float* src, float* dst, int rows, int cols, int ld, float scale) {
  for (int r = 0; r < rows; r++) {
    const float* sr = src + (long)r * ld;
    for (int c = 0; c < cols; c++) dst[(long)c * rows + r] = sr[c] * scale;
  }
}

// scores[b·heads + h] = q·(kᵀ·scale) of head h of image b (scale = 1/√hd, folded into the copy of kᵀ).
EXPORT(attention_scores)
void attention_scores(const float* qkv, float* scratch, float* scores, int batch, int tokens, int heads, int hd, float scale) {
  int d = heads * hd, ld = 3 * d;
  for (int b = 0; b < batch; b++) {
    for (int h = 0; h < heads; h++) {
      const float* q = qkv + (long)b * tokens * ld + h * hd;
      transpose_block(q + d, scratch, tokens, hd, ld, scale);
      product(q, scratch, scores + (long)(b * heads + h) * tokens * tokens, tokens, hd, tokens, ld, 1, tokens, tokens);
    }
  }
}

// context[b, :, h·hd : (h+1)·hd] = probs[b·heads + h] · v of head h of image b.
EXPORT(attention_context)
void attention_context(const float* probs, const float* qkv, float* context, int batch, int tokens, int heads, int hd) {
  int d = heads * hd, ld = 3 * d;
  for (int b = 0; b < batch; b++) {
    for (int h = 0; h < heads; h++) {
      const float* v = qkv + (long)b * tokens * ld + 2 * d + h * hd;
      product(probs + (long)(b * heads + h) * tokens * tokens, v, context + (long)b * tokens * d + h * hd,
              tokens, tokens, hd, tokens, 1, ld, d);
    }
  }
}

// The gradient of the context into dqkv [B, N, 3d], per head (P = probs, dC = dcontext's head columns):
// dP = dC·vᵀ, dS = (dP − Σ dP·P)·P·scale (softmax's gradient and the score scale, in place in `ds`
// [N, N]), dq = dS·k, dk = dSᵀ·q, dv = Pᵀ·dC. Every element of dqkv is written.
EXPORT(attention_grad)
void attention_grad(const float* dcontext, const float* qkv, const float* probs, float* scratch, float* ds, float* dqkv,
                    int batch, int tokens, int heads, int hd, float scale) {
  int d = heads * hd, ld = 3 * d;
  for (int b = 0; b < batch; b++) {
    for (int h = 0; h < heads; h++) {
      long at = (long)b * tokens * ld + h * hd;
      const float* q = qkv + at;
      const float* dc = dcontext + (long)b * tokens * d + h * hd;
      const float* p = probs + (long)(b * heads + h) * tokens * tokens;
      float* dq = dqkv + at;
      transpose_block(q + 2 * d, scratch, tokens, hd, ld, 1.0f);
      product(dc, scratch, ds, tokens, hd, tokens, d, 1, tokens, tokens);
      softmax_grad_rows(p, ds, ds, tokens, tokens, scale);
      product(ds, q + d, dq, tokens, tokens, hd, tokens, 1, ld, ld);
      product(ds, q, dq + d, tokens, tokens, hd, 1, tokens, ld, ld);
      product(p, dc, dq + 2 * d, tokens, tokens, hd, 1, tokens, d, ld);
    }
  }
}
