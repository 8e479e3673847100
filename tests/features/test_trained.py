"""The classifier trained on the reference data (``train`` / ``trained-cnn``): trained
once on a small labelled set, cached as safetensors by the data's SHA-256 (a hit does not
train, changed data does), reported with its test accuracy, trained on the dataset's
own training split and never on generated samples, the default for ``mnist`` runs; the
Fashion-MNIST path keeps ``fashion-cnn``.

Training uses a tiny recipe (:data:`TINY`, about a second on one core) except where
stated; the default recipe's numbers are in docs/METRICS.md.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path

import numpy as np
import pytest
import torch

from ganforge.cli import main
from ganforge.config import TrainConfig
from ganforge.data import build_dataset
from ganforge.data.idx import DEFAULT_FASHION_MNIST_DIR, write_idx
from ganforge.data.images import ArrayImageDataset
from ganforge.errors import ConfigError, DataError
from ganforge.evaluation.image import evaluate_image_samples, evaluate_images, use_extractor
from ganforge.evaluation.references import default_extractor
from ganforge.features import get_extractor, trained
from ganforge.features.trained import LabelledReference, Recipe, reference_key

#: One pass over 360 images in batches of 30: 12 steps, under a second on one core.
TINY = Recipe(epochs=1, min_steps=0, batch_size=30)


@pytest.fixture(autouse=True)
def setup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[LabelledReference]:
    """A fresh cache, one CPU thread (the cores are shared), the tiny recipe as default,
    and a record of every training: the references trained on."""
    monkeypatch.setenv("GANFORGE_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(trained, "DEFAULT_RECIPE", TINY)
    calls: list[LabelledReference] = []
    real = trained.train_classifier

    def counted(ref: LabelledReference, recipe: Recipe | None = None) -> tuple:
        calls.append(ref)
        return real(ref, recipe)

    monkeypatch.setattr(trained, "train_classifier", counted)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield calls
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def digits() -> tuple[np.ndarray, np.ndarray]:
    """400 of scikit-learn's digits upscaled to 28x28: uint8 (400, 1, 28, 28), labels."""
    ds = build_dataset(TrainConfig(dataset="digits"))
    images, labels = ds.labelled_training_split()
    return images[:400], labels[:400]


def _reference(digits: tuple[np.ndarray, np.ndarray]) -> LabelledReference:
    return LabelledReference(digits[0], digits[1], 10, "digits train split")


def test_trains_once_then_loads_from_the_cache(
    digits: tuple[np.ndarray, np.ndarray], setup: list, tmp_path: Path
) -> None:
    ref = _reference(digits)
    rng_before = torch.get_rng_state()
    ext = get_extractor("train", reference=ref)
    assert torch.equal(torch.get_rng_state(), rng_before)  # a run's RNG is left alone
    assert len(setup) == 1 and ext.name == "trained-cnn"
    info = ext.describe()
    assert info["test_accuracy"] > 0.5  # chance is 0.1; these 12 steps reach 0.7
    assert info["extractor_note"].startswith(
        f"trained on the reference data, test accuracy {100 * info['test_accuracy']:.2f}%"
    )
    assert "40 images held out of the training split" in info["extractor_note"]
    assert info["extractor_data_sha256"] == reference_key(ref, TINY)
    path = ext.weights
    assert path.parent == tmp_path / "cache" / "extractors"
    mtime = path.stat().st_mtime_ns
    again = get_extractor("train", reference=_reference(digits))
    assert len(setup) == 1 and again.weights == path and path.stat().st_mtime_ns == mtime
    a, b = ext.extract(digits[0][:50]), again.extract(digits[0][:50])
    np.testing.assert_array_equal(a.features, b.features)
    assert a.probs.shape == (50, 10)


def test_changed_data_or_recipe_is_a_cache_miss(
    digits: tuple[np.ndarray, np.ndarray], setup: list
) -> None:
    images, labels = digits
    first = get_extractor("train", reference=_reference(digits))
    touched = images.copy()
    touched[7, 0, 14, 14] ^= 1  # one pixel of one image, by one grey level
    second = get_extractor("train", reference=LabelledReference(touched, labels, 10, "d"))
    assert len(setup) == 2 and second.weights != first.weights
    relabelled = labels.copy()
    relabelled[3] = (relabelled[3] + 1) % 10
    ref = _reference(digits)
    keys = {
        reference_key(ref, TINY),
        reference_key(LabelledReference(images, relabelled, 10, "d"), TINY),
        reference_key(ref, Recipe(epochs=1, min_steps=0, batch_size=30, seed=1)),
        reference_key(LabelledReference(images, labels, 10, "d", images[:5], labels[:5]), TINY),
    }
    assert len(keys) == 4


