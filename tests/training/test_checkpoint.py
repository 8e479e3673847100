"""Checkpoints: full state round trip, bitwise-exact resume, and files that are not
checkpoints (pickles, random bytes, truncated or foreign files) refused without running
any code from them."""

from __future__ import annotations

import json
import pickle
import struct
from pathlib import Path

import pytest
import torch

from conftest import tiny_config
from ganforge.api import load_generator
from ganforge.cli import main
from ganforge.config import ModelConfig
from ganforge.training.checkpoint import (
    load_checkpoint,
    load_state_strict,
    resolve_checkpoint_path,
    save_checkpoint,
)
from ganforge.training.trainer import Trainer


def _state(module: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


def _assert_bitwise_equal(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> None:
    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]), f"{k} differs"


# -- exact resume ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("loss", "ema", "extra"),
    [
        ("nonsaturating", 0.0, {}),
        ("minimax", 0.0, {}),
        ("wgan-gp", 0.0, {}),
        ("wasserstein", 0.0, {}),
        ("hinge", 0.0, {}),
        ("least-squares", 0.0, {}),
        ("nonsaturating", 0.9, {}),
        # lazy R1 on every 2nd D update: the resumed run must continue the count (3 is odd)
        ("nonsaturating", 0.0, {"r1_weight": 1.0, "r1_every": 2}),
        # DiffAugment draws from the run's noise generator: a resume continues its stream
        (
            "nonsaturating",
            0.0,
            {
                "dataset": "digits",
                "model": ModelConfig(arch="dcgan", noise_dim=8, base_width=4),
                "augment": "translation,cutout,color",
                "augment_p": 0.5,
            },
        ),
        # bf16 autocast on a CPU with native bf16 (fp32 elsewhere) resumes exactly too
        (
            "nonsaturating",
            0.0,
            {
                "dataset": "digits",
                "model": ModelConfig(arch="dcgan", noise_dim=8, base_width=4),
                "precision": "bf16",
            },
        ),
        # self-conditioning: the clusters are rebuilt the same on resume
        (
            "nonsaturating",
            0.0,
            {
                "dataset": "digits",
                "model": ModelConfig(arch="dcgan", noise_dim=8, base_width=4),
                "self_condition": 4,
            },
        ),
    ],
    ids=[
        "nonsaturating",
        "minimax",
        "wgan-gp",
        "wasserstein",
        "hinge",
        "least-squares",
        "nonsaturating-ema",
        "nonsaturating-lazy-r1",
        "augmented-images",
        "bf16-images",
        "self-conditioned-images",
    ],
)
def test_resume_is_bitwise_identical_to_an_uninterrupted_run(
    tmp_path: Path, no_plots, loss: str, ema: float, extra: dict
) -> None:
    n, k = 8, 3
    opts = {"loss": loss, "ema": ema, "seed": 11, "batch_size": 16, **extra}
    full = Trainer(tiny_config(steps=n, checkpoint_every=k, out=str(tmp_path / "full"), **opts))
    full.fit()

    stopped = Trainer(tiny_config(steps=k, checkpoint_every=k, out=str(tmp_path / "part"), **opts))
    stopped.fit()
    assert load_checkpoint(tmp_path / "part").step == k

    resumed = Trainer.resume(tmp_path / "part", steps=n)
    assert resumed.step == k
    resumed.fit()
    assert resumed.step == n
    _assert_bitwise_equal(_state(resumed.G), _state(full.G))
    _assert_bitwise_equal(_state(resumed.D), _state(full.D))
    if ema:
        _assert_bitwise_equal(_state(resumed.G_ema), _state(full.G_ema))
    for a, b in ((resumed.opt_d, full.opt_d), (resumed.opt_g, full.opt_g)):
        for sa, sb in zip(a.state.values(), b.state.values(), strict=True):
            for key in sa:
                assert torch.equal(torch.as_tensor(sa[key]), torch.as_tensor(sb[key]))

    # the history continues where it stopped: steps 1..n each logged once
    rows = [json.loads(line) for line in (tmp_path / "part" / "history.jsonl").open()]
    assert [r["step"] for r in rows if "loss/d" in r] == list(range(1, n + 1))


