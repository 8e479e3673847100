"""Sequence runs: a short run learns a tiny grammar's syntax, exact resume, prompts,
and the sample command for text."""

import json
import re
from pathlib import Path

import pytest
import torch

from ganforge.api import load_generator
from ganforge.cli import main
from ganforge.config import TrainConfig
from ganforge.defaults import resolve
from ganforge.errors import ConfigError
from ganforge.losses import get_loss
from ganforge.training.sampling import complete, sample_lines
from ganforge.training.trainer import Trainer

TINY = re.compile(r"[ab]c[de]{1,2}")
TINY_LINES = [f"{a}c{t}" for a in "ab" for t in ("d", "e", "dd", "de", "ed", "ee")]


def _tiny_file(tmp_path: Path) -> str:
    path = tmp_path / "tiny.txt"
    path.write_text("\n".join(TINY_LINES * 5) + "\n", encoding="utf-8")
    return str(path)


def _cfg(tmp_path: Path, **kw) -> TrainConfig:
    base = dict(
        dataset=_tiny_file(tmp_path),
        model={"seq_width": 16, "seq_blocks": 1, "noise_dim": 8},
        steps=8,
        batch_size=16,
        n_critic=2,
        threads=1,
        log_every=4,
        sample_every=0,
        checkpoint_every=4,
        out=str(tmp_path / "run"),
    )
    base.update(kw)
    return TrainConfig(**base)


@pytest.fixture
def no_eval(monkeypatch):
    """Skip the end-of-run evaluation and plots (the evaluator is tested elsewhere)."""
    monkeypatch.setattr(Trainer, "evaluate", lambda self, n=None, seed=0: {"protocol": {}})
    monkeypatch.setattr(Trainer, "_plots", lambda self: None)


def _validity(lines):
    return sum(bool(TINY.fullmatch(s)) for s in lines) / len(lines)


def test_short_run_learns_a_tiny_grammar(tmp_path, no_eval):
    """A pure GAN, seq-conv with WGAN-GP, on lines [ab]c[de]{1,2}: an untrained
    generator writes almost nothing valid; 300 steps write mostly valid lines, of several
    kinds."""
    cfg = _cfg(
        tmp_path,
        preset="seq-conv",
        steps=300,
        batch_size=32,
        n_critic=2,
        lr_g=1e-3,
        lr_d=1e-3,
        betas=(0.0, 0.9),  # WGAN-GP's own, not the likelihood-warm-started defaults'
        lr_schedule="constant",
    )
    trainer = Trainer(cfg)
    before = trainer.sample(500, seed=1)
    trainer.fit()
    after = trainer.sample(500, seed=1)
    assert isinstance(after, list) and isinstance(after[0], str)
    assert _validity(before) < 0.05
    assert _validity(after) > 0.8, after[:20]
    assert len(set(after) & set(TINY_LINES)) >= 4


def _weights(module):
    return {k: v.clone() for k, v in module.state_dict().items()}


class _Crash(Exception):
    pass


@pytest.mark.parametrize(
    "preset, mle",
    [
        ("seq-conv", {}),
        ("seq-gru", {"mle_steps": 0, "mle_weight": 0.0}),
        ("seq-gru", {"mle_steps": 3, "mle_weight": 0.5}),
        # the rates restart at step 6, after the resume at 4
        ("seq-gru", {"mle_steps": 6, "mle_weight": 0.5, "lr_schedule": "linear-phases"}),
    ],
)
def test_sequence_resume_is_bitwise_identical(tmp_path, no_eval, preset, mle, monkeypatch):
    """An 8-step run stopped after its step-4 checkpoint and resumed ends with the same
    weights as one that ran through (the GRU's Gumbel draws and annealed temperature
    included; with a maximum-likelihood warm start of 3 steps and a likelihood term; and
    with a per-phase schedule whose phase change falls after the resume)."""
    full = Trainer(_cfg(tmp_path, preset=preset, out=str(tmp_path / "full"), **mle))
    full.fit()
    part = Trainer(_cfg(tmp_path, preset=preset, out=str(tmp_path / "part"), **mle))
    step = Trainer.train_step

    def crash_after_4(self):
        if self.step == 4:
            raise _Crash
        return step(self)

    monkeypatch.setattr(Trainer, "train_step", crash_after_4)
    with pytest.raises(_Crash):
        part.fit()
    monkeypatch.setattr(Trainer, "train_step", step)
    resumed = Trainer.resume(tmp_path / "part")
    assert resumed.step == 4
    resumed.fit()
    for a, b in ((resumed.G, full.G), (resumed.D, full.D)):
        wa, wb = _weights(a), _weights(b)
        assert all(torch.equal(wa[k], wb[k]) for k in wa)


