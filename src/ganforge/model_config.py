"""The architecture options of a run: :class:`ModelConfig` (re-exported by
:mod:`ganforge.config`, where the rest of a run's options live)."""

from __future__ import annotations

from dataclasses import dataclass

from ganforge.errors import ConfigError, OptionTypeError
from ganforge.options import (
    Activation,
    Conditioning,
    OutputActivation,
    TableHeads,
    _check_float,
    _check_int,
    _check_literal,
    _int_tuple,
    option,
)


@dataclass(frozen=True)
class ModelConfig:
    """Architecture of G and D. ``arch`` names a registered model builder.

    Options for every architecture come first; ``g_hidden``, ``d_hidden`` (and maxout
    activations) are read by MLP models only, ``base_width`` by DCGAN models only (the
    ``group`` in each field's metadata says which, and the CLI lists them apart).
    """

    arch: str = option("mlp", "model architecture")
    noise_dim: int = option(64, "generator noise dimension")
    g_activation: Activation = option(
        "relu", "relu, leaky_relu, tanh, elu, gelu, silu, maxout (5 pieces, MLP only)"
    )
    d_activation: Activation = option("leaky_relu", "discriminator activation")
    g_batch_norm: bool = option(False, "batch norm in the generator")
    d_batch_norm: bool = option(False, "batch norm in the discriminator")
    g_output: OutputActivation = option("linear", "linear, tanh or sigmoid")
    d_dropout: float = option(0.0, "dropout in the discriminator")
    pack: int = option(1, "PacGAN: samples judged together by D")
    conditional: Conditioning = option(
        "none",
        "none, concat, projection, acgan or projection-ac (projection D plus an AC-GAN "
        "class head; needs labels); prompt (sequences)",
    )
    num_classes: int = option(0, "classes of a conditional model (set from the data)", cli=False)
    embed_dim: int = option(16, "label embedding size for conditional G")
    spectral_norm: bool = option(False, "spectral norm on every weight layer of D")
    g_hidden: tuple[int, ...] = option(
        (256, 256, 256), "generator layer widths, e.g. 256,256", group="mlp"
    )
    d_hidden: tuple[int, ...] = option((256, 256, 256), "discriminator layer widths", group="mlp")
    base_width: int = option(64, "channels of the largest feature maps", group="dcgan")
    seq_width: int = option(128, "channels (conv) or hidden units (GRU)", group="sequence")
    seq_blocks: int = option(5, "residual blocks of the conv models", group="sequence")
    seq_critic_width: int = option(
        0, "channels of the sequence critic (0: seq_width)", group="sequence"
    )
    gumbel_tau: float = option(1.0, "Gumbel-softmax temperature at the start", group="sequence")
    gumbel_tau_end: float = option(0.1, "temperature at the end (annealed)", group="sequence")
    straight_through: bool = option(
        False, "hard one-hot forward, relaxed gradient (Gumbel)", group="sequence"
    )
    table_heads: TableHeads = option(
        "independent",
        "table model output: independent heads (CTGAN) or sequential, each column's "
        "logits reading the values drawn for the columns before it",
        group="table",
    )

    def __post_init__(self) -> None:
        _check_int("noise_dim", self.noise_dim)
        _check_int("base_width", self.base_width)
        _check_int("seq_width", self.seq_width)
        _check_int("seq_blocks", self.seq_blocks, minimum=0)
        _check_int("seq_critic_width", self.seq_critic_width, minimum=0)
        _check_float("gumbel_tau", self.gumbel_tau, 0.0, lo_open=True)
        _check_float("gumbel_tau_end", self.gumbel_tau_end, 0.0, lo_open=True)
        if not isinstance(self.straight_through, bool):
            raise OptionTypeError(
                f"straight_through must be true or false, got {self.straight_through!r}"
            )
        if not isinstance(self.spectral_norm, bool):
            raise OptionTypeError(
                f"spectral_norm must be true or false, got {self.spectral_norm!r}"
            )
        _check_int("pack", self.pack)
        _check_literal("conditional", self.conditional, Conditioning)
        _check_literal("table_heads", self.table_heads, TableHeads)
        _check_int("num_classes", self.num_classes, minimum=0)
        _check_int("embed_dim", self.embed_dim)
        object.__setattr__(self, "g_hidden", _int_tuple("g_hidden", self.g_hidden))
        object.__setattr__(self, "d_hidden", _int_tuple("d_hidden", self.d_hidden))
        _check_literal("g_activation", self.g_activation, Activation)
        _check_literal("d_activation", self.d_activation, Activation)
        _check_literal("g_output", self.g_output, OutputActivation)
        if self.arch == "dcgan" and "maxout" in (self.g_activation, self.d_activation):
            raise ConfigError("maxout units are for MLP models (dcgan has no dense hidden layers)")
        _check_float("d_dropout", self.d_dropout, 0.0, 1.0, hi_open=True)
        for name in ("g_batch_norm", "d_batch_norm"):
            if not isinstance(getattr(self, name), bool):
                raise OptionTypeError(f"{name} must be true or false, got {getattr(self, name)!r}")
