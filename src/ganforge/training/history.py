"""Per-step statistics into ``history.jsonl`` rows, and the progress bar.

A row holds ``step``, ``time``, the window means of the statistics (``loss/d``,
``loss/g``, ``d/real``, ``d/fake``, ``acc/real``, ``acc/fake`` and any optional
``loss/d/<term>``), ``samples_per_s`` and the learning rates ``lr/g``, ``lr/d``.
"""

from __future__ import annotations

import math
import sys
import time
from typing import Any

import numpy as np
import torch

STAT_NAMES = ("loss/d", "loss/g", "d/real", "d/fake", "acc/real", "acc/fake")


def step_stats(
    loss: Any,
    d_loss: torch.Tensor,
    g_loss: torch.Tensor,
    d_real: torch.Tensor,
    d_fake: torch.Tensor,
    extra: list[torch.Tensor],
) -> torch.Tensor:
    """One step's statistics on the device, ordered like :data:`STAT_NAMES` + ``extra``:
    the losses, mean D outputs (read through ``loss.d_output``) and D's accuracy at the
    loss's equilibrium (0 for critics)."""
    out_r, out_f = loss.d_output(d_real), loss.d_output(d_fake)
    thr = loss.equilibrium if loss.equilibrium is not None else 0.0
    return torch.stack(
        [
            d_loss,
            g_loss,
            out_r.mean(),
            out_f.mean(),
            (out_r > thr).float().mean(),
            (out_f <= thr).float().mean(),
            *extra,
        ]
    )


def first_non_finite(values: list[list[float]], names: tuple[str, ...]) -> tuple[int, str] | None:
    """``(index, "name, name")`` of the first step in ``values`` with a NaN/Inf statistic."""
    for i, per_step in enumerate(values):
        bad = [n for n, v in zip(names, per_step, strict=True) if not math.isfinite(v)]
        if bad:
            return i, ", ".join(bad)
    return None


def history_row(
    values: list[list[float]],
    names: tuple[str, ...],
    step: int,
    samples: int,
    elapsed: float,
    optimizers: tuple[torch.optim.Optimizer, torch.optim.Optimizer],
) -> dict[str, Any]:
    """The row for a window of per-step ``values`` ``(n, len(names))``; ``samples`` real
    samples were drawn in ``elapsed`` seconds; ``optimizers`` is ``(G's, D's)``."""
    row: dict[str, Any] = {"step": step, "time": time.time()}
    row.update(zip(names, np.mean(values, axis=0).tolist(), strict=True))
    row["samples_per_s"] = samples / max(elapsed, 1e-9)
    row["lr/g"] = optimizers[0].param_groups[0]["lr"]
    row["lr/d"] = optimizers[1].param_groups[0]["lr"]
    return row


def progress_bar(total: int, initial: int) -> Any:
    """A tqdm bar on stderr: live on a terminal; in a log file, a line every 30 s at most."""
    from tqdm.auto import tqdm

    interval = 0.1 if sys.stderr.isatty() else 30.0
    return tqdm(
        total=total,
        initial=initial,
        desc="train",
        unit="step",
        dynamic_ncols=True,
        file=sys.stderr,
        mininterval=interval,
    )


def describe_run(run: Any, cfg: Any, G: torch.nn.Module, D: torch.nn.Module, device: Any) -> str:
    """The two lines a run starts with: where it writes, and what it trains."""
    n_g = sum(p.numel() for p in G.parameters())
    n_d = sum(p.numel() for p in D.parameters())
    return (
        f"run {run}\nG: {n_g:,} parameters | D: {n_d:,} parameters | {cfg.preset} on "
        f"{cfg.dataset} | loss {cfg.loss} | device {device}"
    )
