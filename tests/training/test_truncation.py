"""The truncation trick: noise from a normal truncated to [-t, t], in sampling, the API
and the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from scipy import stats

from conftest import tiny_config
from ganforge.api import evaluate, load_generator
from ganforge.cli import main
from ganforge.training.sampling import truncated_normal


def test_truncated_normal_matches_the_reference_distribution() -> None:
    t = 0.5
    z = truncated_normal((200_000,), t, torch.Generator().manual_seed(0)).numpy()
    assert np.abs(z).max() <= t
    ref = stats.truncnorm(-t, t)
    assert z.std() == pytest.approx(ref.std(), rel=0.01)  # 0.2838, not 1
    assert stats.kstest(z, ref.cdf).pvalue > 1e-3
    # reproducible from the generator's seed
    again = truncated_normal((200_000,), t, torch.Generator().manual_seed(0)).numpy()
    np.testing.assert_array_equal(z, again)
    # a bound no draw reaches leaves the plain normal stream untouched
    wide = truncated_normal((1000,), 50.0, torch.Generator().manual_seed(3))
    assert torch.equal(wide, torch.randn(1000, generator=torch.Generator().manual_seed(3)))
    assert torch.equal(
        truncated_normal((7,), None, torch.Generator().manual_seed(1)),
        torch.randn(7, generator=torch.Generator().manual_seed(1)),
    )


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from ganforge.training.trainer import Trainer

    out = tmp_path_factory.mktemp("trunc") / "run"
    Trainer(tiny_config(out=str(out), steps=3)).fit()
    return out


def test_sampling_with_truncation(run: Path) -> None:
    loaded = load_generator(run)
    plain = loaded.sample(4000, seed=1)
    narrow = loaded.sample(4000, seed=1, truncation=0.2)
    assert plain.shape == narrow.shape
    # a small truncation narrows the noise, hence the samples of this smooth generator
    assert narrow.std(axis=0).sum() < plain.std(axis=0).sum()
    np.testing.assert_array_equal(narrow, loaded.sample(4000, seed=1, truncation=0.2))
    with pytest.raises(ValueError, match="truncation must be a positive number"):
        loaded.sample(10, truncation=0.0)
    metrics = evaluate(run, n=200, truncation=0.2)
    assert metrics["protocol"]["truncation"] == 0.2


def test_cli_truncation(run: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "s.npy"
    assert main(["sample", str(run), "--n", "50", "--truncation", "0.2", "--out", str(out)]) == 0
    np.testing.assert_array_equal(
        np.load(out), load_generator(run).sample(50, seed=0, truncation=0.2)
    )
    assert main(["sample", str(run), "--n", "5", "--truncation", "-1", "--out", str(out)]) == 2
    assert "truncation must be a positive number" in capsys.readouterr().err
    report = tmp_path / "m.json"
    args = ["evaluate", str(run), "--n", "100", "--truncation", "0.3", "--out", str(report)]
    assert main(args) == 0
    assert json.loads(report.read_text())["protocol"]["truncation"] == 0.3


def test_generate_builds_no_autograd_graph() -> None:
    """Sampling runs under inference mode: the generator's weights require grad, the
    samples do not, and the generator is back in its own mode afterwards."""
    from ganforge.training.sampling import generate

    class Tiny(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.lin = torch.nn.Linear(4, 2)

        def forward(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
            assert torch.is_inference_mode_enabled()
            return self.lin(z)

    g = Tiny().train()
    out = generate(g, 5, 4, seed=0)
    assert out.shape == (5, 2) and not out.requires_grad and g.training
