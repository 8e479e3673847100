"""Export a run's generator alone, for use without ganforge: TorchScript, ONNX or
safetensors weights, each with a JSON sidecar (``FILE.json``) saying what it needs.

The exported network maps noise ``z (N, noise_dim)`` float32 (and, for a conditional
generator, class labels ``y (N,)`` int64) to samples in *model space* ``(N, *shape)``,
exactly what ganforge's generator returns before decoding. The sidecar gives:

- ``inputs.z``: the noise size and distribution (``gaussian``: N(0, 1); ``uniform``:
  U(-1, 1)) and ``std``, the factor ganforge multiplies it by;
- ``inputs.y``: the number of classes (conditional models only);
- ``output``: shape and data kind;
- ``decoding``: how model space becomes native units: ``affine`` (per dimension,
  ``native = model * scale + offset``) for numeric data, ``uint8`` (``round((clamp(x, -1,
  1) + 1) * 127.5)``) for images, plus the run's full codec.

EMA weights are exported when the run has them (``ema=False``: the raw generator).
ONNX needs the optional extra ``pip install 'ganforge[onnx]'``.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from ganforge.errors import ConfigError
from ganforge.io import atomic_path, write_json

FORMATS = ("torchscript", "onnx", "safetensors")
ONNX_OPSET = 17


class _Unconditional(nn.Module):
    def __init__(self, generator: nn.Module) -> None:
        super().__init__()
        self.generator = generator

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.generator(z)


class _Conditional(nn.Module):
    def __init__(self, generator: nn.Module) -> None:
        super().__init__()
        self.generator = generator

    def forward(self, z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return self.generator(z, y)


def decoding(decoder: Any) -> dict[str, Any]:
    """How the run's samples go from model space to native units (see module doc)."""
    if decoder.kind == "image":
        return {"kind": "uint8", "formula": "round((clamp(x, -1, 1) + 1) * 127.5)"}
    dim = int(np.prod(decoder.shape))
    try:
        offset = decoder.decode(torch.zeros((1, *decoder.shape))).reshape(dim)
        scale = decoder.decode(torch.ones((1, *decoder.shape))).reshape(dim) - offset
    except Exception:  # noqa: BLE001 - a kind whose decoding is not numeric
        return {"kind": decoder.kind, "formula": "see codec"}
    return {
        "kind": "affine",
        "formula": "native = model * scale + offset (per dimension)",
        "scale": scale.tolist(),
        "offset": offset.tolist(),
    }


def sidecar(loaded: Any, fmt: str, out: Path) -> dict[str, Any]:
    """The JSON description written beside an exported generator."""
    from ganforge import __version__

    cfg = loaded.config
    inputs: dict[str, Any] = {
        "z": {
            "shape": [None, cfg.model.noise_dim],
            "dtype": "float32",
            "distribution": cfg.noise,
            "std": cfg.noise_std,
            "draw": "z = noise * std, noise ~ N(0, 1)"
            if cfg.noise == "gaussian"
            else "z = noise * std, noise ~ U(-1, 1)",
        }
    }
    if loaded.num_classes:
        inputs["y"] = {"shape": [None], "dtype": "int64", "num_classes": loaded.num_classes}
        if loaded.decoder.label_prior is not None:  # self-conditioned: draw y at these rates
            inputs["y"]["label_prior"] = np.asarray(loaded.decoder.label_prior).tolist()
    return {
        "format": fmt,
        "file": out.name,
        "ganforge": __version__,
        "torch": torch.__version__,
        "source": str(loaded.path),
        "step": loaded.step,
        "generator": "ema" if loaded.uses_ema else "raw",
        "inputs": inputs,
        "output": {
            "shape": [None, *loaded.decoder.shape],
            "dtype": "float32",
            "space": "model",
            "kind": loaded.decoder.kind,
        },
        "decoding": decoding(loaded.decoder),
        "codec": loaded.decoder.codec(),
        "model": cfg.to_dict()["model"],
    }


def _example(loaded: Any, n: int = 2) -> tuple[torch.Tensor, ...]:
    z = torch.zeros((n, loaded.config.model.noise_dim))
    if loaded.num_classes:
        return z, torch.zeros(n, dtype=torch.long)
    return (z,)


def _wrapped(loaded: Any) -> nn.Module:
    g = loaded.generator.to("cpu").eval()
    return (_Conditional(g) if loaded.num_classes else _Unconditional(g)).eval()


def _torchscript(loaded: Any, tmp: Path) -> None:
    with torch.no_grad(), warnings.catch_warnings():
        warnings.filterwarnings("ignore", "`torch.jit", DeprecationWarning)  # still supported
        traced = torch.jit.trace(_wrapped(loaded), _example(loaded), check_trace=False)
        torch.jit.save(traced, str(tmp))


def _onnx(loaded: Any, tmp: Path) -> None:
    try:
        import onnx  # noqa: F401
    except ImportError:
        raise ConfigError(
            "ONNX export needs the onnx package: pip install 'ganforge[onnx]'"
        ) from None
    names = ["z", "y"][: len(_example(loaded))]
    axes = {name: {0: "n"} for name in [*names, "x"]}
    with torch.no_grad(), warnings.catch_warnings():
        # the TorchScript-based exporter: the newer one needs onnxscript besides onnx
        warnings.filterwarnings("ignore", category=DeprecationWarning)
        torch.onnx.export(
            _wrapped(loaded),
            _example(loaded),
            str(tmp),
            input_names=names,
            output_names=["x"],
            dynamic_axes=axes,
            opset_version=ONNX_OPSET,
            dynamo=False,
        )


def _safetensors(loaded: Any, tmp: Path) -> None:
    from safetensors.torch import save_file

    weights = loaded.generator.state_dict()
    state = {k: v.detach().cpu().contiguous().clone() for k, v in weights.items()}
    meta = {"ganforge-generator": json.dumps(sidecar(loaded, "safetensors", tmp))}
    save_file(state, str(tmp), metadata=meta)


WRITERS = {"torchscript": _torchscript, "onnx": _onnx, "safetensors": _safetensors}


def export_generator(
    source: str | Path, fmt: str, out: str | Path, ema: bool = True, which: str = "latest"
) -> tuple[Path, Path]:
    """Write the generator of a run (or checkpoint file) ``source`` to ``out`` in ``fmt``
    and its sidecar to ``out + ".json"``; returns both paths."""
    from ganforge.api import load_generator

    if fmt not in FORMATS:
        raise ConfigError(f"--format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    out = Path(out)
    if out.is_dir():
        raise ConfigError(f"--out {str(out)!r} is a folder; give a file name")
    loaded = load_generator(source, which, ema=ema, device="cpu")
    with atomic_path(out) as tmp:
        WRITERS[fmt](loaded, tmp)
    side = out.with_name(out.name + ".json")
    write_json(side, sidecar(loaded, fmt, out))
    return out, side
