"""Model builders (``register_model``) and named architecture presets (``register_preset``).

A builder maps ``(ModelConfig, sample shape)`` to ``(generator, discriminator)``. A preset
is a named :class:`~ganforge.config.ModelConfig`; CLI/model options override its fields.

Every generator is called as ``G(z, y=None)`` and every discriminator as ``D(x, y=None)``
(unconditional models ignore ``y``), so no caller branches on labels. A discriminator
returns its logits ``(B,)``; one with a class head (AC-GAN) also offers
``logits_and_classes(x) -> ((B,), (B, K))``.
"""

from __future__ import annotations

import torch
from torch import nn

from ganforge.config import ModelConfig
from ganforge.errors import ConfigError
from ganforge.models.catalogue import (  # noqa: F401 - the public registry API
    MODELS,
    PRESETS,
    Builder,
    Preset,
    get_preset,
    list_presets,
    register_model,
    register_preset,
)


class Packed(nn.Module):
    """PacGAN packing: D judges ``pack`` samples at once, concatenated along dim 1.

    ``(B, C, ...) -> (B / pack, pack * C, ...) -> inner -> (B / pack,)``; works for flat
    vectors and images alike because samples are contiguous in memory.
    """

    def __init__(self, inner: nn.Module, pack: int) -> None:
        super().__init__()
        self.inner, self.pack = inner, pack

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        return self.inner(pack_samples(x, self.pack))


