#!/usr/bin/python3
"""ViT-Ti/16 (224) train-step and inference throughput in PyTorch on CPU: the anchor for benchmarks/speed.ts.

The same step as vpeft's: a timm-layout ViT (pre-norm blocks, fused qkv, exact GELU, LayerNorm eps 1e-6,
CLS token, learned position embedding, final norm, linear head), softmax cross-entropy, Adam on the
trainable parameters only. Settings: full fine-tuning, LoRA r=8 (alpha 8) on the q and v slices of the
fused qkv, BitFit (every bias incl. LayerNorm biases, + head), VPT-deep with 10 tokens per block, linear
probe (head only), and inference (no grad).

Installs nothing. Launch it tuned (benchmarks/speed.ts does):

    OMP_WAIT_POLICY=PASSIVE OPENBLAS_NUM_THREADS=2 /usr/bin/python3 benchmarks/speed_torch.py --batch 8

Prints one JSON object per line: first {"kind": "setup", ...} (torch version, threads, BLAS library
mapped into the process), then {"kind": "row", "mode", "batch", "img_per_s", "s_per_step", "max_rss_mb"}
per mode. Prints "PyTorch not found" (exit 3) when torch cannot be imported.
"""
import argparse
import json
import math
import os
import resource
import statistics
import sys
import time

try:
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
except ImportError:
    print("PyTorch not found")
    sys.exit(3)

DIM, DEPTH, HEADS, MLP, PATCH, SIZE, CLASSES = 192, 12, 3, 768, 16, 224, 10


