#!/usr/bin/env python3
"""Fits the erf coefficients of fused.c (numpy + mpmath; run by hand, not at build time).

Small |x| < 0.921875: erf(x) = x + x*P(x^2), P of degree 5 (the -1 keeps 2/sqrt(pi)'s rounding out).
Large: erf(|x|) = 1 - exp(Q(|x|)), Q of degree 8 fitted to log(erfc) on [0.921875, 3.93].
Least squares on Chebyshev nodes, reweighted towards the largest errors (Lawson) to approach minimax;
prints each fit's worst error when evaluated in float32 Horner steps, then the coefficients.
"""
import numpy as np
import mpmath as mp

mp.mp.dps = 30
f32 = np.float32
T = 0.921875


def fit(fun, a, b, deg, var):
    n = 4000
    k = np.arange(n)
    xs = (a + b) / 2 + (b - a) / 2 * np.cos(np.pi * (k + 0.5) / n)
    ys = np.array([float(fun(x)) for x in xs])
    V = np.vander(var(xs), deg + 1)
    w = np.ones(n)
    for _ in range(30):
        c, *_ = np.linalg.lstsq(V * w[:, None], ys * w, rcond=None)
        err = np.abs(V @ c - ys)
        w = w * (err / err.max()) ** 0.5 + 1e-3
        w /= w.max()
    return c.astype(f32)


def horner32(c, v):
    r = f32(c[0])
    for ci in c[1:]:
        r = f32(f32(r * v) + f32(ci))
    return r


small = fit(lambda x: mp.erf(x) / x - 1, 1e-9, T, 5, lambda x: x * x)
worst = max(abs(float(f32(x + f32(horner32(small, f32(x * x)) * x))) - float(mp.erf(float(x)))) / float(mp.erf(float(x)))
            for x in np.linspace(0, T, 40001).astype(f32)[1:])
print('small: max relative error', worst, '=', worst / 2**-24, 'ulp')
large = fit(lambda t: mp.log(mp.erfc(t)), T, 3.93, 8, lambda x: x)
worst = max(abs(float(f32(1) - f32(np.exp(float(horner32(large, x))))) - float(mp.erf(float(x))))
            for x in np.linspace(T, 3.93, 20001).astype(f32))
print('large: max absolute error', worst, '=', worst / 2**-24, 'ulp of 1 (exp in double)')
for name, c in (('P', small), ('Q', large)):
    print(name, ', '.join(repr(float(v)) + 'f' for v in c))
