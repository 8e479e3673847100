"""Training throughput: ganforge's trainer against a minimal hand-written PyTorch loop.

Both sides train the same architecture (built once by ganforge's model builders, so the
layers are identical) with the same loss, optimizer, batch size and data sampling; only
the loop differs. The two are interleaved after a warm-up and repeated; the table shows
median steps/s and the median and range of the per-repeat ratio ganforge / hand-written.
Within a repeat every side runs its steps in ``--slices`` interleaved slices (default 4),
so a change in the host's speed while a repeat runs reaches all sides alike.

    python benchmarks/throughput.py            # full run
    python benchmarks/throughput.py --quick    # under a minute
    python benchmarks/throughput.py --json     # one JSON object per task
    python benchmarks/throughput.py --tf-python /tmp/tfenv/bin/python  # + TF/Keras
    python benchmarks/throughput.py --update alternating   # one update scheme only
    python benchmarks/throughput.py --precision bf16       # bf16 autocast on every side
    python benchmarks/throughput.py --compile              # ganforge with --compile

Every task runs under both update schemes (``--update both``, the default), as separate
rows: ``alternating`` (ganforge's default: D update, then a G step through the updated D,
reusing the last D update's fakes) and ``simultaneous`` (the tutorials' step: one G
forward and one D pass on the fakes serve both updates, G's gradient through D before its
update). The
hand-written loop and the TF reference run the same algorithm as the row says, so each
ratio compares like with like. ``--precision bf16`` runs every side with bf16 compute and
fp32 weights (ganforge ``--precision bf16``, ``torch.autocast`` in the hand-written loop,
Keras' ``mixed_bfloat16`` policy); it needs a CPU with native bf16 (AVX-512 BF16/AMX).
``--compile`` times ganforge with ``--compile`` (each step one compiled graph; the
warm-up includes the compile); the hand-written loop stays eager, the TF reference runs
its ``tf.function`` graph as always.

With ``--tf-python`` the TF/Keras version of each task (``benchmarks/tf_reference.py``,
run by that interpreter in its own process) is timed in the same rotation, so every side
sees the same machine state: twice, as TensorFlow runs by default on this (AMD) CPU,
with its oneDNN graph rewrites off, and with ``TF_ENABLE_ONEDNN_OPTS=1``.

The hand-written loop is what the classic tutorials write: default PyTorch threads,
``zero_grad()``, a fresh G forward for the D and the G phase, ``.item()`` each step for
the printed losses (``--baseline-no-item`` drops that).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from ganforge.config import TrainConfig
from ganforge.data import DatasetInfo, register_dataset
from ganforge.data.base import Dataset
from ganforge.pixels import to_uint8
from ganforge.training.trainer import Trainer


class RandomImages(Dataset):
    """A fixed bank of random images in [-1, 1]; batches are drawn by index (as the
    hand-written loop does), so data loading costs the same on both sides."""

    kind = "image"

    def __init__(self, shape: tuple[int, ...], n: int = 2048) -> None:
        self.name = f"bench-{'x'.join(map(str, shape))}"
        self.shape = shape
        super().__init__()
        self.bank = torch.rand((n, *shape), generator=torch.Generator().manual_seed(0)) * 2 - 1

    def sample_batch(self, batch_size, generator):
        idx = torch.randint(len(self.bank), (batch_size,), generator=generator)
        return self.bank[idx], None

    def sample_real(self, n, seed):
        return to_uint8(self.bank[:n])

    def decode(self, x):
        return to_uint8(x)


for _shape in ((1, 28, 28), (3, 64, 64)):
    _name = f"bench-{'x'.join(map(str, _shape))}"
    register_dataset(
        DatasetInfo(
            _name,
            (lambda s: lambda cfg: RandomImages(s))(_shape),
            "benchmark images",
            "dcgan",
            kind="image",
        )
    )


@dataclass(frozen=True)
class Task:
    name: str
    dataset: str
    preset: str
    loss: str
    batch: int
    steps: int
    quick_steps: int
    model: dict | None = None


TASKS = [
    Task("mlp2d-disk", "disk", "mlp2d", "nonsaturating", 64, 600, 150),
    Task("wgan-clip-disk", "disk", "mlp2d", "wasserstein", 64, 200, 50),
    Task("mlp-mnist", "bench-1x28x28", "mlp-mnist", "nonsaturating", 256, 80, 20),
    Task("dcgan28", "bench-1x28x28", "dcgan", "nonsaturating", 64, 12, 3),
    Task("dcgan64", "bench-3x64x64", "dcgan64", "nonsaturating", 64, 3, 1),
]


def make_trainer(
    task: Task,
    out: Path,
    steps: int,
    threads: int | None = None,
    defaults: bool = False,
    progress: bool = False,
    update: str = "alternating",
    precision: str = "fp32",
    compile: bool = False,
) -> Trainer:
    """A trainer for ``task`` writing to ``out``; snapshots and checkpoints off unless
    ``defaults`` keeps the default intervals."""
    intervals = {} if defaults else {"sample_every": 0, "checkpoint_every": 0}
    cfg = TrainConfig(
        threads=threads,
        dataset=task.dataset,
        preset=task.preset,
        loss=task.loss,
        batch_size=task.batch,
        steps=steps,
        seed=0,
        out=str(out),
        update=update,
        precision=precision,
        compile=compile,
        **intervals,
    )
    trainer = Trainer(cfg, progress=progress)
    trainer.run_dir = out
    for sub in ("checkpoints", "samples", "plots"):
        (out / sub).mkdir(parents=True, exist_ok=True)
    return trainer


def run_ganforge(trainer: Trainer, steps: int) -> float:
    """Time ``steps`` steps of the trainer's own loop (logging included, at its default
    interval), without the final checkpoint/evaluation."""
    trainer.cfg = dataclasses.replace(
        trainer.cfg, steps=trainer.step + steps, checkpoint_every=10**9
    )
    # The loop's last step writes the end-of-run checkpoint (``_periodic(last=True)``);
    # that is not part of a step, and the hand-written loop writes none: skip it. Nothing
    # else is due in a timed block (snapshots and the best-model evaluation are off).
    trainer._periodic = lambda last: None
    t0 = time.perf_counter()
    trainer._loop()
    return time.perf_counter() - t0


class Baseline:
    """The hand-written loop, on copies of the same modules and optimizer settings."""

    def __init__(self, trainer: Trainer, item: bool) -> None:
        import copy

        self.simultaneous = trainer.cfg.update == "simultaneous"
        bf16 = trainer.cfg.precision == "bf16"
        self.autocast = (
            (lambda: torch.autocast("cpu", dtype=torch.bfloat16))
            if bf16
            else contextlib.nullcontext
        )
        cfg = trainer.cfg
        self.G, self.D = copy.deepcopy(trainer.G), copy.deepcopy(trainer.D)
        self.data, self.cfg, self.item = trainer.data, cfg, item
        self.clip = cfg.clip_value
        self.wasserstein = trainer.loss.output == "raw"
        if cfg.optimizer == "adam":
            self.opt_g = torch.optim.Adam(self.G.parameters(), lr=cfg.lr_g, betas=cfg.betas)
            self.opt_d = torch.optim.Adam(self.D.parameters(), lr=cfg.lr_d, betas=cfg.betas)
        else:
            self.opt_g = torch.optim.RMSprop(self.G.parameters(), lr=cfg.lr_g)
            self.opt_d = torch.optim.RMSprop(self.D.parameters(), lr=cfg.lr_d)
        self.gen = torch.Generator().manual_seed(1)
        b = cfg.batch_size
        self.ones, self.zeros = torch.ones(b), torch.zeros(b)

    def _d_loss(self, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
        with self.autocast():
            d_real, d_fake = self.D(real).float(), self.D(fake).float()
        return self._d_loss_from(d_real, d_fake)

    def _d_loss_from(self, d_real: torch.Tensor, d_fake: torch.Tensor) -> torch.Tensor:
        if self.wasserstein:
            return d_fake.mean() - d_real.mean()
        return F.binary_cross_entropy_with_logits(
            d_real, self.ones
        ) + F.binary_cross_entropy_with_logits(d_fake, self.zeros)

    def _g(self, z: torch.Tensor) -> torch.Tensor:
        with self.autocast():
            return self.G(z)

    def _d(self, x: torch.Tensor) -> torch.Tensor:
        with self.autocast():
            return self.D(x).float()

    def _g_loss(self, out: torch.Tensor) -> torch.Tensor:
        return (
            -out.mean() if self.wasserstein else F.binary_cross_entropy_with_logits(out, self.ones)
        )

    def _d_step(self, d_loss: torch.Tensor) -> None:
        self.opt_d.zero_grad()
        d_loss.backward(inputs=list(self.D.parameters()))  # the fakes may carry G's graph
        self.opt_d.step()
        if self.clip:
            for p in self.D.parameters():
                p.data.clamp_(-self.clip, self.clip)

    def _simultaneous(self, b: int, nz: int) -> tuple[torch.Tensor, torch.Tensor]:
        """The tutorials' step (TensorFlow's DCGAN ``train_step``): one G forward and one D
        pass on the fakes serve both losses; G's gradient through D before D moves."""
        real, _ = self.data.sample_batch(b, self.gen)
        fake = self._g(torch.randn(b, nz))
        d_real, d_fake = self._d(real), self._d(fake)
        g_loss = self._g_loss(d_fake)
        self.opt_g.zero_grad()
        g_loss.backward(inputs=list(self.G.parameters()), retain_graph=True)
        d_loss = self._d_loss_from(d_real, d_fake)
        self._d_step(d_loss)
        self.opt_g.step()
        return d_loss, g_loss

    def run(self, steps: int) -> float:
        cfg, b, nz = self.cfg, self.cfg.batch_size, self.cfg.model.noise_dim
        t0 = time.perf_counter()
        for _ in range(steps):
            for _ in range(cfg.n_critic - self.simultaneous):
                real, _ = self.data.sample_batch(b, self.gen)
                d_loss = self._d_loss(real, self._g(torch.randn(b, nz)).detach())
                self._d_step(d_loss)
            if self.simultaneous:
                d_loss, g_loss = self._simultaneous(b, nz)
            else:
                g_loss = self._g_loss(self._d(self._g(torch.randn(b, nz))))
                self.opt_g.zero_grad()
                g_loss.backward()
                self.opt_g.step()
            if self.item:
                d_loss.item(), g_loss.item()
        return time.perf_counter() - t0


