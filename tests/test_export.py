"""``ganforge export``: the generator alone, loadable without ganforge. A TorchScript file
loaded with plain ``torch.jit.load``, fed noise drawn as its sidecar says and decoded as its
sidecar says, gives ganforge's own samples; the EMA generator by default; ONNX through
onnxruntime when installed; bad input is one line and exit 2."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

import ganforge
from conftest import tiny_config
from ganforge.api import load_generator
from ganforge.cli import main

N, SEED = 64, 7
#: TorchScript is what users ask for; torch marks its API deprecated
pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit:DeprecationWarning")


@pytest.fixture(scope="module")
def ring(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 20-step ring8 run with an EMA generator."""
    out = tmp_path_factory.mktemp("export") / "ring"
    ganforge.train(tiny_config(out=str(out), steps=20, ema=0.9, sample_every=0))
    return out


@pytest.fixture(scope="module")
def digits(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 2-step conditional DCGAN run on digits (the generator takes class labels)."""
    out = tmp_path_factory.mktemp("export") / "digits"
    flags = ["--base-width", "4", "--noise-dim", "8", "--batch-size", "8", "--quiet"]
    args = ["train", "--dataset", "digits", "--steps", "2", "--eval-samples", "20"]
    args += ["--conditional", "projection", "--out", str(out), "--device", "cpu", *flags]
    assert main(args) == 0
    return out


def _noise(side: dict, n: int, seed: int) -> torch.Tensor:
    """Noise as the sidecar describes it, from the generator ganforge seeds."""
    z = side["inputs"]["z"]
    assert z["distribution"] == "gaussian"
    return torch.randn((n, z["shape"][1]), generator=torch.Generator().manual_seed(seed)) * z["std"]


def _decode(side: dict, x: np.ndarray) -> np.ndarray:
    """Model space -> native units, by the sidecar alone."""
    dec = side["decoding"]
    if dec["kind"] == "uint8":
        return np.round((np.clip(x, -1, 1) + 1) * 127.5).astype(np.uint8)
    flat = x.reshape(len(x), -1).astype(np.float64)
    return (flat * np.asarray(dec["scale"]) + np.asarray(dec["offset"])).reshape(x.shape)


def _export(run: Path, fmt: str, out: Path, *flags: str) -> dict:
    assert main(["export", str(run), "--format", fmt, "--out", str(out), *flags]) == 0
    return json.loads(out.with_name(out.name + ".json").read_text())


def test_torchscript_gives_ganforges_samples_for_the_same_noise(ring, tmp_path) -> None:
    side = _export(ring, "torchscript", tmp_path / "g.pt")
    assert side["generator"] == "ema" and side["output"]["shape"] == [None, 2]
    model = torch.jit.load(str(tmp_path / "g.pt"))
    with torch.no_grad():
        x = model(_noise(side, N, SEED)).numpy()
    expected = ganforge.sample(ring, N, seed=SEED)  # the EMA generator, decoded
    np.testing.assert_allclose(_decode(side, x), expected, rtol=1e-5, atol=1e-5)


def test_no_ema_exports_the_raw_generator(ring, tmp_path) -> None:
    side = _export(ring, "torchscript", tmp_path / "raw.pt", "--no-ema")
    assert side["generator"] == "raw"
    with torch.no_grad():
        x = torch.jit.load(str(tmp_path / "raw.pt"))(_noise(side, N, SEED)).numpy()
    expected = load_generator(ring, ema=False).sample(N, seed=SEED)
    np.testing.assert_allclose(_decode(side, x), expected, rtol=1e-5, atol=1e-5)
    assert not np.allclose(expected, ganforge.sample(ring, N, seed=SEED))  # EMA differs


def test_conditional_image_generator_takes_labels(digits, tmp_path) -> None:
    side = _export(digits, "torchscript", tmp_path / "g.pt")
    assert side["inputs"]["y"] == {"shape": [None], "dtype": "int64", "num_classes": 10}
    assert side["output"]["shape"] == [None, 1, 28, 28]
    labels = torch.arange(N) % 10
    with torch.no_grad():
        x = torch.jit.load(str(tmp_path / "g.pt"))(_noise(side, N, SEED), labels).numpy()
    expected = load_generator(digits).sample(N, seed=SEED)  # classes i % 10 by default
    np.testing.assert_array_equal(_decode(side, x), expected)


def test_safetensors_holds_the_ema_weights_and_the_sidecar(ring, tmp_path) -> None:
    from safetensors import safe_open

    side = _export(ring, "safetensors", tmp_path / "g.safetensors")
    loaded = load_generator(ring)
    with safe_open(str(tmp_path / "g.safetensors"), framework="pt") as fh:
        assert json.loads(fh.metadata()["ganforge-generator"])["inputs"] == side["inputs"]
        weights = {k: fh.get_tensor(k) for k in fh.keys()}  # noqa: SIM118
    own = loaded.generator.state_dict()
    assert weights.keys() == own.keys()
    assert all(torch.equal(weights[k], own[k].cpu()) for k in own)


def test_onnx_gives_ganforges_samples_for_the_same_noise(ring, tmp_path) -> None:
    ort = pytest.importorskip("onnxruntime", reason="ONNX export needs ganforge[onnx]")
    pytest.importorskip("onnx", reason="ONNX export needs ganforge[onnx]")
    side = _export(ring, "onnx", tmp_path / "g.onnx")
    session = ort.InferenceSession(str(tmp_path / "g.onnx"))
    (x,) = session.run(None, {"z": _noise(side, N, SEED).numpy()})
    expected = ganforge.sample(ring, N, seed=SEED)
    np.testing.assert_allclose(_decode(side, x), expected, rtol=1e-5, atol=1e-5)


def test_onnx_without_the_extra_is_one_line(ring, tmp_path, capsys) -> None:
    try:
        import onnx  # noqa: F401

        pytest.skip("onnx is installed")
    except ImportError:
        pass
    assert main(["export", str(ring), "--format", "onnx", "--out", str(tmp_path / "g")]) == 2
    assert "pip install 'ganforge[onnx]'" in capsys.readouterr().err
    assert not (tmp_path / "g").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["{tmp}", "--format", "torchscript"], "no latest checkpoint in this run directory"),
        (["{ring}", "--format", "pickle"], "--format must be one of torchscript, onnx, "),
        (["{tmp}/missing", "--format", "onnx"], "does not exist"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(ring, tmp_path, capsys, args, message) -> None:
    argv = ["export", *[a.format(tmp=tmp_path, ring=ring) for a in args]]
    assert main([*argv, "--out", str(tmp_path / "g.out")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err, err