class LoRAQV(nn.Module):
    """Low-rank updates of the q and v slices of a fused qkv output: y[:, q] += s·B_q A_q x, same for v."""

    def __init__(self, dim: int, rank: int, alpha: float):
        super().__init__()
        self.scale = alpha / rank
        self.a_q = nn.Parameter(torch.empty(rank, dim))
        self.b_q = nn.Parameter(torch.zeros(dim, rank))
        self.a_v = nn.Parameter(torch.empty(rank, dim))
        self.b_v = nn.Parameter(torch.zeros(dim, rank))
        nn.init.kaiming_uniform_(self.a_q, a=math.sqrt(5))
        nn.init.kaiming_uniform_(self.a_v, a=math.sqrt(5))

    def forward(self, x: torch.Tensor, qkv: torch.Tensor) -> torch.Tensor:
        dq = F.linear(F.linear(x, self.a_q), self.b_q) * self.scale
        dv = F.linear(F.linear(x, self.a_v), self.b_v) * self.scale
        return qkv + torch.cat([dq, torch.zeros_like(dq), dv], dim=-1)


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.norm1 = nn.LayerNorm(DIM, eps=1e-6)
        self.qkv = nn.Linear(DIM, 3 * DIM)
        self.proj = nn.Linear(DIM, DIM)
        self.norm2 = nn.LayerNorm(DIM, eps=1e-6)
        self.fc1 = nn.Linear(DIM, MLP)
        self.fc2 = nn.Linear(MLP, DIM)
        self.lora = None

    def attention(self, x: torch.Tensor) -> torch.Tensor:
        b, n, d = x.shape
        h = self.norm1(x)
        qkv = self.qkv(h)
        if self.lora is not None:
            qkv = self.lora(h, qkv)
        q, k, v = qkv.reshape(b, n, 3, HEADS, d // HEADS).permute(2, 0, 3, 1, 4)
        attn = (q * (d // HEADS) ** -0.5) @ k.transpose(-2, -1)
        ctx = (attn.softmax(dim=-1) @ v).transpose(1, 2).reshape(b, n, d)
        return self.proj(ctx)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attention(x)
        return x + self.fc2(F.gelu(self.fc1(self.norm2(x))))


class ViT(nn.Module):
    def __init__(self):
        super().__init__()
        grid = SIZE // PATCH
        self.patch_embed = nn.Conv2d(3, DIM, PATCH, PATCH)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, DIM))
        self.pos_embed = nn.Parameter(torch.randn(1, grid * grid + 1, DIM) * 0.02)
        self.blocks = nn.ModuleList(Block() for _ in range(DEPTH))
        self.norm = nn.LayerNorm(DIM, eps=1e-6)
        self.head = nn.Linear(DIM, CLASSES)
        self.prompts = None  # VPT-deep: [DEPTH, p, DIM]

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        b = images.shape[0]
        x = self.patch_embed(images).flatten(2).transpose(1, 2)
        x = torch.cat([self.cls_token.expand(b, -1, -1), x], dim=1) + self.pos_embed
        for i, block in enumerate(self.blocks):
            if self.prompts is not None:
                p = self.prompts.shape[1]
                prompts = self.prompts[i].unsqueeze(0).expand(b, -1, -1)
                rest = x[:, 1:] if i == 0 else x[:, 1 + p:]
                x = torch.cat([x[:, :1], prompts, rest], dim=1)
            x = block(x)
        return self.head(self.norm(x)[:, 0])


def configure(model: ViT, mode: str) -> list:
    """Freezes the backbone and adds/unfreezes what `mode` trains; returns the trainable parameters."""
    for p in model.parameters():
        p.requires_grad_(mode == "full")
    if mode == "lora":
        for block in model.blocks:
            block.lora = LoRAQV(DIM, 8, 8.0)
    elif mode == "vpt":
        bound = math.sqrt(6.0 / (3 * PATCH * PATCH + DIM))
        model.prompts = nn.Parameter(torch.empty(DEPTH, 10, DIM).uniform_(-bound, bound))
    elif mode == "bitfit":
        for name, p in model.named_parameters():
            if name.endswith(".bias"):
                p.requires_grad_(True)
    for p in model.head.parameters():
        p.requires_grad_(True)
    return [p for p in model.parameters() if p.requires_grad]


def blas_in_use() -> str:
    """The BLAS shared objects mapped into this process (torch resolves libblas.so.3 at run time)."""
    torch.ones(64, 64) @ torch.ones(64, 64)
    libs = set()
    with open("/proc/self/maps") as maps:
        for line in maps:
            path = line.split()[-1]
            base = os.path.basename(path)
            if "blas" in base or "lapack" in base:
                libs.add(os.path.realpath(path))
    return ", ".join(sorted(libs)) or "none found in /proc/self/maps"


def run_mode(mode: str, batch: int, steps: int) -> dict:
    torch.manual_seed(0)
    model = ViT()
    images = torch.randn(batch, 3, SIZE, SIZE)
    labels = torch.arange(batch) % CLASSES
    if mode == "inference":
        model.eval()
        def step():
            with torch.no_grad():
                model(images)
        trainable = 0
    else:
        params = configure(model, mode)
        trainable = sum(p.numel() for p in params)
        optimizer = torch.optim.Adam(params, lr=1e-4)
        def step():
            optimizer.zero_grad(set_to_none=True)
            F.cross_entropy(model(images), labels).backward()
            optimizer.step()
    step()  # warm-up
    times = []
    for _ in range(steps):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    s = statistics.median(times)
    return {"kind": "row", "mode": mode, "batch": batch, "img_per_s": batch / s, "s_per_step": s,
            "trainable": trainable, "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batch", type=int, nargs="+", default=[8])
    parser.add_argument("--modes", default="full,lora,bitfit,vpt,linear,inference")
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(json.dumps({
        "kind": "setup", "torch": torch.__version__, "threads": torch.get_num_threads(), "blas": blas_in_use(),
        "env": {k: os.environ.get(k) for k in ("OMP_WAIT_POLICY", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS")},
    }), flush=True)
    for batch in args.batch:
        for mode in args.modes.split(","):
            print(json.dumps(run_mode(mode, batch, args.steps)), flush=True)


if __name__ == "__main__":
    main()
