"""A lower bound on one training step's time: its heavy kernels alone, each at its best.

One eager step of ganforge's trainer runs under a dispatch mode that records every matrix
product and convolution it calls (forward and backward; ``--compile`` calls the same
ones). Each recorded call is then replayed on its own, on fresh tensors of the same
shapes and strides, and its best time over many calls is kept; the bound is their sum
plus one fused-Adam update of G's and one of D's parameters, timed the same way. Those
times are cache-warm and leave out everything else the step does (activations, batch
norm, losses, the data), so no implementation of the same step with the same kernels can
run faster than the bound; ``hand / bound`` is the largest speed-up over the
hand-written loop that any such implementation could reach.

The hand-written loop (``throughput.py``'s) and ganforge (with ``--compile``; ``--eager``
without) are timed in the same process, at the trainer's thread count, interleaved with
the bound's replay in each repeat, so a change in the host's speed reaches every figure
alike; ratios are medians of the per-repeat ratios, with their range.

    python benchmarks/step_bound.py                        # mlp-mnist, both schemes
    python benchmarks/step_bound.py --tasks mlp-mnist,dcgan28 --update simultaneous --eager
"""

from __future__ import annotations

import argparse
import functools
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_map

sys.path.insert(0, str(Path(__file__).parent))
import throughput  # noqa: E402  (the tasks, trainer set-up and hand-written loop)

aten = torch.ops.aten
HEAVY = {
    aten.mm.default,
    aten.addmm.default,
    aten.bmm.default,
    aten.baddbmm.default,
    aten.convolution.default,
    aten.convolution_backward.default,
}


class _Spec:
    """A tensor argument's metadata: replayed as a fresh tensor of the same layout."""

    def __init__(self, t: torch.Tensor) -> None:
        self.shape, self.stride, self.dtype = tuple(t.shape), tuple(t.stride()), t.dtype

    def key(self) -> tuple:
        return (self.shape, self.stride, self.dtype)

    def make(self) -> torch.Tensor:
        return torch.empty_strided(self.shape, self.stride, dtype=self.dtype).normal_()


class Recorder(TorchDispatchMode):
    """Records ``(op, args, kwargs)`` of every heavy call, tensors as :class:`_Spec`."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[tuple] = []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if func in HEAVY:
            spec = lambda a: _Spec(a) if isinstance(a, torch.Tensor) else a  # noqa: E731
            self.calls.append((func, tree_map(spec, args), tree_map(spec, kwargs)))
        return func(*args, **kwargs)


def _key(call: tuple) -> str:
    func, args, kwargs = call
    flat = lambda a: a.key() if isinstance(a, _Spec) else a  # noqa: E731
    return repr((str(func), tree_map(flat, args), tree_map(flat, kwargs)))


def best_time(fn, budget: float = 0.15, min_calls: int = 10) -> float:
    """Best wall time of ``fn()`` over at least ``min_calls`` calls and about ``budget`` s."""
    fn()
    best, start, n = float("inf"), time.perf_counter(), 0
    while n < min_calls or time.perf_counter() - start < budget:
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
        n += 1
    return best


def kernel_bound(calls: list[tuple]) -> float:
    """Sum over the recorded calls of each one's best time alone (identical calls are
    timed once and counted as often as they occur)."""
    counts: dict[str, tuple[tuple, int]] = {}
    for call in calls:
        k = _key(call)
        counts[k] = (call, counts.get(k, (call, 0))[1] + 1)
    make = lambda a: a.make() if isinstance(a, _Spec) else a  # noqa: E731
    total = 0.0
    for (func, args, kwargs), n in counts.values():
        call = functools.partial(func, *tree_map(make, args), **tree_map(make, kwargs))
        total += n * best_time(call)
    return total


def adam_bound(modules: list[torch.nn.Module]) -> float:
    """Best time of one fused-Adam update of each module's parameters (summed)."""
    total = 0.0
    for module in modules:
        params = [torch.randn(p.shape) for p in module.parameters() if p.requires_grad]
        for p in params:
            p.grad = torch.randn_like(p)
        opt = torch.optim.Adam(params, lr=1e-4, fused=True)
        total += best_time(opt.step)
    return total


def bench(task: throughput.Task, update: str, repeats: int, steps: int, compile: bool) -> dict:
    """Per-step times of the hand-written loop, ganforge (``--compile`` with ``compile``)
    and the bound, one process, interleaved ``repeats`` times."""
    with tempfile.TemporaryDirectory() as tmp:
        trainer = throughput.make_trainer(
            task, Path(tmp) / "run", 10**6, update=update, compile=compile
        )
        hand = throughput.Baseline(trainer, item=True)
        throughput.run_ganforge(trainer, 5)  # creates the optimizers' state; compiles
        hand.run(3)
        recorder, compiled = Recorder(), trainer.compiled
        trainer.compiled = None  # one eager step (a compiled one calls the same kernels)
        with recorder:
            trainer.train_step()
        trainer.compiled = compiled
        ms: dict[str, list[float]] = {"hand": [], "ganforge": [], "bound": []}
        for _ in range(repeats):
            ms["hand"].append(hand.run(steps) / steps)
            ms["ganforge"].append(throughput.run_ganforge(trainer, steps) / steps)
            ms["bound"].append(kernel_bound(recorder.calls) + adam_bound([trainer.G, trainer.D]))
    ratio = lambda a, b: [x / y for x, y in zip(ms[a], ms[b], strict=True)]  # noqa: E731
    return {
        "task": task.name,
        "update": update,
        "compile": compile,
        "kernels": len(recorder.calls),
        **{f"{k}_ms": 1e3 * statistics.median(v) for k, v in ms.items()},
        "hand_over_bound": ratio("hand", "bound"),
        "hand_over_ganforge": ratio("hand", "ganforge"),
    }


def _fmt(r: list[float]) -> str:
    return f"{statistics.median(r):.2f} ({min(r):.2f}-{max(r):.2f})"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", default="mlp-mnist")
    parser.add_argument("--update", choices=(*throughput.UPDATES, "both"), default="both")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--steps", type=int, default=None, help="steps per timed block")
    parser.add_argument("--eager", action="store_true", help="ganforge without --compile")
    args = parser.parse_args(argv)
    tasks = {t.name: t for t in throughput.TASKS}
    unknown = set(args.tasks.split(",")) - set(tasks)
    if unknown:
        parser.error(f"unknown task(s): {', '.join(sorted(unknown))}")
    updates = throughput.UPDATES if args.update == "both" else (args.update,)
    side = "ganforge" if args.eager else "ganforge --compile"
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, repeats {args.repeats}")
    print("ms per step (medians); hand / X: the speed-up of X over the hand-written loop")
    print(
        f"{'task':14s} {'update':12s} kernels     hand  {side:>18s}    bound  "
        f"hand/ganforge (range)  hand/bound (range)"
    )
    for name in args.tasks.split(","):
        task = tasks[name]
        steps = args.steps or max(2, task.steps // 4)
        for update in updates:
            r = bench(task, update, args.repeats, steps, not args.eager)
            print(
                f"{name:14s} {update:12s} {r['kernels']:7d} {r['hand_ms']:8.2f}  "
                f"{r['ganforge_ms']:18.2f} {r['bound_ms']:8.2f}  "
                f"{_fmt(r['hand_over_ganforge']):>21s}  {_fmt(r['hand_over_bound']):>18s}",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
