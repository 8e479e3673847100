"""Refactoring guard: short fixed-seed runs give bitwise the recorded tensors and metrics.

Each run's final checkpoint tensors (G, D, EMA G, both optimizers, RNG states) are
hashed with SHA-256 and compared with ``same_numbers.json``, and its ``metrics.json``
values with the recorded ones. A restructuring that changes no behaviour leaves every
hash in place; a change that moves a number on purpose updates the file (with
``python tests/training/test_same_numbers.py --record``) in the same commit and says why.

Floating-point results depend on the CPU's kernels (instruction set, library version), so
the recorded values are keyed by a fingerprint of this host's numerics. On a host whose
fingerprint is not recorded the test is skipped with a note saying how to record it:
bitwise numbers cannot be compared across different arithmetic.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path
from typing import Any

import pytest
import torch

from ganforge.config import ModelConfig, TrainConfig, load_config_file
from ganforge.training.checkpoint import load_checkpoint

RECORD = Path(__file__).with_name("same_numbers.json")
RECIPES = Path(__file__).resolve().parents[2] / "recipes"
TINY = {"noise_dim": 4, "g_hidden": (32, 32), "d_hidden": (32, 32)}
LOSSES = ("minimax", "nonsaturating", "wasserstein", "wgan-gp", "hinge", "least-squares")


def _common(**kw: Any) -> dict[str, Any]:
    base = {"device": "cpu", "threads": 1, "seed": 0, "log_every": 10, "eval_samples": 500}
    base.update(kw)
    return base


def run_configs() -> dict[str, TrainConfig]:
    """The runs whose numbers are pinned: every loss on ``disk``, ``ring8`` with its
    recipe for 500 steps, a conditional ``digits`` DCGAN for 50 steps, and ``wgan-gp``
    with lazy R1 and label-free extras (EMA, linear schedule)."""
    runs: dict[str, TrainConfig] = {}
    for loss in LOSSES:
        runs[f"disk-{loss}"] = TrainConfig(
            **_common(dataset="disk", loss=loss, steps=40, batch_size=64, ema=0.99),
            model=ModelConfig(**TINY),
        )
    recipe = load_config_file(RECIPES / "ring8.yaml")
    recipe.update(_common(steps=500, sample_every=250))
    runs["ring8-recipe"] = TrainConfig.from_dict(recipe)
    runs["digits-cdcgan"] = TrainConfig(
        **_common(dataset="digits", steps=50, batch_size=32, log_every=25, eval_samples=200),
        model={"arch": "dcgan", "conditional": "concat", "base_width": 8, "noise_dim": 16},
        preset="dcgan",
    )
    runs["disk-wgangp-r1"] = TrainConfig(
        **_common(
            dataset="disk",
            loss="wgan-gp",
            steps=40,
            batch_size=64,
            r1_weight=0.5,
            r1_every=2,
            lr_schedule="linear",
            ema=0.9,
        ),
        model=ModelConfig(**TINY),
    )
    return runs


def host_fingerprint() -> str:
    """Torch version, CPU capability, CPU vendor and a hash of a few kernels' exact
    outputs."""
    gen = torch.Generator().manual_seed(0)
    a = torch.randn(64, 96, generator=gen)
    b = torch.randn(96, 48, generator=gen)
    img = torch.randn(4, 3, 16, 16, generator=gen)
    w = torch.randn(8, 3, 4, 4, generator=gen)
    wt = torch.randn(8, 3, 4, 4, generator=gen)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        outs = [
            a @ b,
            torch.nn.functional.conv2d(img, w, stride=2, padding=1),
            torch.nn.functional.conv_transpose2d(img, wt[:3], stride=2),
            torch.nn.functional.leaky_relu(a, 0.2).sum(0),
        ]
    finally:
        torch.set_num_threads(threads)
    h = hashlib.sha256()
    for t in outs:
        h.update(t.contiguous().numpy().tobytes())
    cap = torch.backends.cpu.get_cpu_capability()
    return f"torch-{torch.__version__}-{cap}-{_cpu_vendor()}-{h.hexdigest()[:16]}"


def _cpu_vendor() -> str:
    """The CPU's vendor (``GenuineIntel``, ``AuthenticAMD``, ...): the math libraries pick
    kernels by vendor too, so an Intel and an AMD CPU with the same instruction set and
    the same results on the probes above can still round a training run differently."""
    import platform

    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("vendor_id"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def tensor_hashes(checkpoint: Path) -> dict[str, str]:
    state = load_checkpoint(checkpoint)
    out = {}
    for name in sorted(state.tensors):
        t = state.tensors[name].contiguous()
        digest = hashlib.sha256(str(t.dtype).encode() + str(tuple(t.shape)).encode())
        digest.update(t.reshape(-1).view(torch.uint8).numpy().tobytes())
        out[name] = digest.hexdigest()[:24]
    return out


def numbers_of(run_dir: Path) -> dict[str, Any]:
    metrics = json.loads((run_dir / "metrics.json").read_text())
    values = {k: v for k, v in metrics.items() if isinstance(v, (int, float))}
    return {"tensors": tensor_hashes(run_dir / "checkpoints" / "latest.safetensors"), **values}


def run_one(name: str, cfg: TrainConfig, root: Path) -> dict[str, Any]:
    import dataclasses

    from ganforge.training.trainer import Trainer

    out = root / name
    trainer = Trainer(dataclasses.replace(cfg, out=str(out)))
    trainer._plots = lambda: None  # pictures are not numbers
    trainer.fit()
    return numbers_of(out)


def _recorded() -> dict[str, Any]:
    return json.loads(RECORD.read_text()) if RECORD.exists() else {}


@pytest.mark.parametrize("name", sorted(run_configs()))
def test_fixed_seed_runs_give_the_recorded_numbers(name: str, tmp_path: Path) -> None:
    key = host_fingerprint()
    recorded = _recorded().get(key)
    if recorded is None:
        pytest.skip(
            f"no numbers recorded for this host's arithmetic ({key}); record them with "
            f"python tests/training/test_same_numbers.py --record"
        )
    if name not in recorded:
        pytest.skip(
            f"{name}: no numbers recorded for this host's arithmetic ({key}) since it last "
            f"changed on purpose; record them with python tests/training/test_same_numbers.py --record"
        )
    got = run_one(name, run_configs()[name], tmp_path)
    want = recorded[name]
    changed = sorted(k for k in want["tensors"] if got["tensors"].get(k) != want["tensors"][k])
    assert set(got["tensors"]) == set(want["tensors"]), "checkpoint tensor names changed"
    assert not changed, f"{name}: tensors changed: {changed[:8]}"
    metric_keys = set(want) - {"tensors"}
    assert {k: got.get(k) for k in metric_keys} == {k: want[k] for k in metric_keys}


def record() -> None:
    import tempfile

    data = _recorded()
    key = host_fingerprint()
    with tempfile.TemporaryDirectory() as tmp:
        data[key] = {n: run_one(n, c, Path(tmp)) for n, c in sorted(run_configs().items())}
    RECORD.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
    print(f"recorded {len(data[key])} runs for {key} in {RECORD}")


if __name__ == "__main__":
    if sys.argv[1:] != ["--record"]:
        sys.exit("usage: python tests/training/test_same_numbers.py --record")
    record()