def test_warm_start_trains_g_alone_by_likelihood_then_adversarially(tmp_path, no_eval):
    """During the first ``mle_steps`` D keeps its initial weights and G's logged loss is
    its teacher-forced NLL of the step's real batch; afterwards D trains and G's loss
    holds the adversarial term plus ``mle_weight`` times the NLL."""
    cfg = _cfg(tmp_path, preset="seq-gru", steps=4, mle_steps=2, mle_weight=0.25, n_critic=1)
    tr = Trainer(cfg)
    d0, g0 = _weights(tr.D), _weights(tr.G)
    twin = Trainer(cfg)  # draws the first step's real batch and noise from the same streams
    real, y = twin.batches.real()
    z = twin.batches.noise()
    with torch.no_grad():
        expected = twin.G.nll(z, real, y).item()
    stats = tr.train_step()
    assert stats[1].item() == pytest.approx(expected, rel=1e-6)  # loss/g: the NLL
    assert stats[0].item() == 0.0  # no D update
    tr.train_step()
    assert all(torch.equal(w, _weights(tr.D)[k]) for k, w in d0.items())
    assert not all(torch.equal(w, _weights(tr.G)[k]) for k, w in g0.items())
    tr.train_step()  # step 3: adversarial
    assert not all(torch.equal(w, _weights(tr.D)[k]) for k, w in d0.items())
    fake = tr.G(z, y)
    terms = tr.objective.g_phase(fake, y, real, z)
    assert set(terms) == {"adv", "mle"}
    assert terms["mle"].item() == pytest.approx(0.25 * tr.G.nll(z, real, y).item(), rel=1e-6)
    assert set(tr.objective.g_phase(fake, y)) == {"adv"}  # no real batch: no likelihood term


def test_text_defaults_warm_start_the_gru_and_drop_the_likelihood_for_conv(tmp_path):
    """A text file's defaults: seq-gru, 2,850 likelihood steps of 3,000, the likelihood
    term kept, 2 critic steps. With seq-conv (no likelihood) the dataset's likelihood
    defaults become 0; a user's own value is kept (and refused when the networks are
    built); another loss brings its own critic steps."""
    path = _tiny_file(tmp_path)
    cfg = resolve(TrainConfig(dataset=path))
    assert (cfg.preset, cfg.steps, cfg.mle_steps, cfg.mle_weight) == ("seq-gru", 3000, 2850, 1.0)
    assert (cfg.n_critic, cfg.lr_schedule, cfg.model.straight_through) == (2, "linear", True)
    conv = resolve(TrainConfig(dataset=path, preset="seq-conv"))
    assert (conv.mle_steps, conv.mle_weight) == (0, 0)
    assert resolve(TrainConfig(dataset=path, preset="seq-conv", mle_steps=5)).mle_steps == 5
    assert resolve(TrainConfig(dataset=path, loss="hinge")).n_critic == get_loss("hinge").n_critic


def test_likelihood_options_need_a_generator_with_a_likelihood(tmp_path):
    with pytest.raises(ConfigError, match="mle_steps/mle_weight need a generator"):
        Trainer(_cfg(tmp_path, preset="seq-conv", mle_steps=2))
    with pytest.raises(ConfigError, match="mle_weight must be >= 0"):
        TrainConfig(dataset="arithmetic", mle_weight=-1.0)


