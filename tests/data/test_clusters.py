"""Self-conditioning: k-means clusters of the images become the labels, their
frequencies are stored in the codec, and every sampler draws the clusters at those
frequencies; a self-conditioned run is trained, sampled and evaluated as an unconditional
one (no label accuracy: clusters are not classes)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from ganforge.api import load_generator
from ganforge.cli import main
from ganforge.config import TrainConfig
from ganforge.data import build_dataset, decoder_from_codec
from ganforge.data.clusters import SelfConditioned, SelfConditionedPoints, cluster_images
from ganforge.data.images import ArrayImageDataset
from ganforge.defaults import resolve
from ganforge.errors import ConfigError, DataError
from ganforge.training.sampling import default_labels, generate


def _three_groups(n_per: tuple[int, int, int] = (30, 50, 20), seed: int = 0):
    """Images in three groups far apart (dark, mid-grey and bright, with noise), shuffled;
    their group ``(N,)`` is the truth a clustering must find."""
    rng = np.random.default_rng(seed)
    group = rng.permutation(np.repeat([0, 1, 2], n_per))
    level = np.array([30.0, 128.0, 225.0])[group]
    images = level[:, None, None, None] + rng.normal(0, 8, (len(group), 1, 12, 12))
    labels = (np.arange(len(group)) % 2).astype(np.int64)  # the data's own labels
    return ArrayImageDataset("groups", images.clip(0, 255).astype(np.uint8), labels), group


def test_clusters_find_separated_groups_and_are_deterministic() -> None:
    data, group = _three_groups()
    clusters = cluster_images(data, 3, seed=4)
    # the same partition as the groups, up to the clusters' numbering
    pairs = {(int(c), int(g)) for c, g in zip(clusters, group, strict=True)}
    assert len(pairs) == 3 and len({c for c, _ in pairs}) == 3
    assert np.array_equal(clusters, cluster_images(data, 3, seed=4))


def test_too_few_images_for_the_clusters_is_a_data_error() -> None:
    data, _ = _three_groups((2, 2, 1))
    with pytest.raises(DataError, match="self_condition 3 needs at least 6 images"):
        cluster_images(data, 3)


def test_self_conditioned_data_hold_clusters_and_their_frequencies() -> None:
    base, group = _three_groups()
    data = SelfConditioned(base, 3, seed=0)
    assert data.num_classes == 3 and data.size == base.size and data.name == "groups"
    assert data.label_classifier is None  # clusters are not classes an evaluator can read
    counts = np.bincount(data.clusters, minlength=3)
    assert sorted(counts.tolist()) == [20, 30, 50]
    np.testing.assert_allclose(data.label_prior, counts / 100)
    x, y = data.batch_at(torch.tensor([5, 7, 11]))
    x_base, _ = base.batch_at(torch.tensor([5, 7, 11]))
    assert torch.equal(x, x_base) and y.tolist() == data.clusters[[5, 7, 11]].tolist()
    # a classifier trained on the data learns the data's own labels, not the clusters
    images, labels = data.labelled_training_split()
    assert np.array_equal(labels, base.labels) and images.shape == (100, 1, 12, 12)
    codec = json.loads(json.dumps(data.codec()))
    decoder = decoder_from_codec(codec)
    assert codec["self_condition"] == 3 and decoder.num_classes == 3
    np.testing.assert_allclose(decoder.label_prior, data.label_prior)


def test_point_clusters_label_each_sample_by_its_nearest_centre() -> None:
    base = build_dataset(resolve(TrainConfig(dataset="ring8")))
    data = SelfConditionedPoints(base, 16, seed=3)
    assert data.num_classes == 16 and data.kind == "lowdim"
    np.testing.assert_allclose(data.label_prior.sum(), 1.0)
    x, y = data.sample_batch(4000, torch.Generator().manual_seed(9))
    x_base, _ = base.sample_batch(4000, torch.Generator().manual_seed(9))
    assert torch.equal(x, x_base)  # the same draws as the data without clusters
    d = torch.cdist(x.double(), data.centres)  # the chosen centre is a nearest one
    chosen = d.gather(1, y[:, None])[:, 0]
    assert (chosen <= d.min(dim=1).values + 1e-5).all() and y.dtype == torch.int64
    # a cluster never spans two of ring8's modes (std 0.01, 0.77 apart)
    native = data.decode(x)
    mode = np.linalg.norm(native[:, None] - base.modes[None], axis=2).argmin(axis=1)
    for c in range(16):
        assert len(set(mode[(y == c).numpy()].tolist())) <= 1, c
    # the samples decode as the data's do; the codec carries the frequencies
    np.testing.assert_allclose(native, base.decode(x))
    decoder = decoder_from_codec(json.loads(json.dumps(data.codec())))
    np.testing.assert_allclose(decoder.label_prior, data.label_prior)
    np.testing.assert_allclose(decoder.decode(x), native)


def test_huge_image_sets_get_each_batchs_clusters_as_drawn() -> None:
    from ganforge.data.images import StackedDataset

    base, _ = _three_groups((60, 100, 40))
    stacked = StackedDataset(base.data[:, 0].numpy(), base.labels % 10)
    data = SelfConditioned(stacked, 4, seed=0)
    assert data.clusters is None  # 200³ triples: not labelled one by one
    x, y = data.sample_batch(64, torch.Generator().manual_seed(2))
    x_base, _ = stacked.sample_batch(64, torch.Generator().manual_seed(2))
    assert torch.equal(x, x_base)
    assert y.tolist() == data.fitted.predict(stacked.decode(x)).tolist()
    np.testing.assert_allclose(data.label_prior.sum(), 1.0)


def test_prior_labels_hold_every_class_at_its_share_in_every_prefix() -> None:
    prior = np.array([0.5, 0.3, 0.0, 0.2])
    labels = default_labels(1000, 4, prior)
    assert labels.dtype == np.int64 and 2 not in labels  # a class of frequency 0 never
    for m in (10, 37, 100, 555, 1000):
        counts = np.bincount(labels[:m], minlength=4)
        assert np.abs(counts - m * prior).max() <= 2, (m, counts)
    assert len(set(labels[:5].tolist())) >= 2  # interleaved, not in blocks
    assert default_labels(7, 3).tolist() == [0, 1, 2, 0, 1, 2, 0]  # no prior: in turn


def test_resolve_makes_a_self_conditioned_run_conditional_on_k_clusters() -> None:
    cfg = resolve(TrainConfig(dataset="digits", self_condition=6))
    assert cfg.model.conditional == "projection" and cfg.model.num_classes == 6
    cfg = resolve(TrainConfig(dataset="digits", self_condition=6, model={"conditional": "acgan"}))
    assert cfg.model.conditional == "acgan" and cfg.model.num_classes == 6
    with pytest.raises(ConfigError, match="self_condition clusters images or numeric .*sequence"):
        resolve(TrainConfig(dataset="arithmetic", self_condition=4))
    cfg = resolve(TrainConfig(dataset="ring8", self_condition=16))
    assert cfg.model.conditional == "projection" and cfg.model.num_classes == 16
    with pytest.raises(ConfigError, match="at least 2 clusters, got 1"):
        TrainConfig(dataset="digits", self_condition=1)


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 4-step self-conditioned DCGAN run on digits, snapshots every 2 steps."""
    out = tmp_path_factory.mktemp("selfcond") / "run"
    tiny = ["--base-width", "4", "--noise-dim", "8", "--batch-size", "8", "--quiet"]
    args = ["train", "--dataset", "digits", "--self-condition", "5", "--steps", "4"]
    args += ["--sample-every", "2", "--eval-samples", "60", "--device", "cpu", "--out", str(out)]
    assert main([*args, *tiny]) == 0
    return out


