"""Feature extractors for image metrics, behind a validated registry.

Built-ins (registered through the same :func:`register_extractor` as user code):

- ``fashion-cnn``: small CNN trained on Fashion-MNIST, shipped with the package;
  128-d penultimate features and 10 class probabilities; 28x28 greyscale input.
- ``mnist-cnn``: the same network trained on MNIST, listed only when its weights
  file is present (train it with ``scripts/train_feature_cnn.py --dataset mnist``).
- ``inception``: FID Inception-v3 from a TorchScript file you supply (argument
  ``path`` or env ``GANFORGE_INCEPTION``); 2048-d pool3 features.
- ``train``: :class:`~ganforge.features.trained.TrainedCNNExtractor`, the same network
  trained once on labelled reference data (argument ``reference``, a
  :class:`~ganforge.features.trained.LabelledReference`), cached by the data's SHA-256;
  reported as ``trained-cnn`` with its test accuracy.
- ``pixels``: flattened pixels.
- ``module``: any ``torch.nn.Module`` (argument ``module``).

>>> ext = get_extractor("fashion-cnn")          # doctest: +SKIP
>>> out = ext.extract(images_uint8)              # features (N, 128), probs (N, 10)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ganforge.errors import ConfigError
from ganforge.registry import Registry

__all__ = [
    "EXTRACTORS",
    "ExtractedFeatures",
    "FeatureExtractor",
    "get_extractor",
    "list_extractors",
    "register_extractor",
]

#: name -> factory(**kwargs) returning a FeatureExtractor.
EXTRACTORS: Registry[Callable[..., Any]] = Registry("feature extractor", Callable)


def register_extractor(
    name: str, factory: Callable[..., Any], *, overwrite: bool = False
) -> Callable[..., Any]:
    """Register ``factory(**kwargs) -> FeatureExtractor`` under ``name``.

    Raises:
        ValueError: bad or duplicate name. TypeError: ``factory`` is not callable.
    """
    return EXTRACTORS.register(name, factory, overwrite=overwrite)


def list_extractors() -> list[str]:
    """Sorted names of the registered extractors."""
    return EXTRACTORS.names()


def get_extractor(spec: Any, **kwargs: Any) -> Any:
    """Build an extractor.

    Args:
        spec: a registered name, an existing ``FeatureExtractor`` (returned as is), or
            a ``torch.nn.Module`` (wrapped; ``kwargs`` go to ``ModuleExtractor``).
        kwargs: passed to the factory, e.g. ``path=`` for ``inception``.

    Raises:
        ValueError: unknown name (the message lists the known ones) or a factory error.
        TypeError: ``spec`` of another type.
    """
    from torch import nn

    from ganforge.features.base import FeatureExtractor, ModuleExtractor

    if isinstance(spec, FeatureExtractor):
        if kwargs:
            raise TypeError("options cannot be applied to an already built extractor")
        return spec
    if isinstance(spec, nn.Module):
        return ModuleExtractor(spec, **kwargs)
    if not isinstance(spec, str):
        raise TypeError(
            f"extractor must be a name, FeatureExtractor or torch.nn.Module, "
            f"got {type(spec).__name__}"
        )
    extractor = EXTRACTORS.get(spec)(**kwargs)
    if not isinstance(extractor, FeatureExtractor):
        raise TypeError(
            f"factory of extractor {spec!r} returned {type(extractor).__name__}, "
            "not a FeatureExtractor"
        )
    return extractor


def __getattr__(name: str) -> Any:
    if name in ("FeatureExtractor", "ExtractedFeatures"):
        from ganforge.features import base

        return getattr(base, name)
    raise AttributeError(f"module 'ganforge.features' has no attribute {name!r}")


def _cnn_factory(name: str, filename: str) -> Callable[..., Any]:
    def factory(weights: str | None = None) -> Any:
        from ganforge.features.base import CNNExtractor
        from ganforge.features.cnn import WEIGHTS_DIR

        return CNNExtractor(name, weights if weights is not None else WEIGHTS_DIR / filename)

    factory.__doc__ = f"{name}: shipped CNN (weights default: features/weights/{filename})."
    return factory


def _inception_factory(path: str | None = None, probs: bool = False) -> Any:
    from ganforge.features.base import InceptionExtractor

    return InceptionExtractor(path=path, probs=probs)


def _train_factory(reference: Any = None, recipe: Any = None, use_cache: bool = True) -> Any:
    from ganforge.features.trained import trained_extractor

    if reference is None:
        raise ConfigError(
            "the 'train' extractor is trained on labelled reference data: evaluate a run "
            "of a labelled image dataset, or give --reference a dataset (mnist with "
            "--data-dir) or a folder with one sub-folder per class"
        )
    return trained_extractor(reference, recipe, use_cache=use_cache)


def _pixels_factory(size: tuple[int, int] | None = None, channels: int | None = None) -> Any:
    from ganforge.features.base import PixelExtractor

    return PixelExtractor(size=size, channels=channels)


def _module_factory(module: Any = None, **kwargs: Any) -> Any:
    from ganforge.features.base import ModuleExtractor

    if module is None:
        raise ConfigError("the 'module' extractor needs module=<torch.nn.Module>")
    return ModuleExtractor(module, **kwargs)


def _register_builtins() -> None:
    from pathlib import Path

    weights = Path(__file__).resolve().parent / "weights"
    register_extractor("fashion-cnn", _cnn_factory("fashion-cnn", "fashion_cnn.safetensors"))
    if (weights / "mnist_cnn.safetensors").is_file():
        register_extractor("mnist-cnn", _cnn_factory("mnist-cnn", "mnist_cnn.safetensors"))
    register_extractor("inception", _inception_factory)
    register_extractor("train", _train_factory)
    register_extractor("pixels", _pixels_factory)
    register_extractor("module", _module_factory)


_register_builtins()
