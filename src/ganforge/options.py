"""The building blocks of the config dataclasses: the closed sets of option values
(``Literal`` types), the checks ``__post_init__`` runs, and :func:`option`, a field with
its CLI help. Imports nothing else of ganforge but its errors."""

from __future__ import annotations

import dataclasses
import math
from typing import Any, Literal, get_args

from ganforge.errors import ConfigError, OptionTypeError

Activation = Literal["relu", "leaky_relu", "tanh", "elu", "gelu", "silu", "maxout"]
OutputActivation = Literal["linear", "tanh", "sigmoid"]
Optimizer = Literal["adam", "rmsprop"]
Schedule = Literal["constant", "linear", "cosine", "linear-phases", "cosine-phases"]
Device = Literal["auto", "cpu", "cuda"]
Conditioning = Literal["none", "concat", "projection", "acgan", "projection-ac", "prompt"]
Tokenizer = Literal["char", "word"]
OnNaN = Literal["stop", "rollback"]
Precision = Literal["fp32", "bf16", "fp16"]
TableHeads = Literal["independent", "sequential"]
NoiseKind = Literal["gaussian", "uniform"]
Update = Literal["alternating", "simultaneous"]


def _check_literal(name: str, value: Any, options: Any) -> None:
    allowed = get_args(options)
    if value not in allowed:
        raise ConfigError(f"{name} must be one of {', '.join(map(str, allowed))}; got {value!r}")


def _check_int(name: str, value: Any, minimum: int = 1, allow_none: bool = False) -> None:
    if value is None and allow_none:
        return
    if isinstance(value, bool) or not isinstance(value, int):
        raise OptionTypeError(f"{name} must be an integer, got {value!r}")
    if value < minimum:
        raise ConfigError(f"{name} must be >= {minimum}, got {value}")


def _check_float(
    name: str,
    value: Any,
    lo: float | None = None,
    hi: float | None = None,
    allow_none: bool = False,
    lo_open: bool = False,
    hi_open: bool = False,
) -> None:
    if value is None and allow_none:
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise OptionTypeError(f"{name} must be a number, got {value!r}")
    if not math.isfinite(value):
        raise ConfigError(f"{name} must be finite, got {value}")
    if lo is not None and (value <= lo if lo_open else value < lo):
        raise ConfigError(f"{name} must be {'>' if lo_open else '>='} {lo}, got {value}")
    if hi is not None and (value >= hi if hi_open else value > hi):
        raise ConfigError(f"{name} must be {'<' if hi_open else '<='} {hi}, got {value}")


def _int_tuple(name: str, value: Any) -> tuple[int, ...]:
    if isinstance(value, str):
        value = [v for v in value.replace(" ", "").split(",") if v]
    try:
        out = tuple(int(v) for v in value)
    except (TypeError, ValueError):
        raise ConfigError(f"{name} must be a list of layer widths, got {value!r}") from None
    if any(v < 1 for v in out):
        raise ConfigError(f"{name} widths must be positive, got {list(out)}")
    return out


def option(default: Any, help: str, group: str = "", cli: bool = True) -> Any:
    """A config field with its CLI help: ``--name-with-dashes`` is generated from the field
    (``group``: the help section; ``mlp``/``dcgan`` for architecture-specific options)."""
    return dataclasses.field(default=default, metadata={"help": help, "group": group, "cli": cli})
