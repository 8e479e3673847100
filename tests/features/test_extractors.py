"""Feature extractors: registry, batch-size independence, Inception stand-in, accuracy."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from ganforge.data.idx import DEFAULT_FASHION_MNIST_DIR, load_mnist_format
from ganforge.features import get_extractor, list_extractors, register_extractor
from ganforge.features.base import FeatureExtractor, to_float_images


@pytest.fixture(scope="module")
def images() -> np.ndarray:
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, size=(500, 28, 28), dtype=np.uint8)


def test_registry_lists_builtins_and_validates() -> None:
    names = list_extractors()
    for name in ("fashion-cnn", "inception", "pixels", "module"):
        assert name in names
    with pytest.raises(ValueError, match="already registered"):
        register_extractor("pixels", lambda: None)
    with pytest.raises(TypeError):
        register_extractor("not-callable", 3)
    with pytest.raises(ValueError, match="fashion-cnn"):
        get_extractor("no-such-extractor")
    with pytest.raises(TypeError):
        get_extractor(42)


def test_user_registered_factory() -> None:
    register_extractor(
        "test-mean-pixel",
        lambda: get_extractor(nn.Flatten(), name="test-mean-pixel"),
        overwrite=True,
    )
    ext = get_extractor("test-mean-pixel")
    assert ext.extract(np.zeros((2, 1, 4, 4), np.uint8)).features.shape == (2, 16)


def test_fashion_cnn_batch_size_independent(images: np.ndarray) -> None:
    ext = get_extractor("fashion-cnn")
    one = ext.extract(images, batch_size=1)
    big = ext.extract(images, batch_size=500)
    assert one.features.shape == (500, 128) and one.probs.shape == (500, 10)
    np.testing.assert_allclose(one.features, big.features, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(one.probs, big.probs, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(big.probs.sum(1), 1.0, atol=1e-5)


def test_uint8_and_float_inputs_agree(images: np.ndarray) -> None:
    ext = get_extractor("fashion-cnn")
    as_float = torch.from_numpy(images[:50]).float() / 127.5 - 1
    a = ext(images[:50])
    b = ext(as_float.unsqueeze(1))
    np.testing.assert_allclose(a, b, atol=1e-6)
    with pytest.raises(ValueError, match=r"\[-1, 1\]"):
        ext(as_float * 2)
    with pytest.raises(ValueError, match="1-channel"):
        ext(np.zeros((2, 3, 28, 28), np.uint8))
    with pytest.raises(ValueError, match="shape"):
        ext(np.zeros((2, 28), np.uint8))


def test_resize_to_network_input() -> None:
    ext = get_extractor("fashion-cnn")
    big = np.random.default_rng(1).integers(0, 256, (4, 1, 64, 64), dtype=np.uint8)
    assert ext(big).shape == (4, 128)
    assert ext.resize_for(big.shape) == "bilinear 64x64->28x28"
    assert ext.resize_for((4, 28, 28)) is None


def test_pixels_extractor(images: np.ndarray) -> None:
    ext = get_extractor("pixels")
    feats = ext(images[:3])
    np.testing.assert_allclose(feats, images[:3].reshape(3, -1) / 127.5 - 1, atol=1e-6)
    with pytest.raises(ValueError, match="no classifier head"):
        ext.extract(images[:3], with_probs=True)


def test_wraps_user_module(images: np.ndarray) -> None:
    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.body = nn.Sequential(nn.Flatten(), nn.Linear(784, 16), nn.Tanh())
            self.head = nn.Linear(16, 3)

        def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            f = self.body(x)
            return f, self.head(f)

    torch.manual_seed(0)
    ext = get_extractor(Net(), num_classes=3, name="my-net")
    assert isinstance(ext, FeatureExtractor) and ext.name == "my-net"
    a = ext.extract(images, batch_size=1)
    b = ext.extract(images, batch_size=500)
    assert a.features.shape == (500, 16) and a.probs.shape == (500, 3)
    np.testing.assert_allclose(a.features, b.features, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(a.probs, b.probs, rtol=1e-5, atol=1e-6)
    # a module returning features only
    plain = get_extractor("module", module=nn.Flatten())
    assert plain(images[:2]).shape == (2, 784)


class StandInInception(nn.Module):
    """Same call interface as the FID Inception TorchScript; reports what it received."""

    def __init__(self) -> None:
        super().__init__()
        self.proj = nn.Linear(3, 2044)
        self.cls = nn.Linear(3, 1008)

    def forward(
        self, x: torch.Tensor, return_features: bool = False, no_output_bias: bool = False
    ) -> torch.Tensor:
        pooled = x.mean(dim=(2, 3)) / 255.0  # (N, 3)
        if return_features:
            n = x.shape[0]
            info = torch.stack(
                [
                    x.amin(dim=(1, 2, 3)),
                    x.amax(dim=(1, 2, 3)),
                    torch.full([n], float(x.shape[1])),
                    torch.full([n], float(x.shape[2] * 1000 + x.shape[3])),
                ],
                dim=1,
            )
            return torch.cat([info, self.proj(pooled)], dim=1)  # (N, 2048)
        logits = self.cls(pooled)
        if no_output_bias:
            logits = logits - self.cls.bias
        return torch.softmax(logits, dim=1)  # (N, 1008)


@pytest.fixture(scope="module")
def inception_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("inception") / "inception-stand-in.pt"
    torch.jit.save(torch.jit.script(StandInInception()), str(path))
    return path


def test_inception_with_stand_in(inception_file: Path, images: np.ndarray) -> None:
    ext = get_extractor("inception", path=str(inception_file), probs=True)
    sub = images[:20]
    a = ext.extract(sub, batch_size=1)
    b = ext.extract(sub, batch_size=20)
    assert a.features.shape == (20, 2048) and a.probs.shape == (20, 1008)
    np.testing.assert_allclose(a.features, b.features, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(a.probs, b.probs, rtol=1e-5, atol=1e-7)
    # preprocessing: 3 channels, 299x299, values in [0, 255]
    lo, hi, channels, size = a.features[:, 0], a.features[:, 1], a.features[:, 2], a.features[:, 3]
    assert (lo >= 0).all() and (hi <= 255).all() and hi.max() > 200
    assert (channels == 3).all() and (size == 299 * 1000 + 299).all()
    assert ext.describe()["file"] == "inception-stand-in.pt"


def test_inception_from_environment(
    inception_file: Path, monkeypatch: pytest.MonkeyPatch, images: np.ndarray
) -> None:
    monkeypatch.setenv("GANFORGE_INCEPTION", str(inception_file))
    ext = get_extractor("inception")
    assert not ext.provides_probs
    assert ext(images[:2]).shape == (2, 2048)


def test_inception_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GANFORGE_INCEPTION", raising=False)
    with pytest.raises(ValueError, match="GANFORGE_INCEPTION"):
        get_extractor("inception")
    with pytest.raises(ValueError, match="does not exist"):
        get_extractor("inception", path=str(tmp_path / "missing.pt"))
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"not a TorchScript archive")
    with pytest.raises(ValueError, match="TorchScript"):
        get_extractor("inception", path=str(junk))


def test_to_float_images_validation() -> None:
    with pytest.raises(TypeError):
        to_float_images([[1, 2]])
    with pytest.raises(TypeError, match="uint8"):
        to_float_images(np.zeros((2, 4, 4), np.int64))
    x = to_float_images(np.full((2, 4, 4), 255, np.uint8))
    assert x.shape == (2, 1, 4, 4) and float(x.max()) == 1.0


@pytest.mark.skipif(
    not DEFAULT_FASHION_MNIST_DIR.is_dir(),
    reason="Fashion-MNIST not installed (apt-get install dataset-fashion-mnist)",
)
def test_fashion_cnn_accuracy_on_test_split() -> None:
    images, labels = load_mnist_format(DEFAULT_FASHION_MNIST_DIR, "test")
    images, labels = images[:2000], labels[:2000]
    probs = get_extractor("fashion-cnn").extract(images).probs
    accuracy = float((probs.argmax(1) == labels).mean())
    assert accuracy >= 0.90, accuracy
