"""Does ``torch.compile`` make a small GAN step faster on this CPU?

A probe for one lever of the speed work, kept so the measurement can be repeated on
another host or torch version. It times the alternating non-saturating step of the
``mlp2d-disk`` benchmark task (G: 100-d noise, 3x256 ReLU, tanh to 2-D; D: 3x256
LeakyReLU 0.2; batch 64; Adam 2e-4, betas (0.5, 0.999)) written as plain PyTorch in five
ways:

- ``eager``: the step as written (Adam's default implementation);
- ``eager+fused``: the same with Adam's fused kernel (``fused=True``, what ganforge uses);
- ``compiled``: G's forward and each phase's loss (D's on the real and detached fake
  batch, G's through D) wrapped in ``torch.compile`` (inductor; compiled forward and
  backward graphs), the optimizer eager;
- ``compiled+opt``: the same with each optimizer's ``step`` compiled too;
- ``compiled-step``: the whole step function (both phases, backward calls and optimizer
  steps) in one ``torch.compile``; dynamo splits it where it cannot trace.

Each variant runs in its own process (so compilation caches do not leak between them),
after a warm-up that includes compilation; the rate is the median of ``--repeats``
timed blocks of ``--steps`` steps, with their range.

    python benchmarks/compile_probe.py --threads 1 2
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time

VARIANTS = ("eager", "eager+fused", "compiled", "compiled+opt", "compiled-step")


def child(variant: str, threads: int, steps: int, repeats: int) -> dict:
    import torch
    from torch import nn

    torch.manual_seed(0)
    torch.set_num_threads(threads)

    def mlp(n_in: int, n_out: int, act) -> nn.Sequential:
        return nn.Sequential(
            nn.Linear(n_in, 256), act(), nn.Linear(256, 256), act(),
            nn.Linear(256, 256), act(), nn.Linear(256, n_out),
        )  # fmt: skip

    G = nn.Sequential(mlp(100, 2, nn.ReLU), nn.Tanh())
    D = mlp(2, 1, lambda: nn.LeakyReLU(0.2))
    batch = 64
    fused = {"fused": True} if variant == "eager+fused" else {}
    opt_g = torch.optim.Adam(G.parameters(), 2e-4, betas=(0.5, 0.999), **fused)
    opt_d = torch.optim.Adam(D.parameters(), 2e-4, betas=(0.5, 0.999), **fused)
    softplus = nn.functional.softplus

    def real() -> torch.Tensor:  # the unit disk
        r, t = torch.rand(batch, 1).sqrt(), torch.rand(batch, 1) * (2 * torch.pi)
        return torch.cat([r * t.cos(), r * t.sin()], 1)

    def d_loss(x: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
        return softplus(-D(x)).mean() + softplus(D(fake)).mean()

    def g_loss(fake: torch.Tensor) -> torch.Tensor:
        return softplus(-D(fake)).mean()

    generate, d_step, g_step = G, opt_d.step, opt_g.step
    if variant.startswith("compiled"):
        generate, d_loss, g_loss = torch.compile(G), torch.compile(d_loss), torch.compile(g_loss)
    if variant == "compiled+opt":
        d_step, g_step = torch.compile(opt_d.step), torch.compile(opt_g.step)

    def step() -> None:
        fake = generate(torch.randn(batch, 100))
        loss = d_loss(real(), fake.detach())
        opt_d.zero_grad(set_to_none=True)
        loss.backward()
        d_step()
        loss = g_loss(fake)
        opt_g.zero_grad(set_to_none=True)
        loss.backward()
        g_step()

    if variant == "compiled-step":
        step = torch.compile(step)
    start = time.perf_counter()
    for _ in range(20):
        step()
    warmup = time.perf_counter() - start
    rates = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(steps):
            step()
        rates.append(steps / (time.perf_counter() - start))
    return {"variant": variant, "threads": threads, "warmup_s": warmup, "rates": rates}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    p.add_argument("--steps", type=int, default=400)
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--child", nargs=2, metavar=("VARIANT", "THREADS"), help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        out = child(args.child[0], int(args.child[1]), args.steps, args.repeats)
        print(json.dumps(out))
        return 0
    print("| threads | variant | steps/s (median) | range | vs eager | warm-up incl. compile |")
    print("|---|---|---|---|---|---|")
    for threads in args.threads:
        eager = None
        for variant in VARIANTS:
            cmd = [sys.executable, __file__, "--child", variant, str(threads)]
            cmd += ["--steps", str(args.steps), "--repeats", str(args.repeats)]
            proc = subprocess.run(cmd, capture_output=True, text=True)
            if proc.returncode:
                err = proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else "?"
                print(f"| {threads} | {variant} | failed: {err[:120]} | | | |", flush=True)
                continue
            res = json.loads(proc.stdout)
            med = statistics.median(res["rates"])
            if variant == "eager":
                eager = med
            print(
                f"| {threads} | {variant} | {med:.0f} | {min(res['rates']):.0f}–"
                f"{max(res['rates']):.0f} | {f'{med / eager:.2f}×' if eager else '–'} | "
                f"{res['warmup_s']:.1f} s |",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
