"""The train command's flags are generated from the config fields: every field with CLI
metadata is a flag (booleans as --x/--no-x), and each reaches the resolved config."""

from __future__ import annotations

import json

from ganforge.cli import build_parser, main
from ganforge.config import ModelConfig, TrainConfig, cli_options


def test_every_config_field_is_a_train_flag() -> None:
    train = build_parser()._subparsers._group_actions[0].choices["train"]
    flags = {s for a in train._actions for s in a.option_strings}
    for cls in (TrainConfig, ModelConfig):
        for field in cli_options(cls):
            name = "--" + field.name.replace("_", "-")
            assert name in flags, name
            if str(field.type).startswith("bool"):
                assert "--no-" + name[2:] in flags, name


def test_boolean_and_tuple_flags_reach_the_resolved_config(capsys) -> None:
    args = ["train", "--dry-run", "--no-reuse-fake", "--spectral-norm", "--g-batch-norm"]
    assert main([*args, "--betas", "0.1,0.2", "--keep-checkpoints", "4"]) == 0
    cfg = json.loads(capsys.readouterr().out)
    assert cfg["reuse_fake"] is False and cfg["betas"] == [0.1, 0.2]
    assert cfg["model"]["spectral_norm"] is True and cfg["model"]["g_batch_norm"] is True
    assert cfg["keep_checkpoints"] == 4