def test_samplers_draw_the_clusters_at_their_frequencies(run: Path, tmp_path: Path) -> None:
    cfg = TrainConfig.from_saved(json.loads((run / "config.json").read_text()))
    prior = build_dataset(resolve(cfg)).label_prior  # the clusters are rebuilt the same
    loaded = load_generator(run)
    np.testing.assert_allclose(loaded.decoder.label_prior, prior)
    assert loaded.config.model.conditional == "projection" and loaded.num_classes == 5
    with np.load(run / "samples" / "step_0000004.npz") as f:
        assert f["labels"].tolist() == default_labels(100, 5, prior).tolist()
    assert main(["sample", str(run), "--n", "40", "--out", str(tmp_path / "s.npz")]) == 0
    with np.load(tmp_path / "s.npz") as f:
        assert f["labels"].tolist() == default_labels(40, 5, prior).tolist()
    # Python's sampler gives the generator's images for those labels, not the classes in turn
    cfg = loaded.config
    want = generate(
        loaded.generator, 40, cfg.model.noise_dim, seed=0,
        num_classes=5, labels=default_labels(40, 5, prior), decode=loaded.decoder.decode,
    )  # fmt: skip
    in_turn = generate(
        loaded.generator, 40, cfg.model.noise_dim, seed=0,
        num_classes=5, decode=loaded.decoder.decode,
    )  # fmt: skip
    assert np.array_equal(loaded.sample(40, seed=0), want)
    assert not np.array_equal(want, in_turn)


def test_a_self_conditioned_run_is_evaluated_as_an_unconditional_one(run: Path) -> None:
    metrics = json.loads((run / "metrics.json").read_text())
    assert "fid" in metrics and "label_accuracy" not in metrics
    assert main(["evaluate", str(run), "--n", "60"]) == 0
    assert "label_accuracy" not in json.loads((run / "metrics.json").read_text())


def test_exports_and_decoders_keep_the_cluster_frequencies(run: Path, tmp_path: Path) -> None:
    from ganforge.export import export_generator

    prior = load_generator(run).decoder.label_prior
    _, side = export_generator(run, "safetensors", tmp_path / "g.safetensors")
    y = json.loads(side.read_text())["inputs"]["y"]
    assert y["num_classes"] == 5
    np.testing.assert_allclose(y["label_prior"], prior)
    again = decoder_from_codec(json.loads(json.dumps(load_generator(run).decoder.codec())))
    np.testing.assert_allclose(again.label_prior, prior)  # a decoder's codec passes it on
