"""Image folders decode with a pool of threads and, under the memory cap, once: batches
are the same images whichever path decoded them, a cached folder stops touching the
files, a folder over the cap decodes every batch, and a broken file is still one error."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from ganforge.cli import main
from ganforge.config import TrainConfig
from ganforge.data import build_dataset
from ganforge.data.image_folder import DecodedImages, FolderImageDataset
from ganforge.errors import ConfigError, DataError


def _folder(root: Path, n: int = 24, side: int = 20) -> Path:
    rng = np.random.default_rng(0)
    for i in range(n):
        pixels = rng.integers(0, 256, (side, side + i % 3, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(root / f"{i:03d}.png")
    return root


class _Counting:
    """A decoder that counts its calls and the threads it ran on."""

    def __init__(self, shape: tuple[int, ...]) -> None:
        self.shape, self.calls, self.threads = shape, 0, set()
        self.lock = threading.Lock()

    def __call__(self, i: int) -> np.ndarray:
        with self.lock:
            self.calls += 1
            self.threads.add(threading.get_ident())
        return np.full(self.shape, i % 256, dtype=np.uint8)


def test_cached_threaded_and_uncached_batches_hold_the_same_images(tmp_path: Path) -> None:
    root = _folder(tmp_path)
    plain = FolderImageDataset(root, 16, workers=1, cache_mb=0)
    cached = FolderImageDataset(root, 16, workers=3)
    assert cached.decoded.cached and not plain.decoded.cached
    for seed in range(3):
        a = plain.sample_batch(10, torch.Generator().manual_seed(seed))[0]
        b = cached.sample_batch(10, torch.Generator().manual_seed(seed))[0]
        assert torch.equal(a, b)
    assert cached.decoded.wait_warm(timeout=30)
    everything = np.arange(cached.size)
    assert np.array_equal(cached._images(everything), plain._images(everything))


def test_a_cached_folder_is_decoded_once() -> None:
    decode = _Counting((1, 4, 4))
    images = DecodedImages(decode, 50, (1, 4, 4), cache_bytes=10_000, workers=2)
    first = images.get(np.array([7, 7, 3]))
    assert first[:, 0, 0, 0].tolist() == [7, 7, 3]
    assert images.wait_warm(timeout=30)
    assert decode.calls == 50, "each image decoded exactly once (batch and warm-up agree)"
    for _ in range(5):
        images.get(np.arange(50)[::-1])
    assert decode.calls == 50


def test_a_folder_over_the_cap_decodes_every_batch_on_the_pool() -> None:
    decode = _Counting((3, 8, 8))
    images = DecodedImages(decode, 100, (3, 8, 8), cache_bytes=3 * 8 * 8 * 99, workers=3)
    assert not images.cached
    for _ in range(4):
        batch = images.get(np.arange(32))
        assert batch[:, 0, 0, 0].tolist() == list(range(32))
    assert decode.calls == 4 * 32
    assert len(decode.threads) > 1, "decoded by several threads"


def test_a_broken_file_is_one_data_error_with_the_cache_warming(tmp_path: Path) -> None:
    root = _folder(tmp_path, n=6)
    ds = FolderImageDataset(root, 16, workers=2)
    (root / "003.png").write_bytes(b"\x89PNG truncated")  # broken after the scan
    with pytest.raises(DataError, match="003.png"):
        ds._images(np.arange(6))


def test_options_reach_the_folder_and_are_checked(tmp_path: Path) -> None:
    root = _folder(tmp_path, n=4)
    ds = build_dataset(TrainConfig(dataset=str(root), image_size=16, workers=2, image_cache_mb=0))
    assert ds.decoded.workers == 2 and not ds.decoded.cached
    with pytest.raises(ConfigError, match="workers"):
        TrainConfig(dataset=str(root), workers=0)
    with pytest.raises(ConfigError, match="image_cache_mb"):
        TrainConfig(dataset=str(root), image_cache_mb=-1)
    assert main(["train", "--dataset", str(root), "--workers", "0", "--dry-run"]) == 2
