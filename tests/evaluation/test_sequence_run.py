"""A sequence run is evaluated by the registered ``sequence`` evaluator without the trainer
naming the kind: ``metrics.json`` holds the text metrics, the answer accuracy of held-out
prompts completed by the run's generator, the floor, and the text panel is drawn."""

from __future__ import annotations

import json
from pathlib import Path

from ganforge.config import TrainConfig
from ganforge.data.grammars import arithmetic_corpus
from ganforge.training.trainer import train


def test_a_prompted_arithmetic_run_writes_the_text_metrics(tmp_path: Path) -> None:
    cfg = TrainConfig(
        dataset="arithmetic",
        model={"seq_width": 16, "seq_blocks": 1, "noise_dim": 8, "conditional": "prompt"},
        steps=2,
        batch_size=16,
        threads=1,
        eval_samples=64,
        sample_every=2,
        checkpoint_every=2,
        out=str(tmp_path / "run"),
    )
    train(cfg)
    run = tmp_path / "run"
    m = json.loads((run / "metrics.json").read_text())
    fractions = ["validity", "correctness", "answer_accuracy", "uniqueness", "novelty"]
    fractions += ["jsd_1", "jsd_2", "jsd_3", "jsd_4", "bleu4", "self_bleu4"]
    assert all(0.0 <= m[name] <= 1.0 for name in fractions)
    assert m["length_w1"] >= 0 and m["mean_position_entropy"] >= 0
    assert m["answer_accuracy"] < 0.2  # two steps: the generator cannot add yet
    floor = m["real_vs_real"]
    assert floor["validity"] == floor["correctness"] == 1.0 and floor["novelty"] == 0.0
    assert "answer_accuracy" not in floor
    p = m["protocol"]
    assert (p["n_fake"], p["n_prompts"], p["skipped"]) == (64, 64, [])
    assert p["tokenization"] == "characters" and "add-one" in p["bleu"]
    train_lines, heldout = arithmetic_corpus(0)  # the profile spans the longest line
    assert len(m["position_entropy"]) == max(len(s) for s in train_lines + heldout)
    assert (run / "plots" / "text_samples.png").exists()