TF_SIDES = ("tf", "tf_onednn")
UPDATES = ("alternating", "simultaneous")


class TFReference:
    """The TF/Keras version of a task, timed by ``tf_reference.py --serve`` in another
    interpreter: it traces and warms up on start, then runs N steps per request while
    this process waits."""

    def __init__(
        self, python: str, task: str, onednn: bool, update: str, precision: str = "fp32"
    ) -> None:
        script = Path(__file__).with_name("tf_reference.py")
        env = {**os.environ, "TF_ENABLE_ONEDNN_OPTS": "1" if onednn else "0"}
        self.proc = subprocess.Popen(
            [python, str(script), "--task", task, "--serve", "--update", update]
            + ["--precision", precision],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        line = self.proc.stdout.readline().strip()
        if line != "ready":
            self.close()
            raise RuntimeError(f"tf_reference.py for {task} did not start (got {line!r})")

    def run(self, steps: int) -> float:
        self.proc.stdin.write(f"{steps}\n")
        self.proc.stdin.flush()
        return float(self.proc.stdout.readline())

    def close(self) -> None:
        if self.proc.stdin:
            self.proc.stdin.close()
        self.proc.wait(timeout=60)


def overhead(task: Task, steps: int, repeats: int) -> dict:
    """Cost of the trainer's bookkeeping at default settings — history logging every 50
    steps, the progress bar, sample snapshots every steps/10 and checkpoints every
    steps/5 — against bare ``train_step()`` calls on an identical trainer. ``steps``
    should be the default run length (3,000): snapshots and checkpoints are per run."""
    import io

    with tempfile.TemporaryDirectory() as tmp:
        full = make_trainer(task, Path(tmp) / "run", steps, defaults=True, progress=True)
        bare = Trainer(dataclasses.replace(full.cfg))
        for _ in range(20):
            bare.train_step()
        bare_t, full_t = [], []
        for _ in range(repeats):
            t0 = time.perf_counter()
            for _ in range(steps):
                bare.train_step()
            bare_t.append(time.perf_counter() - t0)
            full.cfg = dataclasses.replace(full.cfg, steps=full.step + steps)
            with contextlib.redirect_stderr(io.StringIO()):
                t0 = time.perf_counter()
                full._loop()
                full_t.append(time.perf_counter() - t0)
    ratios = [f / b - 1 for f, b in zip(full_t, bare_t, strict=True)]
    return {
        "task": task.name,
        "steps": steps,
        "overhead_median": statistics.median(ratios),
        "overhead_min": min(ratios),
        "overhead_max": max(ratios),
    }


def flops_per_step(trainer: Trainer) -> float:
    """FLOPs of one training step (forward + backward of every phase), counted by
    PyTorch's FlopCounterMode on the trainer's own step."""
    from torch.utils.flop_counter import FlopCounterMode

    counter = FlopCounterMode(display=False)
    with counter:
        trainer.train_step()
    return float(counter.get_total_flops())


def matmul_flops(threads: int, n: int = 1024, reps: int = 20) -> float:
    """Dense float32 matmul FLOP/s at ``threads`` threads: the practical ceiling."""
    old = torch.get_num_threads()
    torch.set_num_threads(threads)
    a, b = torch.randn(n, n), torch.randn(n, n)
    a @ b
    best = float("inf")
    for _ in range(reps):
        t0 = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - t0)
    torch.set_num_threads(old)
    return 2 * n**3 / best


