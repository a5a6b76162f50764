#!/usr/bin/python3
"""Matrix-product throughput of PyTorch on CPU for the GEMM shapes of a ViT-Ti/16 (224) step at batch 8:
the anchor for benchmarks/gemm-ceiling.ts. Installs nothing; prints "PyTorch not found" (exit 3) without torch.

    OMP_WAIT_POLICY=PASSIVE OPENBLAS_NUM_THREADS=1 /usr/bin/python3 benchmarks/gemm_torch.py --threads 1

Prints one JSON object per line: {"kind": "setup", ...}, then {"kind": "row", "name", "gflops"} per shape.
"""
import argparse
import json
import os
import statistics
import sys
import time

try:
    import torch
except ImportError:
    print("PyTorch not found")
    sys.exit(3)

parser = argparse.ArgumentParser()
parser.add_argument("--threads", type=int, default=1)
parser.add_argument("--shapes", required=True, help="JSON list of [name, batch, m, k, n]")
parser.add_argument("--seconds", type=float, default=1.0)
args = parser.parse_args()
torch.set_num_threads(args.threads)


def blas() -> str:
    try:
        with open("/proc/self/maps") as maps:
            libs = sorted({line.split()[-1].split("/")[-1] for line in maps if "blas" in line.lower()})
        return ", ".join(libs) or "unknown"
    except OSError:
        return "unknown"


print(json.dumps({"kind": "setup", "torch": torch.__version__, "threads": torch.get_num_threads(), "blas": blas()}), flush=True)
for name, batch, m, k, n in json.loads(args.shapes):
    gen = torch.Generator().manual_seed(0)
    a = torch.rand(batch, m, k, generator=gen) if batch > 1 else torch.rand(m, k, generator=gen)
    b = torch.rand(batch, k, n, generator=gen) if batch > 1 else torch.rand(k, n, generator=gen)
    product = torch.bmm if batch > 1 else torch.mm
    for _ in range(3):
        product(a, b)
    times = []
    deadline = time.perf_counter() + args.seconds
    while time.perf_counter() < deadline or len(times) < 5:
        t0 = time.perf_counter()
        product(a, b)
        times.append(time.perf_counter() - t0)
    print(json.dumps({"kind": "row", "name": name, "gflops": 2 * batch * m * k * n / statistics.median(times) / 1e9}), flush=True)
