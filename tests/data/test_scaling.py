"""Bounded generator outputs get the data's range: for a run whose generator ends in tanh
or sigmoid, numeric data's per-dimension range (widened by a margin) is mapped onto the
activation's range instead of standardised; linear outputs and images are unchanged. The
map is stored in the codec and applied on decode; codecs without it standardise."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from ganforge.config import ModelConfig, TrainConfig
from ganforge.data import build_dataset, decoder_from_codec
from ganforge.data.base import RangeMap
from ganforge.data.scaling import BOUNDED_OUTPUTS, RANGE_MARGIN, RangeScaled
from ganforge.defaults import resolve
from ganforge.errors import CheckpointError
from ganforge.models.mlp import OUTPUTS
from ganforge.training.checkpoint import load_checkpoint

M = RANGE_MARGIN


def _data(dataset: str, **model) -> object:
    return build_dataset(resolve(TrainConfig(dataset=dataset, model=model or None)))


def _batch(ds, n: int = 20_000, seed: int = 0) -> torch.Tensor:
    return ds.sample_batch(n, torch.Generator().manual_seed(seed))[0]


def _table(tmp_path: Path) -> Path:
    """Three columns of very different scales and a constant one."""
    rng = np.random.default_rng(0)
    cols = [rng.uniform(-3, 5, 400), rng.exponential(1000.0, 400), np.full(400, 7.5)]
    path = tmp_path / "t.csv"
    np.savetxt(path, np.stack(cols, axis=1), delimiter=",", header="a,b,c", comments="")
    return path


# -- the map itself ---------------------------------------------------------------------


@pytest.mark.parametrize("bounds", [(-1.0, 1.0), (0.0, 1.0)])
def test_range_map_puts_each_dimensions_range_inside_the_bounds_with_its_own_margin(
    bounds: tuple[float, float],
) -> None:
    low, high = np.array([-2.0, 100.0, 0.0]), np.array([6.0, 101.0, 1e-3])
    rmap = RangeMap(low, high, bounds, M)
    a, b = bounds
    inner = (a + (b - a) * M / (1 + 2 * M), b - (b - a) * M / (1 + 2 * M))
    z = rmap.encode(np.stack([low, high]))
    np.testing.assert_allclose(z, np.repeat([[inner[0]], [inner[1]]], 3, axis=1))
    # the bounds decode to the range widened by the margin times each dimension's width
    edges = rmap.decode(np.array([[a] * 3, [b] * 3]))
    width = high - low
    np.testing.assert_allclose(edges, np.stack([low - M * width, high + M * width]))
    x = np.random.default_rng(1).uniform(low, high, size=(500, 3))
    np.testing.assert_allclose(rmap.decode(rmap.encode(x)), x, rtol=1e-12, atol=1e-12)
    assert ((rmap.encode(x) > a) & (rmap.encode(x) < b)).all()


def test_a_constant_dimension_maps_to_the_middle_and_always_decodes_to_its_value() -> None:
    rmap = RangeMap(np.array([0.0, 3.0]), np.array([1.0, 3.0]), (0.0, 1.0), M)
    z = rmap.encode(np.array([[0.5, 3.0], [0.5, 4.0]]))
    np.testing.assert_array_equal(z, [[0.5, 0.5], [0.5, 0.5]])
    np.testing.assert_array_equal(rmap.decode(np.array([[0.5, 0.0], [0.5, 0.9]]))[:, 1], 3.0)


def test_bounded_outputs_table_matches_the_generators_output_modules() -> None:
    big = torch.tensor([-50.0, 50.0])
    for name, module in OUTPUTS.items():
        out = module()(big).tolist()
        if name in BOUNDED_OUTPUTS:
            assert out == pytest.approx(list(BOUNDED_OUTPUTS[name]))
        else:
            assert out == [-50.0, 50.0]  # unbounded: standardised data


# -- which runs use it ------------------------------------------------------------------


@pytest.mark.parametrize("output", ["tanh", "sigmoid"])
def test_bounded_output_trains_on_the_disks_range(output: str) -> None:
    ds = _data("disk", g_output=output)
    assert isinstance(ds, RangeScaled)
    a, b = BOUNDED_OUTPUTS[output]
    lo, hi = a + (b - a) * M / (1 + 2 * M), b - (b - a) * M / (1 + 2 * M)
    x = _batch(ds)
    assert x.min() >= lo - 1e-3 and x.max() <= hi + 1e-3
    assert x.min() < lo + 0.01 and x.max() > hi - 0.01  # the rim reaches the edge
    r = np.hypot(*ds.decode(x).T)  # decoded batches are the unit disk again
    assert r.max() <= 1 + 1e-6 and r.max() > 0.999
    assert (r < 0.5).mean() == pytest.approx(0.25, abs=0.01)


def test_linear_output_and_configs_without_a_model_keep_standardised_batches() -> None:
    plain = build_dataset(TrainConfig(dataset="ring8"))  # unresolved: no model yet
    linear = _data("ring8", g_output="linear")
    for ds in (plain, linear):
        assert ds.range_map is None and "scaling" not in ds.codec()
    assert type(linear) is type(plain)
    x, labels = linear.sample_batch(64, torch.Generator().manual_seed(3))
    y, labels2 = plain.sample_batch(64, torch.Generator().manual_seed(3))
    assert torch.equal(x, y) and torch.equal(labels, labels2)


def test_images_are_left_alone_by_a_tanh_generator() -> None:
    cfg = resolve(TrainConfig(dataset="digits", preset="mlp-mnist"))
    assert cfg.model.g_output == "tanh"
    ds = build_dataset(cfg)
    assert ds.range_map is None and "scaling" not in ds.codec()


def test_gaussian_range_comes_from_real_samples_and_labels_pass_through() -> None:
    ds = _data("gaussian2d", g_output="tanh")
    low, high = ds.range_map.low, ds.range_map.high
    assert (low < -2.0).all() and (high > 2.0).all() and (high < 2.6).all()  # ~±4.4 std
    ring = _data("ring8", g_output="tanh")
    x, labels = ring.sample_batch(256, torch.Generator().manual_seed(0))
    assert labels is not None and labels.shape == (256,) and ring.num_classes == 8
    near = np.linalg.norm(ring.decode(x) - ring.modes[labels.numpy()], axis=1)
    assert near.max() < 0.06  # each point still sits at its own mode, std 0.01


def test_table_columns_map_from_their_own_range(tmp_path: Path) -> None:
    path = _table(tmp_path)
    ds = _data(str(path), g_output="tanh")
    values = np.loadtxt(path, delimiter=",", skiprows=1)
    np.testing.assert_array_equal(ds.range_map.low, values.min(0))
    np.testing.assert_array_equal(ds.range_map.high, values.max(0))
    x = _batch(ds, 4000)
    assert x.abs().max() <= 1 / (1 + 2 * M) + 1e-5
    np.testing.assert_allclose(x[:, 2], 0.0, atol=1e-6)  # constant column: the middle
    native = ds.decode(x)
    np.testing.assert_allclose(native[:, 2], 7.5)
    width = values.max(0) - values.min(0)  # float32 batches: ~1e-7 of each column's width
    assert (np.abs(native.min(0) - values.min(0)) <= 1e-6 * width).all()
    assert (np.abs(native.max(0) - values.max(0)) <= 1e-6 * width).all()


# -- the codec --------------------------------------------------------------------------


def test_codec_stores_the_map_and_the_decoder_applies_it(tmp_path: Path) -> None:
    ds = _data(str(_table(tmp_path)), g_output="sigmoid")
    codec = json.loads(json.dumps(ds.codec()))  # survives the checkpoint's JSON metadata
    assert codec["scaling"] == {
        "kind": "range",
        "low": ds.range_map.low.tolist(),
        "high": ds.range_map.high.tolist(),
        "bounds": [0.0, 1.0],
        "margin": M,
    }
    decoder = decoder_from_codec(codec)
    z = torch.rand(100, 3)
    np.testing.assert_array_equal(decoder.decode(z), ds.decode(z))
    native = ds.sample_real(50, seed=1)
    np.testing.assert_array_equal(decoder.encode(native), ds.encode(native))


def test_a_codec_without_scaling_decodes_as_before() -> None:
    ds = _data("disk", g_output="tanh")
    old = {k: v for k, v in ds.codec().items() if k != "scaling"}
    decoder = decoder_from_codec(old)
    assert decoder.range_map is None
    z = torch.randn(100, 2)
    expected = z.double().numpy() * np.array(old["std"]) + np.array(old["mean"])
    np.testing.assert_array_equal(decoder.decode(z), expected)


@pytest.mark.parametrize(
    "scaling",
    [
        {"kind": "quantile"},
        "range",
        {"kind": "range", "low": [0.0], "high": [1.0], "bounds": [-1, 1], "margin": 0.05},
        {"kind": "range", "low": [0, 0], "high": [1, -1], "bounds": [-1, 1], "margin": 0.05},
        {"kind": "range", "low": [0, 0], "high": [1, 1], "bounds": [1, -1], "margin": 0.05},
        {"kind": "range", "low": [0, 0], "high": [1, 1], "bounds": [-1, 1]},
    ],
)
def test_a_damaged_scaling_entry_is_a_checkpoint_error(scaling: object) -> None:
    codec = _data("disk").codec() | {"scaling": scaling}
    with pytest.raises(CheckpointError, match="scaling"):
        decoder_from_codec(codec)


def test_a_tanh_runs_checkpoint_decodes_inside_the_datas_range(tmp_path: Path) -> None:
    from ganforge import sample, train

    path = _table(tmp_path)
    model = ModelConfig(noise_dim=4, g_hidden=(16,), d_hidden=(16,), g_output="tanh")
    out = tmp_path / "run"
    train(
        TrainConfig(
            dataset=str(path),
            model=model,
            steps=3,
            batch_size=32,
            device="cpu",
            sample_every=0,
            eval_samples=200,
            out=str(out),
        )
    )
    codec = load_checkpoint(out / "checkpoints" / "latest.safetensors").meta["codec"]
    assert codec["scaling"]["kind"] == "range" and codec["scaling"]["bounds"] == [-1.0, 1.0]
    x = sample(out, n=500, seed=0)
    values = np.loadtxt(path, delimiter=",", skiprows=1)
    width = values.max(0) - values.min(0)
    assert (x >= values.min(0) - M * width - 1e-9).all()
    assert (x <= values.max(0) + M * width + 1e-9).all()
