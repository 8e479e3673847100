"""The registries of model architectures (builders) and named presets.

A builder maps ``(ModelConfig, sample shape)`` to ``(generator, discriminator)``; a preset
is a named :class:`~ganforge.config.ModelConfig` that CLI/model options override.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from torch import nn

from ganforge.config import ModelConfig
from ganforge.registry import Registry

Builder = Callable[[ModelConfig, tuple], tuple[nn.Module, nn.Module]]


@dataclass(frozen=True)
class Preset:
    name: str
    model: ModelConfig
    description: str


MODELS: Registry[Callable] = Registry("model architecture")
PRESETS: Registry[Preset] = Registry("preset", Preset)


def register_model(name: str, builder: Builder) -> Builder:
    if not callable(builder):
        raise TypeError(f"model builder {name!r} must be callable")
    return MODELS.register(name, builder)


def register_preset(preset: Preset) -> Preset:
    if preset.model.arch not in MODELS:
        raise ValueError(f"preset {preset.name!r} uses unknown architecture {preset.model.arch!r}")
    return PRESETS.register(preset.name, preset)


def get_preset(name: str) -> Preset:
    return PRESETS.get(name)


def list_presets() -> list[str]:
    return PRESETS.names()
