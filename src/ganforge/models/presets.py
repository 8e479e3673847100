"""The built-in architectures and presets, registered through the public calls.

Each preset is data: a name, the :class:`~ganforge.config.ModelConfig` options that differ
from the defaults, and a one-line description for ``ganforge list``.
"""

from __future__ import annotations

from typing import Any

from ganforge.config import ModelConfig
from ganforge.models.catalogue import Preset, register_model, register_preset
from ganforge.models.dcgan import build_dcgan
from ganforge.models.mlp import build_mlp
from ganforge.models.sequence import build_seq_conv, build_seq_gru
from ganforge.models.table import build_table

WIDE3 = (256, 256, 256)

BUILTIN_PRESETS: tuple[tuple[str, dict[str, Any], str], ...] = (
    (
        "toy1d",
        {"noise_dim": 1, "g_hidden": (16, 16), "d_hidden": (), "g_activation": "relu"},
        "tutorial 1-D GAN: small G (1-16-16-1), logistic-regression D (can match the mean only)",
    ),
    (
        "mlp1d",
        {"noise_dim": 1, "g_hidden": (32, 32), "d_hidden": (32, 32), "g_activation": "leaky_relu"},
        "1-D default: G and D with two 32-unit layers",
    ),
    (
        "mlp2d",
        {"noise_dim": 100, "g_hidden": WIDE3, "d_hidden": WIDE3, "g_output": "tanh"},
        "tutorial 2-D GAN: 3x256 ReLU G from 100-d noise with tanh; 3x256 LeakyReLU(0.2) D",
    ),
    (
        "toy2d",
        {"noise_dim": 16, "g_hidden": WIDE3, "d_hidden": WIDE3, "g_output": "linear"},
        "2-D default: 3x256 ReLU G with linear output (standardised data); 3x256 LeakyReLU D",
    ),
    (
        "mlp-mnist",
        {
            "noise_dim": 100,
            "g_hidden": (256, 512),
            "d_hidden": (512, 256),
            "g_activation": "leaky_relu",
            "g_batch_norm": True,
            "g_output": "tanh",
        },
        "tutorial MNIST MLP GAN: G 256/512 with batch norm + LeakyReLU, tanh, 784 outputs; "
        "D 512/256",
    ),
    (
        "mlp-tabular",
        {"noise_dim": 32, "g_hidden": (128, 128, 128), "d_hidden": (128, 128, 128)},
        "numeric tables (the default for a .csv/.npy): 3x128 ReLU G from 32-d noise with "
        "linear output; 3x128 LeakyReLU D",
    ),
    (
        "ctgan",
        {
            "arch": "ctgan",
            "noise_dim": 128,
            "g_hidden": (256, 256),
            "d_hidden": (256, 256),
            "g_batch_norm": True,
            "d_dropout": 0.5,
            "pack": 8,
        },
        "mixed-type tables (CTGAN): residual G 256/256 with batch norm, tanh values and "
        "Gumbel-softmax one-hots per column, condition vector; D 256/256 LeakyReLU(0.2) "
        "with dropout 0.5, PacGAN packs of 8",
    ),
    (
        "dcgan",
        {"arch": "dcgan", "noise_dim": 100, "base_width": 64, "g_batch_norm": True},
        "DCGAN for 28/32 px: dense 100 -> 7x7x128 (28 px) or 4x4x256 (32 px), stride-2 "
        "transposed convs with batch norm + ReLU, tanh; D strided convs 64/128(/256) "
        "with LeakyReLU(0.2)",
    ),
    (
        "dcgan64",
        {
            "arch": "dcgan",
            "noise_dim": 100,
            "base_width": 128,
            "g_activation": "leaky_relu",
            "g_batch_norm": True,
            "d_batch_norm": True,
        },
        "classic 64x64x3 DCGAN: dense 100 -> 4x4x1024, transposed convs 512/256/128 with "
        "batch norm + LeakyReLU(0.2), tanh to 3 channels; mirrored D 128/256/512/1024",
    ),
    (
        "seq-conv",
        {"arch": "seqconv", "noise_dim": 128, "seq_width": 128, "seq_blocks": 5},
        "sequences (WGAN-GP, Gulrajani et al. 2017): linear z -> 128 x L, 5 residual blocks "
        "of two Conv1d(k=5), 1x1 conv to V, softmax; the critic mirrors it",
    ),
    (
        "seq-gru",
        {
            "arch": "seqgru",
            "noise_dim": 32,
            "seq_width": 256,
            "seq_critic_width": 64,
            "seq_blocks": 2,
            "straight_through": True,
        },
        "sequences (the default): GRU generator (256 units, h0 from 32-d noise) with a "
        "teacher-forced likelihood and straight-through Gumbel-softmax tokens (temperature "
        "1 -> 0.1); critic: 1x1 conv to 64 channels, 2 residual blocks, linear",
    ),
)


def register_builtins() -> None:
    register_model("mlp", build_mlp)
    register_model("dcgan", build_dcgan)
    register_model("ctgan", build_table)
    register_model("seqconv", build_seq_conv)
    register_model("seqgru", build_seq_gru)
    for name, options, description in BUILTIN_PRESETS:
        register_preset(Preset(name, ModelConfig(**options), description))