def test_weights_are_safetensors_without_pickle(
    digits: tuple[np.ndarray, np.ndarray],
) -> None:
    from safetensors import safe_open

    ext = get_extractor("train", reference=_reference(digits))
    raw = ext.weights.read_bytes()
    (header_len,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + header_len])  # a safetensors file: JSON header + bytes
    assert header["__metadata__"]["recipe"] == TINY.describe()
    assert not raw.startswith(b"\x80") and b"PK\x03\x04" not in raw[:64]  # no pickle/zip
    with safe_open(str(ext.weights), framework="pt") as fh:
        assert "head.weight" in list(fh.keys())


def test_a_damaged_cache_file_is_retrained(
    digits: tuple[np.ndarray, np.ndarray], setup: list
) -> None:
    ext = get_extractor("train", reference=_reference(digits))
    ext.weights.write_bytes(b"not safetensors")
    again = get_extractor("train", reference=_reference(digits))
    assert len(setup) == 2 and again.describe()["test_accuracy"] is not None


def _dataset(digits: tuple[np.ndarray, np.ndarray]) -> ArrayImageDataset:
    ds = ArrayImageDataset("digits400", digits[0], digits[1], 10)
    ds.extractor = "train"
    ds.label_classifier = "train"
    return ds


def test_run_evaluator_trains_on_the_training_split_never_on_samples(
    digits: tuple[np.ndarray, np.ndarray], setup: list
) -> None:
    """The evaluator builds its extractor from the dataset alone: what is trained on is
    the dataset's whole training split, and the generated samples (here inverted
    digits, with labels for a conditional run) appear nowhere in it."""
    ds = _dataset(digits)
    fake = 255 - ds.sample_real(60, seed=9)
    labels = np.arange(60) % 10
    out = evaluate_image_samples(ds, fake, n=60, seed=0, labels=labels)
    assert len(setup) == 1
    ref = setup[0]
    np.testing.assert_array_equal(ref.images, digits[0])
    np.testing.assert_array_equal(ref.labels, digits[1])
    seen = {im.tobytes() for im in ref.images}
    assert not any(im.tobytes() in seen for im in fake)
    proto = out["protocol"]
    assert proto["extractor"] == "trained-cnn" and proto["extractor_trained_on"].startswith(
        "digits400"
    )
    assert proto["extractor_note"].startswith("trained on the reference data, test accuracy")
    assert "label_accuracy" in out and "label_accuracy" in out["real_vs_real"]
    assert out["real_vs_real"]["label_accuracy"] > 0.5  # real digits read as their labels
    evaluate_image_samples(ds, fake, n=60, seed=1)
    assert len(setup) == 1  # the second evaluation loads the cached classifier


def _mnist_dir(folder: Path, digits: tuple[np.ndarray, np.ndarray]) -> Path:
    """MNIST-format IDX files of the digits: 300 training and 100 test images."""
    folder.mkdir(parents=True)
    images, labels = digits[0][:, 0], digits[1].astype(np.uint8)
    for stem, part in (("train", slice(0, 300)), ("t10k", slice(300, 400))):
        write_idx(folder / f"{stem}-images-idx3-ubyte", images[part])
        write_idx(folder / f"{stem}-labels-idx1-ubyte", labels[part])
    return folder


def test_mnist_run_is_scored_with_a_classifier_trained_on_its_data(
    digits: tuple[np.ndarray, np.ndarray], setup: list, tmp_path: Path
) -> None:
    data = _mnist_dir(tmp_path / "mnist", digits)
    ds = build_dataset(TrainConfig(dataset="mnist", data_dir=str(data)))
    assert ds.extractor == "train" and ds.label_classifier == "train"
    out = tmp_path / "run"
    args = ["train", "--dataset", "mnist", "--data-dir", str(data), "--steps", "2"]
    args += ["--eval-samples", "40", "--base-width", "4", "--noise-dim", "8"]
    args += ["--batch-size", "8", "--sample-every", "0", "--conditional", "projection"]
    assert main([*args, "--out", str(out), "--device", "cpu", "--quiet"]) == 0
    proto = json.loads((out / "metrics.json").read_text())["protocol"]
    assert proto["extractor"] == "trained-cnn" and proto["dataset"] == "mnist"
    assert proto["extractor_trained_on"] == "mnist train split"
    assert "(100 images of the test split; trained on 300 images" in proto["extractor_note"]
    assert len(setup) == 1
    np.testing.assert_array_equal(setup[0].images, digits[0][:300])
    np.testing.assert_array_equal(setup[0].test_images, digits[0][300:])
    again = ["evaluate", str(out), "--extractor", "train", "--n", "20"]
    assert main([*again, "--out", str(tmp_path / "again.json")]) == 0
    metrics = json.loads((tmp_path / "again.json").read_text())
    assert metrics["protocol"]["extractor"] == "trained-cnn" and len(setup) == 1  # cached