def slice_steps(steps: int, slices: int) -> list[int]:
    """``steps`` split into at most ``slices`` near-equal positive parts."""
    k = max(1, min(slices, steps))
    return [steps // k + (i < steps % k) for i in range(k)]


def bench(
    task: Task,
    repeats: int,
    quick: bool,
    item: bool,
    default_threads: int,
    ganforge_threads: int | None = None,
    tf_python: str | None = None,
    update: str = "alternating",
    precision: str = "fp32",
    compile: bool = False,
    slices: int = 4,
) -> dict:
    """Time ganforge (and, with ``compile``, ganforge ``--compile`` too), the hand-written
    loop and the TF references in one rotation; rates are medians over ``repeats``. Each
    repeat runs every side in ``slices`` interleaved slices of its steps, so a change in
    the host's speed during a repeat reaches every side alike."""
    steps = task.quick_steps if quick else task.steps
    # TF as installed on a non-Intel x86 CPU (oneDNN ops off) and with oneDNN forced on;
    # each process traces and warms up before anything else is timed.
    tf_refs = (
        {
            key: TFReference(tf_python, task.name, key == "tf_onednn", update, precision)
            for key in TF_SIDES
        }
        if tf_python
        else {}
    )
    with tempfile.TemporaryDirectory() as tmp:
        torch.set_num_threads(default_threads)
        trainers = {
            key: make_trainer(
                task,
                Path(tmp) / key,
                steps,
                ganforge_threads,
                update=update,
                precision=precision,
                compile=key == "compiled",
            )
            for key in (("ganforge", "compiled") if compile else ("ganforge",))
        }
        g_threads = torch.get_num_threads()  # the trainer's thread choice
        torch.set_num_threads(default_threads)
        baseline = Baseline(trainers["ganforge"], item)
        flops = flops_per_step(trainers["ganforge"])
        # warm-up every side (a compiled trainer compiles here, after its eager first step)
        torch.set_num_threads(g_threads)
        for trainer in trainers.values():
            run_ganforge(trainer, max(2, steps // 5))
        torch.set_num_threads(default_threads)
        baseline.run(max(1, steps // 5))
        rates: dict[str, list[float]] = {key: [] for key in (*trainers, "hand", *tf_refs)}
        sides = list(rates)

        def timed(side: str, n: int) -> float:
            if side in trainers:
                torch.set_num_threads(g_threads)
                return run_ganforge(trainers[side], n)
            torch.set_num_threads(default_threads)
            return baseline.run(n) if side == "hand" else tf_refs[side].run(n)

        for rep in range(repeats):  # rotate the order: each side goes first in turn
            order = sides[rep % len(sides) :] + sides[: rep % len(sides)]
            elapsed = dict.fromkeys(sides, 0.0)
            for n in slice_steps(steps, slices):  # the sides interleaved within a repeat
                for side in order:
                    elapsed[side] += timed(side, n)
            for side in sides:
                rates[side].append(steps / elapsed[side])
        torch.set_num_threads(default_threads)
    for ref in tf_refs.values():
        ref.close()
    fields: dict[str, float] = {}
    for key, side_rates in rates.items():
        fields[f"{key}_steps_per_s"] = statistics.median(side_rates)
    # per-repeat ratios of each ganforge variant to each other side: median, min, max
    for g_key in trainers:
        prefix = "" if g_key == "ganforge" else f"{g_key}_"
        for other in ("hand", *tf_refs):
            r = [g / o for g, o in zip(rates[g_key], rates[other], strict=True)]
            name = "ratio" if other == "hand" else f"ratio_{other}"
            fields |= {
                f"{prefix}{name}": statistics.median(r),
                f"{prefix}{name}_min": min(r),
                f"{prefix}{name}_max": max(r),
            }
    if compile:
        r = [c / g for c, g in zip(rates["compiled"], rates["ganforge"], strict=True)]
        fields |= {"compiled_vs_eager": statistics.median(r)}
    g_med = fields["ganforge_steps_per_s"]
    return {
        "task": task.name,
        "update": update,
        "precision": precision,
        "batch_size": task.batch,
        "baseline_steps_per_s": fields.pop("hand_steps_per_s"),
        "ganforge_samples_per_s": g_med * task.batch,
        "ganforge_threads": g_threads,
        "baseline_threads": default_threads,
        "flops_per_step": flops,
        "achieved_gflops": flops * g_med / 1e9,
        "compiled_gflops": flops * fields.get("compiled_steps_per_s", 0.0) / 1e9,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "repeats": repeats,
        "steps_per_repeat": steps,
        **fields,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="few steps, 3 repeats (< 1 min)")
    parser.add_argument("--json", action="store_true", help="one JSON object per task")
    parser.add_argument("--repeats", type=int, default=None)
    parser.add_argument("--tasks", default=",".join(t.name for t in TASKS))
    parser.add_argument("--baseline-no-item", action="store_true")
    parser.add_argument(
        "--update",
        choices=(*UPDATES, "both"),
        default="both",
        help="the update scheme timed (same on every side); both: one row each",
    )
    parser.add_argument(
        "--precision",
        choices=("fp32", "bf16"),
        default="fp32",
        help="compute precision on every side (bf16: needs a CPU with native bf16)",
    )
    parser.add_argument(
        "--compile",
        action="store_true",
        help="ganforge with --compile (each update one compiled graph); the others as always",
    )
    parser.add_argument(
        "--slices",
        type=int,
        default=4,
        help="each repeat runs every side in this many interleaved slices (default 4)",
    )
    parser.add_argument(
        "--ganforge-threads",
        type=int,
        default=None,
        help="threads for ganforge (default: the trainer's own choice)",
    )
    parser.add_argument(
        "--baseline-threads",
        type=int,
        default=None,
        help="threads for the hand-written loop (default: torch's default)",
    )
    parser.add_argument(
        "--tf-python",
        default=None,
        help="a Python with tensorflow installed: time the TF/Keras version of each task too",
    )
    args = parser.parse_args(argv)
    repeats = args.repeats or (3 if args.quick else 5)
    wanted = args.tasks.split(",")
    unknown = set(wanted) - {t.name for t in TASKS}
    if unknown:
        parser.error(f"unknown task(s): {', '.join(sorted(unknown))}")
    default_threads = args.baseline_threads or torch.get_num_threads()
    results = []
    updates = UPDATES if args.update == "both" else (args.update,)
    for task in TASKS:
        for update in updates if task.name in wanted else ():
            results.append(
                bench(
                    task,
                    repeats,
                    args.quick,
                    not args.baseline_no_item,
                    default_threads,
                    args.ganforge_threads,
                    args.tf_python,
                    update,
                    args.precision,
                    args.compile,
                    args.slices,
                )
            )
            if args.json:
                print(json.dumps(results[-1]), flush=True)
    over = overhead(TASKS[0], 1000 if args.quick else 3000, repeats)
    if args.json:
        print(json.dumps(over))
    ceiling = {t: matmul_flops(t) for t in sorted({1, default_threads})}
    if args.json:
        print(json.dumps({"matmul_gflops": {str(k): v / 1e9 for k, v in ceiling.items()}}))
        return 0
    print(
        f"torch {torch.__version__}, {os.cpu_count()} CPUs, default threads {default_threads}, "
        f"repeats {repeats} of {args.slices} interleaved slices, precision {args.precision}"
        + (", ganforge --compile" if args.compile else "")
    )
    hdr = (
        f"{'task':<16}{'update':<14}{'batch':>6}{'ganforge st/s':>15}{'hand st/s':>11}{'ratio':>7}"
        f"{'range':>13}{'samples/s':>11}{'thr':>5}{'GFLOP/s':>9}{'% ceiling':>10}"
        f"{'RSS MB':>8}"
    )
    for key in TF_SIDES:
        if any(f"{key}_steps_per_s" in r for r in results):
            label = "TF" if key == "tf" else "TF+DNN"
            hdr += f"{label + ' st/s':>13}{'vs ' + label:>10}{'range':>11}"
    print(hdr)
    for r in results:
        rng = f"{r['ratio_min']:.2f}-{r['ratio_max']:.2f}"
        ceil = (
            ceiling[r["ganforge_threads"]]
            if r["ganforge_threads"] in ceiling
            else max(ceiling.values())
        )
        print(
            f"{r['task']:<16}{r['update']:<14}{r['batch_size']:>6}{r['ganforge_steps_per_s']:>15.2f}"
            f"{r['baseline_steps_per_s']:>11.2f}{r['ratio']:>7.2f}"
            f"{rng:>13}"
            f"{r['ganforge_samples_per_s']:>11.0f}{r['ganforge_threads']:>5}"
            f"{r['achieved_gflops']:>9.2f}{100 * r['achieved_gflops'] * 1e9 / ceil:>9.1f}%"
            f"{r['peak_rss_mb']:>8.0f}"
            + "".join(
                f"{r[f'{key}_steps_per_s']:>13.2f}{r[f'ratio_{key}']:>10.2f}"
                f"{r[f'ratio_{key}_min']:>6.2f}-{r[f'ratio_{key}_max']:.2f}"
                for key in TF_SIDES
                if f"{key}_steps_per_s" in r
            )
        )
    if any("compiled_steps_per_s" in r for r in results):
        _print_compiled(results, ceiling)
    print(
        f"bookkeeping overhead at default settings ({over['task']}, {over['steps']} steps): "
        f"median {100 * over['overhead_median']:.1f}% (range "
        f"{100 * over['overhead_min']:.1f}% to {100 * over['overhead_max']:.1f}%)"
    )
    print(
        "matmul ceiling (1024x1024 float32): "
        + ", ".join(f"{k} thread(s) {v / 1e9:.1f} GFLOP/s" for k, v in ceiling.items())
    )
    return 0


def _print_compiled(results: list[dict], ceiling: dict[int, float]) -> None:
    """The ``--compile`` rows: ganforge compiled against eager ganforge, the hand-written
    loop and each TF side (medians of per-repeat ratios and their ranges)."""
    print("ganforge --compile, timed in the same rotation:")
    hdr = f"{'task':<16}{'update':<14}{'st/s':>9}{'vs eager':>9}{'vs hand':>9}{'range':>11}"
    hdr += f"{'% ceiling':>10}"
    keys = [k for k in TF_SIDES if any(f"compiled_ratio_{k}" in r for r in results)]
    for key in keys:
        label = "TF" if key == "tf" else "TF+DNN"
        hdr += f"{'vs ' + label:>10}{'range':>11}"
    print(hdr)
    for r in results:
        ceil = ceiling.get(r["ganforge_threads"], max(ceiling.values()))
        line = (
            f"{r['task']:<16}{r['update']:<14}{r['compiled_steps_per_s']:>9.2f}"
            f"{r['compiled_vs_eager']:>9.2f}{r['compiled_ratio']:>9.2f}"
            f"{r['compiled_ratio_min']:>6.2f}-{r['compiled_ratio_max']:.2f}"
            f"{100 * r['compiled_gflops'] * 1e9 / ceil:>9.1f}%"
        )
        for key in keys:
            line += (
                f"{r[f'compiled_ratio_{key}']:>10.2f}"
                f"{r[f'compiled_ratio_{key}_min']:>6.2f}-{r[f'compiled_ratio_{key}_max']:.2f}"
            )
        print(line)


if __name__ == "__main__":
    np.seterr(all="ignore")
    sys.exit(main())