def test_warm_start_learns_a_tiny_grammar_fast(tmp_path, no_eval):
    """60 maximum-likelihood steps of the GRU generator write the tiny grammar's lines
    (sampled at temperature 1), several distinct ones."""
    cfg = _cfg(
        tmp_path,
        preset="seq-gru",
        steps=60,
        mle_steps=60,
        batch_size=32,
        lr_g=1e-2,
        model={"seq_width": 32, "noise_dim": 8},
    )
    trainer = Trainer(cfg)
    before = trainer.sample(500, seed=1)
    trainer.fit()
    after = trainer.sample(500, seed=1)
    assert _validity(before) < 0.05
    assert _validity(after) > 0.9, after[:20]
    assert len(set(after) & set(TINY_LINES)) >= 8


def test_prompted_run_completes_prompts_and_samples_reproducibly(tmp_path, no_eval):
    cfg = _cfg(
        tmp_path,
        model={"seq_width": 8, "seq_blocks": 1, "noise_dim": 4, "conditional": "prompt"},
        steps=2,
    )
    tr = Trainer(cfg)
    tr.fit()
    out = complete(tr.G, tr.data, ["ac", "b", ""], seed=3)
    assert out[0].startswith("ac") and out[1].startswith("b") and len(out) == 3
    assert out == complete(tr.G, tr.data, ["ac", "b", ""], seed=3)
    loaded = load_generator(tmp_path / "run")
    a = sample_lines(loaded.generator, loaded.decoder, 20, seed=5, temperature=2.0)
    assert a == sample_lines(loaded.generator, loaded.decoder, 20, seed=5, temperature=2.0)
    assert loaded.sample(7, seed=0) == loaded.sample(7, seed=0)


def test_sample_command_writes_text_and_jsonl(tmp_path, no_eval, capsys):
    cfg = _cfg(
        tmp_path,
        model={"seq_width": 8, "seq_blocks": 1, "noise_dim": 4, "conditional": "prompt"},
        steps=2,
    )
    Trainer(cfg).fit()
    run = str(tmp_path / "run")
    out_txt = tmp_path / "s.txt"
    assert main(["sample", run, "--n", "6", "--out", str(out_txt), "--seed", "2"]) == 0
    lines = out_txt.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 6
    assert main(["sample", run, "--n", "6", "--out", str(tmp_path / "t.txt"), "--seed", "2"]) == 0
    assert (tmp_path / "t.txt").read_text(encoding="utf-8").splitlines() == lines
    out_jsonl = tmp_path / "s.jsonl"
    assert main(["sample", run, "--prompt", "bc", "--n", "3", "--out", str(out_jsonl)]) == 0
    rows = [json.loads(r) for r in out_jsonl.read_text(encoding="utf-8").splitlines()]
    assert len(rows) == 3 and all(r["prompt"] == "bc" and r["text"].startswith("bc") for r in rows)
    prompts = tmp_path / "prompts.txt"
    prompts.write_text("ac\nb\n", encoding="utf-8")
    capsys.readouterr()
    assert main(["sample", run, "--prompts", str(prompts), "--argmax"]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert len(printed) == 2 and printed[0].startswith("ac") and printed[1].startswith("b")


def test_sample_command_errors_exit_2(tmp_path, no_eval, capsys):
    Trainer(_cfg(tmp_path, steps=2)).fit()
    run = str(tmp_path / "run")
    cases = [
        (["--prompt", "ac"], "trained with prompts"),
        (["--n", "2", "--out", str(tmp_path / "x.csv")], ".txt or .jsonl"),
        (
            ["--n", "2", "--out", str(tmp_path / "x.txt"), "--argmax", "--temperature", "2"],
            "not both",
        ),
        (["--n", "2", "--out", str(tmp_path / "x.txt"), "--temperature", "0"], "positive"),
    ]
    for extra, message in cases:
        capsys.readouterr()
        assert main(["sample", run, *extra]) == 2, extra
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and message in err[0], err
    Trainer(
        _cfg(
            tmp_path,
            steps=2,
            out=str(tmp_path / "p"),
            model={"seq_width": 8, "seq_blocks": 1, "noise_dim": 4, "conditional": "prompt"},
        )
    ).fit()
    for extra, message in ((["--prompt", "az"], "'z'"), (["--prompt", "acdde"], "shorter")):
        capsys.readouterr()
        assert main(["sample", str(tmp_path / "p"), *extra]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and message in err[0], err