def test_evaluate_images_against_mnist_trains_on_its_train_split(
    digits: tuple[np.ndarray, np.ndarray], setup: list, tmp_path: Path
) -> None:
    data = _mnist_dir(tmp_path / "mnist", digits)
    np.savez(tmp_path / "fakes.npz", images=digits[0][300:360])
    assert default_extractor("mnist") == "train"
    assert default_extractor("fashion-mnist") == "fashion-cnn" == default_extractor(None)
    args = ["evaluate", str(tmp_path / "fakes.npz"), "--reference", "mnist:test"]
    assert main([*args, "--data-dir", str(data), "--n", "40"]) == 0
    metrics = json.loads((tmp_path / "fakes.metrics.json").read_text())
    assert metrics["protocol"]["extractor"] == "trained-cnn"
    assert metrics["protocol"]["dataset"] == "mnist" and "fid" in metrics["real_vs_real"]
    assert len(setup) == 1  # the floor's evaluation found the classifier in the cache
    out = evaluate_images(digits[0][:30], "mnist:test", "train", data_dir=str(data))
    assert out["protocol"]["extractor"] == "trained-cnn" and len(setup) == 1


def test_labelled_folder_reference_on_request(
    digits: tuple[np.ndarray, np.ndarray], setup: list, tmp_path: Path
) -> None:
    from PIL import Image

    folder = tmp_path / "labelled"
    for i, (im, label) in enumerate(zip(digits[0][:120], digits[1][:120], strict=True)):
        (folder / f"class{label}").mkdir(parents=True, exist_ok=True)
        Image.fromarray(im[0]).save(folder / f"class{label}" / f"{i}.png")
    np.savez(tmp_path / "fakes.npz", images=digits[0][200:240])
    args = ["evaluate", str(tmp_path / "fakes.npz"), "--reference", str(folder)]
    assert main([*args, "--extractor", "train", "--out", str(tmp_path / "m.json")]) == 0
    proto = json.loads((tmp_path / "m.json").read_text())["protocol"]
    assert proto["extractor"] == "trained-cnn" and proto["extractor_trained_on"].startswith(
        "labelled"
    )
    assert len(setup) == 1 and len(setup[0].images) == 120 and setup[0].num_classes == 10


def test_user_mistakes_are_clear_errors(
    digits: tuple[np.ndarray, np.ndarray], tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    with pytest.raises(ConfigError, match="labelled reference"):
        get_extractor("train")
    with pytest.raises(ConfigError, match="labelled reference"):
        evaluate_images(digits[0][:20], digits[0][20:40], "train")
    unlabelled = ArrayImageDataset("plain", digits[0][:20])
    unlabelled.extractor = "train"
    with pytest.raises(DataError, match="has no labels"):
        evaluate_image_samples(unlabelled, digits[0][:20], n=10)
    with pytest.raises(ConfigError, match="image runs only"):
        use_extractor(build_dataset(TrainConfig(dataset="ring8")), "train")
    with pytest.raises(ConfigError, match="unknown extractor"):
        use_extractor(unlabelled, "no-such")
    with pytest.raises(DataError, match="two classes"):
        LabelledReference(digits[0][:5], np.zeros(5, np.int64), 1, "one class")
    with pytest.raises(DataError, match="labels must lie"):
        LabelledReference(digits[0][:5], np.full(5, 10), 10, "bad labels")
    flat = tmp_path / "flat"
    flat.mkdir()
    from PIL import Image

    for i in range(3):
        Image.fromarray(digits[0][i, 0]).save(flat / f"{i}.png")
    np.savez(tmp_path / "fakes.npz", images=digits[0][:10])
    args = ["evaluate", str(tmp_path / "fakes.npz"), "--reference", str(flat)]
    assert main([*args, "--extractor", "train"]) == 2
    err = capsys.readouterr().err.strip()
    assert "has no labels" in err and "\n" not in err


def test_fashion_mnist_keeps_the_shipped_classifier() -> None:
    if not (DEFAULT_FASHION_MNIST_DIR / "train-labels-idx1-ubyte.gz").is_file():
        pytest.skip("dataset-fashion-mnist is not installed")
    ds = build_dataset(TrainConfig(dataset="fashion-mnist"))
    assert ds.extractor is None and ds.label_classifier == "fashion-cnn"
    digits = build_dataset(TrainConfig(dataset="digits"))
    assert digits.extractor is None and digits.label_classifier is None
