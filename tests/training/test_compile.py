"""``compile: true``: each update one compiled graph. Its steps must be the eager steps up
to float rounding (same random draws, same schedule, every phase), a compiled run must
resume bitwise, and options it cannot run say so in one line."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from conftest import run_cli, tiny_config
from ganforge.config import ModelConfig
from ganforge.errors import ConfigError
from ganforge.training.trainer import Trainer

DCGAN = {"dataset": "digits", "model": ModelConfig(arch="dcgan", noise_dim=8, base_width=4)}


def _no_eager_updates(trainer: Trainer) -> None:
    """Make the trainer's eager update methods fail: the compiled path must not use them."""

    def eager(*args, **kwargs):
        raise AssertionError("an eager update ran in a compiled step")

    for name in ("d_step", "d_update", "g_step", "g_update", "simultaneous_step"):
        setattr(trainer, name, eager)


@pytest.mark.parametrize(
    "opts",
    [
        {},
        {"reuse_fake": False},
        {"update": "simultaneous"},
        {"loss": "wasserstein", "n_critic": 2},
        {"loss": "least-squares", "label_smoothing": 0.1, "ema": 0.9},
        {"loss": "hinge", "update": "simultaneous"},
        {
            "model": ModelConfig(
                noise_dim=4, g_hidden=(16, 16), d_hidden=(16, 16), conditional="acgan"
            ),
            "dataset": "ring8",
        },
        DCGAN,
        {**DCGAN, "precision": "bf16"},  # fp32 on a CPU without native bf16
    ],
    ids=[
        "alternating",
        "fresh-noise-for-g",
        "simultaneous",
        "wasserstein-clipped",
        "smoothing-ema",
        "hinge-simultaneous",
        "acgan",
        "dcgan",
        "dcgan-bf16",
    ],
)
def test_compiled_steps_are_the_eager_steps(opts: dict) -> None:
    base = {"seed": 3, "batch_size": 16, **opts}
    eager = Trainer(tiny_config(**base))
    fast = Trainer(tiny_config(compile=True, **base))
    assert fast.compiled is not None and not fast.compiled.ready()
    stats_eager, stats_fast = [], []
    for step in range(4):
        stats_eager.append(eager.train_step())
        stats_fast.append(fast.train_step())
        if step == 0:  # the first step creates the optimizers' state, eagerly
            assert fast.compiled.ready()
            _no_eager_updates(fast)
    # the same losses, logits and terms, step by step, up to float rounding (bf16's is
    # coarser); a D accuracy may differ by the few samples whose logits round across 0
    bf16 = opts.get("precision") == "bf16"
    rtol, atol, flips = (2e-2, 2e-3, 3) if bf16 else (1e-3, 2e-4, 1)
    fast_stats, eager_stats = torch.stack(stats_fast), torch.stack(stats_eager)
    acc = [i for i, n in enumerate(fast.stat_names) if n.startswith("acc/")]
    rest = [i for i in range(len(fast.stat_names)) if i not in acc]
    torch.testing.assert_close(fast_stats[:, rest], eager_stats[:, rest], rtol=rtol, atol=atol)
    assert (fast_stats[:, acc] - eager_stats[:, acc]).abs().max() <= flips / 16 + 1e-6
    for name in ("G", "D"):
        for (key, a), b in zip(
            getattr(eager, name).state_dict().items(),
            getattr(fast, name).state_dict().values(),
            strict=True,
        ):
            torch.testing.assert_close(b, a, rtol=rtol, atol=atol, msg=f"{name}.{key}")
    assert fast.objective.d_updates == eager.objective.d_updates
    assert fast.batches.drawn == eager.batches.drawn
    # both runs drew the same random numbers: their streams are in the same state
    assert torch.equal(fast.noise_gen.get_state(), eager.noise_gen.get_state())
    assert torch.equal(fast.data_gen.get_state(), eager.data_gen.get_state())


def test_a_compiled_run_resumes_bitwise(tmp_path: Path, no_plots) -> None:
    n, k = 6, 3
    opts = {"compile": True, "seed": 5, "batch_size": 16, "ema": 0.9, "checkpoint_every": k}
    full = Trainer(tiny_config(steps=n, out=str(tmp_path / "full"), **opts))
    full.fit()
    Trainer(tiny_config(steps=k, out=str(tmp_path / "part"), **opts)).fit()
    resumed = Trainer.resume(tmp_path / "part", steps=n)
    assert resumed.cfg.compile
    resumed.fit()
    for name in ("G", "D", "G_ema"):
        a, b = getattr(full, name).state_dict(), getattr(resumed, name).state_dict()
        for key in a:
            assert torch.equal(a[key], b[key]), f"{name}.{key} differs"


@pytest.mark.parametrize(
    ("opts", "named"),
    [
        ({"loss": "wgan-gp"}, "gp_weight"),
        ({"r1_weight": 1.0}, "r1_weight"),
        ({"label_noise": 0.1}, "label_noise"),
        ({"lr_schedule": "linear"}, "lr_schedule 'linear'"),
        ({**DCGAN, "augment": "translation"}, "augment"),
        ({"dataset": "arithmetic", "model": None}, "model 'seqgru'"),
    ],
)
def test_what_compile_cannot_run_is_named(opts: dict, named: str) -> None:
    with pytest.raises(ConfigError, match=f"compile does not support {named}"):
        Trainer(tiny_config(compile=True, **opts))


def test_the_cli_flag_and_its_one_line_error(tmp_path: Path) -> None:
    proc = run_cli(
        "train",
        "--dataset",
        "ring8",
        "--loss",
        "wgan-gp",
        "--compile",
        "--steps",
        "2",
        "--out",
        str(tmp_path / "r"),
        cwd=tmp_path,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0
    assert "compile does not support gp_weight" in proc.stderr