def test_resume_through_the_cli(tmp_path: Path, no_plots, capsys) -> None:
    run = tmp_path / "run"
    Trainer(tiny_config(steps=2, checkpoint_every=2, out=str(run))).fit()
    assert main(["train", "--resume", str(run), "--steps", "4", "--quiet"]) == 0
    assert load_checkpoint(run).step == 4


# -- contents -------------------------------------------------------------------------------


def test_checkpoint_holds_the_whole_training_state(tmp_path: Path, no_plots) -> None:
    t = Trainer(tiny_config(steps=3, ema=0.5, out=str(tmp_path / "run"), checkpoint_every=1))
    t.fit()
    ck = load_checkpoint(tmp_path / "run")
    assert ck.step == 3
    assert ck.config["loss"] == "nonsaturating" and ck.config["seed"] == 0
    assert ck.config["model"]["g_hidden"] == [16, 16]
    _assert_bitwise_equal(ck.module_state("G"), _state(t.G))
    _assert_bitwise_equal(ck.module_state("D"), _state(t.D))
    _assert_bitwise_equal(ck.module_state("G_ema"), _state(t.G_ema))
    for name in ("rng/torch", "rng/data", "rng/noise"):
        assert name in ck.tensors
    assert set(ck.meta["optimizers"]) == {"opt_g", "opt_d"}
    assert any(k.startswith("opt_d/") for k in ck.tensors)  # Adam moments
    assert ck.meta["codec"]["name"] == "ring8"

    folder = tmp_path / "run" / "checkpoints"
    # keep_checkpoints=2: only the newest two step files survive, plus latest and best
    assert sorted(p.name for p in folder.glob("step_*")) == [
        "step_0000002.safetensors",
        "step_0000003.safetensors",
    ]
    assert (folder / "latest.safetensors").exists() and (folder / "best.safetensors").exists()
    assert not [p for p in folder.iterdir() if p.name.startswith(".")], "no temp files left"


def test_save_load_round_trip(tmp_path: Path) -> None:
    tensors = {"a/w": torch.arange(6.0).reshape(2, 3), "b": torch.tensor([1, 2], dtype=torch.int64)}
    meta = {"step": 5, "config": {"x": 1}, "nested": {"list": [1, 2.5, None]}}
    save_checkpoint(tmp_path / "c.safetensors", tensors, meta)
    ck = load_checkpoint(tmp_path / "c.safetensors")
    assert ck.step == 5 and ck.config == {"x": 1} and ck.meta["nested"] == meta["nested"]
    _assert_bitwise_equal(ck.tensors, tensors)
    assert ck.module_state("a") == {"w": ck.tensors["a/w"]}
    assert ck.has("a") and not ck.has("c")


def test_load_state_strict_names_the_mismatch() -> None:
    lin = torch.nn.Linear(2, 3)
    with pytest.raises(ValueError, match="missing"):
        load_state_strict(lin, {"weight": torch.zeros(3, 2)}, "generator")
    with pytest.raises(ValueError, match="weight has shape"):
        load_state_strict(lin, {"weight": torch.zeros(2, 2), "bias": torch.zeros(3)}, "generator")


def test_run_directory_without_checkpoints(tmp_path: Path) -> None:
    (tmp_path / "checkpoints").mkdir()
    with pytest.raises(ValueError, match="no best checkpoint"):
        resolve_checkpoint_path(tmp_path, "best")
    with pytest.raises(ValueError, match="does not exist"):
        load_checkpoint(tmp_path / "nothing.safetensors")


# -- files that are not checkpoints ---------------------------------------------------------


class _Payload:
    """Unpickling this creates the file ``marker``: proof that code ran."""

    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def _pickle_file(path: Path, marker: Path) -> Path:
    path.write_bytes(pickle.dumps({"G/net.0.weight": _Payload(marker)}))
    return path


def _torch_save_file(path: Path, marker: Path) -> Path:
    torch.save({"G": _Payload(marker)}, path)
    return path


def _random_bytes(path: Path, marker: Path) -> Path:
    path.write_bytes(
        torch.randint(0, 256, (4096,), generator=torch.Generator().manual_seed(0))
        .to(torch.uint8)
        .numpy()
        .tobytes()
    )
    return path


def _huge_header(path: Path, marker: Path) -> Path:
    path.write_bytes(struct.pack("<Q", 2**40) + b"{}")
    return path


