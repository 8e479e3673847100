"""The ``sequence`` evaluator on hand-made lines, without a model: grammar metrics, prompted
answers through a stand-in completion function, the real-vs-real floor and the protocol."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from ganforge.data.grammars import get_grammar
from ganforge.evaluation import evaluate_samples
from ganforge.evaluation.sequence import evaluate_texts, heldout_prompts
from ganforge.metrics.text import bleu, ngram_jsd

TRAIN = ["1+1=2", "2+2=4", "3*3=9", "4-1=3", "5+0=5", "6*2=12"]
HELDOUT = ["1+2=3", "2*3=6", "7-5=2", "9+9=18"]
ARITH = get_grammar("arithmetic")


def _dataset(**kw) -> SimpleNamespace:
    base = dict(kind="sequence", train_lines=TRAIN, heldout_lines=HELDOUT, max_len=8)
    base.update(grammar="arithmetic", prompted=True)
    base.update(kw)
    return SimpleNamespace(**base)


def _oracle(prompts: list[str]) -> list[str]:
    return [p + ARITH.answer(p) for p in prompts]


def test_grammar_metrics_by_hand() -> None:
    # valid: 3 of 4 ("1+=2" does not parse); correct: "1+1=2" and "2+2=4"
    out = evaluate_texts(["1+1=2", "1+1=3", "1+=2", "2+2=4"], TRAIN, HELDOUT, grammar=ARITH)
    assert out["validity"] == 0.75
    assert out["correctness"] == 0.5
    assert out["uniqueness"] == 1.0
    assert out["novelty"] == 0.5  # "1+1=3" and "1+=2" are not training lines
    assert "answer_accuracy" not in out  # not a prompted dataset


def test_text_metrics_against_the_whole_heldout_reference() -> None:
    samples = ["1+2=3", "2*3=6", "7-5=2", "88*8=704"]  # as many samples as held-out lines
    out = evaluate_texts(samples, TRAIN, HELDOUT)
    assert out["bleu4"] == pytest.approx(bleu(samples, HELDOUT, 4))
    assert out["jsd_2"] == pytest.approx(ngram_jsd(samples, HELDOUT, 2))
    assert "validity" not in out  # any text: no grammar, no grammar metrics
    # lengths 5, 5, 5, 8 against 5, 5, 5, 6: a quarter of the mass moves 2 characters
    assert out["length_w1"] == pytest.approx(0.5)
    assert out["novelty"] == 1.0 and out["uniqueness"] == 1.0


def test_answer_accuracy_with_a_stand_in_completer() -> None:
    ds = _dataset()
    perfect = evaluate_samples(ds, ["1+1=2"] * 4, n=4, complete=_oracle)
    assert perfect["answer_accuracy"] == 1.0
    assert perfect["protocol"]["n_prompts"] == 4

    def off_by_one(prompts: list[str]) -> list[str]:
        return [p + str(int(ARITH.answer(p)) + (p == "1+2=")) for p in prompts]

    out = evaluate_samples(ds, ["1+1=2"] * 4, n=4, complete=off_by_one)
    assert out["answer_accuracy"] == 0.75
    by_op = out["answer_accuracy_by_operator"]
    assert by_op == {"+": 0.5, "*": 1.0, "-": 1.0}

    def ignores_prompt(prompts: list[str]) -> list[str]:
        return ["1+1=2" for _ in prompts]  # correct equations, but not the ones asked

    assert evaluate_samples(ds, ["1+1=2"], n=1, complete=ignores_prompt)["answer_accuracy"] == 0
    skipped = evaluate_samples(ds, ["1+1=2"], n=1)
    assert "answer_accuracy" not in skipped
    assert skipped["protocol"]["skipped"] == ["answer_accuracy"]


def test_real_vs_real_floor_is_training_lines_against_the_heldout_reference() -> None:
    out = evaluate_texts(["1+1=3"] * 4, TRAIN, HELDOUT, grammar="arithmetic", seed=3)
    floor = out["real_vs_real"]
    assert floor["validity"] == floor["correctness"] == 1.0  # real lines are correct
    assert floor["novelty"] == 0.0  # drawn from the training lines
    assert floor["uniqueness"] == 1.0
    assert out["correctness"] == 0.0 and out["uniqueness"] == 0.25
    assert out["self_bleu4"] == pytest.approx(1.0)
    assert floor["self_bleu4"] < 0.5
    assert set(floor) >= {"jsd_1", "jsd_4", "bleu4", "length_w1", "mean_position_entropy"}
    assert "real_vs_real" in out["protocol"]


def test_protocol_records_counts_tokenization_and_smoothing() -> None:
    out = evaluate_texts(["1+1=2", "2+2=4"], TRAIN, HELDOUT)
    p = out["protocol"]
    assert (p["n_fake"], p["n_reference"], p["n_real_vs_real"]) == (2, 2, 2)
    assert p["tokenization"] == "characters"
    assert "add-one" in p["bleu"] and "n > 1" in p["bleu"]
    assert len(out["position_entropy"]) == 5  # the longest sample, no max_len given


def test_whitespace_tokens() -> None:
    out = evaluate_texts(["a b", "a c"], ["a b"], ["a b", "a c"], tokenize=str.split)
    assert out["protocol"]["tokenization"] == "whitespace-separated words"
    assert out["length_w1"] == 0.0
    assert out["jsd_1"] == pytest.approx(0.0)


def test_heldout_prompts_are_distinct_seeded_and_capped() -> None:
    lines = ["1+2=3", "1+2=3", "2*3=6", "7-5=2"]
    a = heldout_prompts(lines, ARITH, 10, seed=1)
    assert sorted(a) == ["1+2=", "2*3=", "7-5="]
    assert heldout_prompts(lines, ARITH, 10, seed=1) == a
    assert len(heldout_prompts(lines, ARITH, 2, seed=1)) == 2