class LabelConcatGenerator(nn.Module):
    """Conditional G: ``G_inner(concat(z, embed(y)))``; ``(B, noise_dim), (B,) -> (B, *shape)``."""

    def __init__(self, inner: nn.Module, num_classes: int, embed_dim: int) -> None:
        super().__init__()
        self.inner = inner
        self.embed = nn.Embedding(num_classes, embed_dim)

    def forward(self, z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return self.inner(torch.cat([z, self.embed(y)], dim=1))


class LabelConcatDiscriminator(nn.Module):
    """Conditional D: one-hot labels appended along dim 1 (as constant channels for
    images): ``(B, C, ...), (B,) -> D_inner((B, C + K, ...)) -> (B,)``."""

    def __init__(self, inner: nn.Module, num_classes: int) -> None:
        super().__init__()
        self.inner, self.num_classes = inner, num_classes

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        onehot = nn.functional.one_hot(y, self.num_classes).to(x.dtype)  # (B, K)
        onehot = onehot.view(*onehot.shape, *([1] * (x.dim() - 2))).expand(-1, -1, *x.shape[2:])
        return self.inner(torch.cat([x, onehot], dim=1))


def _require_features_head(inner: nn.Module) -> None:
    """Projection and AC-GAN discriminators build on ``features(x) -> (B, F)`` and
    ``head: (B, F) -> (B, 1)`` of the unconditional D."""
    if not (hasattr(inner, "features") and hasattr(inner, "head")):
        raise ConfigError(
            f"{type(inner).__name__} has no features/head split; use conditional: concat"
        )


def pack_samples(x: torch.Tensor, pack: int) -> torch.Tensor:
    """PacGAN grouping: ``(B, C, ...) -> (B / pack, pack * C, ...)``; samples
    ``pack * j .. pack * j + pack - 1`` form pack ``j`` (contiguous, so real and fake
    halves of a batch whose size is a multiple of ``pack`` never share a pack)."""
    b = x.shape[0]
    if b % pack:
        raise ValueError(f"batch of {b} is not a multiple of pack {pack}")
    return x.reshape(b // pack, pack * x.shape[1], *x.shape[2:])


class ProjectionDiscriminator(nn.Module):
    """Projection D (Miyato & Koyama 2018): ``head(φ(x)) + <embed(y), φ(x)>``.

    ``inner`` must expose ``features(x) -> (B, F)`` and ``head: (B, F) -> (B, 1)``. With
    ``pack > 1`` (PacGAN), ``inner`` is built for ``pack`` stacked samples and the
    projection uses the sum of the pack's label embeddings: ``(B, ...) -> (B / pack,)``.
    With ``classify`` (``--conditional projection-ac``) it also has AC-GAN's class head on
    the same features, ``classify(φ(x)) -> (B, K)``, for the objective's class loss: the
    projection keeps each class's variety, the class head pushes samples towards their
    label.
    """

    def __init__(
        self, inner: nn.Module, num_classes: int, pack: int = 1, classify: bool = False
    ) -> None:
        super().__init__()
        _require_features_head(inner)
        self.inner, self.pack, self.num_classes = inner, pack, num_classes
        width = inner.head.in_features
        self.embed = nn.Embedding(num_classes, width)
        nn.init.normal_(self.embed.weight, std=0.02)
        if classify:  # projection-ac: AC-GAN's class head on the same features
            self.classify = nn.Linear(width, pack * num_classes)

    def logits_and_classes(
        self, x: torch.Tensor, y: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """The projection logits ``(B / pack,)`` and the class head's logits ``(B, K)`` of
        one forward pass (``None`` without the class head)."""
        h = self.inner.features(pack_samples(x, self.pack))  # (B / pack, F)
        e = self.embed(y).view(h.shape[0], self.pack, -1).sum(dim=1)  # (B / pack, F)
        logits = self.inner.head(h).squeeze(1) + (e * h).sum(dim=1)
        if not hasattr(self, "classify"):
            return logits, None
        return logits, self.classify(h).view(x.shape[0], self.num_classes)

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return self.logits_and_classes(x, y)[0]


class AuxClassifierDiscriminator(nn.Module):
    """AC-GAN discriminator (Odena et al., 2017): ``head(φ(x))`` judges real vs fake
    without the label; a second head ``classify(φ(x)) -> (B, K)`` predicts the class.
    ``forward`` returns the adversarial logits ``(B,)``; ``logits_and_classes`` returns
    them with the class logits ``(B, K)`` of the same forward pass, for the objective's
    auxiliary loss. With ``pack > 1`` the adversarial head judges packs ``(B / pack,)``
    while the class head still names every sample's class ``(B, K)``.
    """

    def __init__(self, inner: nn.Module, num_classes: int, pack: int = 1) -> None:
        super().__init__()
        _require_features_head(inner)
        self.inner, self.pack, self.num_classes = inner, pack, num_classes
        self.classify = nn.Linear(inner.head.in_features, pack * num_classes)

    def logits_and_classes(
        self, x: torch.Tensor, y: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.inner.features(pack_samples(x, self.pack))  # (B / pack, F)
        classes = self.classify(h).view(x.shape[0], self.num_classes)  # (B, K)
        return self.inner.head(h).squeeze(1), classes

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        return self.logits_and_classes(x)[0]


def build_models(
    cfg: ModelConfig, shape: tuple[int, ...], layout: dict | None = None
) -> tuple[nn.Module, nn.Module]:
    """Build ``(G, D)`` for samples of ``shape`` from a resolved model config.

    ``layout``: the dataset's ``output_layout``, handed to builders marked
    ``takes_layout`` (the table model shapes its output heads to the columns); others
    ignore it.

    With ``cfg.pack > 1`` the builder's discriminator is made for ``pack`` samples
    stacked along the first data axis and wrapped in :class:`Packed`. With
    ``cfg.conditional`` the models are wrapped to take labels: ``G(z, y)``, ``D(x, y)``;
    packing then keeps each sample with its label (concat: the one-hot channels are
    appended per sample before packing; projection, projection-ac and acgan: see their
    classes).
    """
    import dataclasses
    import functools

    shape = tuple(shape)
    builder = MODELS.get(cfg.arch)
    if getattr(builder, "takes_layout", False):
        builder = functools.partial(builder, layout=layout)
    p = cfg.pack
    if cfg.conditional == "prompt":  # the builder's generator reads prompts itself
        if not getattr(builder, "prompts", False):
            raise ConfigError(f"model {cfg.arch!r} cannot read prompts (conditional: prompt)")
    elif cfg.conditional != "none":
        k = cfg.num_classes
        if k < 2:
            raise ConfigError(f"a conditional model needs num_classes >= 2, got {k}")
        g_cfg = dataclasses.replace(cfg, noise_dim=cfg.noise_dim + cfg.embed_dim)
        g_inner, _ = builder(g_cfg, shape)
        g = LabelConcatGenerator(g_inner, k, cfg.embed_dim)
        if cfg.conditional == "concat":
            _, d_inner = builder(cfg, (p * (shape[0] + k), *shape[1:]))
            d = LabelConcatDiscriminator(Packed(d_inner, p) if p > 1 else d_inner, k)
        elif cfg.conditional == "acgan":
            _, d_inner = builder(cfg, (p * shape[0], *shape[1:]))
            d = AuxClassifierDiscriminator(d_inner, k, pack=p)
        else:  # projection, or projection-ac with a class head
            _, d_inner = builder(cfg, (p * shape[0], *shape[1:]))
            d = ProjectionDiscriminator(
                d_inner, k, pack=p, classify=cfg.conditional != "projection"
            )
        return g, d
    g, d = builder(cfg, shape)
    if cfg.pack > 1:
        _, d_inner = builder(cfg, (cfg.pack * shape[0], *shape[1:]))
        d = Packed(d_inner, cfg.pack)
    return g, d


def count_parameters(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


from ganforge.models.presets import register_builtins  # noqa: E402 - after the wrappers

register_builtins()