@pytest.mark.parametrize(
    "make",
    [_pickle_file, _torch_save_file, _random_bytes, _huge_header],
    ids=["pickle", "torch-save", "random-bytes", "huge-header"],
)
def test_non_checkpoints_are_refused_without_running_code(tmp_path: Path, make) -> None:
    marker = tmp_path / "code-ran"
    path = make(tmp_path / "evil.safetensors", marker)
    with pytest.raises(ValueError, match="evil.safetensors"):
        load_checkpoint(path)
    with pytest.raises(ValueError):
        load_generator(path)
    assert not marker.exists()


def test_the_pickle_payload_is_live(tmp_path: Path) -> None:
    """Guard for the test above: unpickling the same bytes does run code."""
    marker = tmp_path / "code-ran"
    path = _pickle_file(tmp_path / "evil.safetensors", marker)
    pickle.loads(path.read_bytes())["G/net.0.weight"].close()
    assert marker.exists()


def test_malicious_latest_checkpoint_in_a_run(tmp_path: Path, capfd) -> None:
    marker = tmp_path / "code-ran"
    run = tmp_path / "run"
    (run / "checkpoints").mkdir(parents=True)
    _pickle_file(run / "checkpoints" / "latest.safetensors", marker)
    with pytest.raises(ValueError):
        Trainer.resume(run)
    assert main(["sample", str(run), "--out", str(tmp_path / "s.npy")]) == 2
    err = capfd.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert not marker.exists() and not (tmp_path / "s.npy").exists()


def test_truncated_checkpoint(tmp_path: Path, no_plots) -> None:
    Trainer(tiny_config(steps=1, out=str(tmp_path / "run"))).fit()
    data = (tmp_path / "run" / "checkpoints" / "latest.safetensors").read_bytes()
    for cut in (4, 100, len(data) // 2, len(data) - 1):
        (tmp_path / "cut.safetensors").write_bytes(data[:cut])
        with pytest.raises(ValueError, match="cut.safetensors"):
            load_checkpoint(tmp_path / "cut.safetensors")


def test_foreign_and_newer_safetensors_files(tmp_path: Path) -> None:
    from safetensors.torch import save_file

    save_file({"w": torch.zeros(2)}, str(tmp_path / "plain.safetensors"))
    with pytest.raises(ValueError, match="not a ganforge checkpoint"):
        load_checkpoint(tmp_path / "plain.safetensors")
    meta = {"ganforge": json.dumps({"format": "ganforge-checkpoint", "format_version": 99})}
    save_file({"w": torch.zeros(2)}, str(tmp_path / "new.safetensors"), metadata=meta)
    with pytest.raises(ValueError, match="newer"):
        load_checkpoint(tmp_path / "new.safetensors")
    save_file({"w": torch.zeros(2)}, str(tmp_path / "bad.safetensors"), metadata={"ganforge": "{"})
    with pytest.raises(ValueError, match="corrupt"):
        load_checkpoint(tmp_path / "bad.safetensors")


def test_a_checkpoint_from_before_a_new_model_option_loads_and_resumes(tmp_path: Path) -> None:
    """A checkpoint saved before a model option existed (here: ``table_heads`` removed from
    its saved config) still samples and resumes: the option takes its default."""
    from safetensors import safe_open

    from ganforge.training.checkpoint import META_KEY

    run = tmp_path / "run"
    Trainer(tiny_config(out=str(run))).fit()
    path = resolve_checkpoint_path(run)
    with safe_open(str(path), framework="pt", device="cpu") as fh:
        meta = json.loads(fh.metadata()[META_KEY])
        tensors = {k: fh.get_tensor(k) for k in fh.keys()}  # noqa: SIM118
    del meta["config"]["model"]["table_heads"]
    meta.pop("format", None), meta.pop("format_version", None)
    save_checkpoint(path, tensors, meta)
    loaded = load_generator(run)
    assert loaded.config.model.table_heads == "independent"
    assert loaded.sample(5, seed=0).shape == (5, 2)
    resumed = Trainer.resume(run, steps=6)
    assert isinstance(resumed.cfg.model, ModelConfig)
    resumed.fit()
    assert resumed.step == 6
