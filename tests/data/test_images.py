"""Image datasets: MNIST download (against a local server), IDX/npz paths, folders,
shapes, stacked, digits, the uint8 codec and the image evaluator."""

from __future__ import annotations

import hashlib
import http.server
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import torch

from ganforge.config import TrainConfig
from ganforge.data import build_dataset, dataset_info, decoder_from_codec
from ganforge.data.idx import write_idx
from ganforge.data.image_folder import FolderImageDataset
from ganforge.data.images import ArrayImageDataset, ImageDecoder, StackedDataset
from ganforge.data.mnist import MNIST_FILES, download_mnist, load_keras_npz
from ganforge.data.shapes import ShapesDataset

# ----------------------------------------------------------------------------- helpers


def make_mnist_dir(folder: Path, n: int = 24, gz: bool = True, seed: int = 0) -> Path:
    """Four small MNIST-format files: image i is constant ``10 * label`` plus noise."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    ext = ".gz" if gz else ""
    for stem, count in (("train", n), ("t10k", n // 2)):
        labels = (np.arange(count) % 10).astype(np.uint8)
        images = (
            rng.integers(0, 40, size=(count, 28, 28)).astype(np.uint8) + labels[:, None, None] * 20
        )
        write_idx(folder / f"{stem}-images-idx3-ubyte{ext}", images)
        write_idx(folder / f"{stem}-labels-idx1-ubyte{ext}", labels)
    return folder


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


class _RangeHandler(http.server.SimpleHTTPRequestHandler):
    """Serves a folder with single-range ``Range: bytes=N-`` support; records headers."""

    ranges: list[str] = []

    def log_message(self, *args: object) -> None:  # keep test output quiet
        pass

    def do_GET(self) -> None:  # noqa: N802 -- http.server API
        path = Path(self.translate_path(self.path))
        if not path.is_file():
            self.send_error(404)
            return
        data = path.read_bytes()
        rng = self.headers.get("Range")
        if rng:
            type(self).ranges.append(rng)
            start = int(rng.removeprefix("bytes=").split("-")[0])
            if start >= len(data):
                self.send_error(416)
                return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
            data = data[start:]
        else:
            self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture
def mirror(tmp_path: Path) -> Iterator[tuple[str, Path, type]]:
    """A local HTTP mirror of generated MNIST-format .gz files: (base URL, folder, handler)."""
    folder = make_mnist_dir(tmp_path / "mirror")
    handler = type("Handler", (_RangeHandler,), {"ranges": []})

    def factory(*args: object, **kwargs: object) -> _RangeHandler:
        return handler(*args, directory=str(folder), **kwargs)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), factory)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/", folder, handler
    finally:
        server.shutdown()
        server.server_close()


def checksums(folder: Path) -> dict[str, str]:
    return {name: sha256(folder / name) for name in MNIST_FILES}


def dead_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/"  # closed again: connections are refused


# ------------------------------------------------------------------------ downloading


def test_published_mnist_digests_are_well_formed() -> None:
    assert len(MNIST_FILES) == 4
    for digest, size in MNIST_FILES.values():
        assert len(digest) == 64 and int(digest, 16) >= 0 and size > 0


def test_download_success_and_cached_dataset(
    mirror: tuple[str, Path, type], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, folder, _ = mirror
    cache = tmp_path / "cache"
    dest = download_mnist(cache / "mnist", base_url=url, checksums=checksums(folder), backoff=0)
    for name in MNIST_FILES:
        assert sha256(dest / name) == sha256(folder / name)
        assert not (dest / f"{name}.part").exists()
    # a second call finds the files and needs no server
    assert download_mnist(dest, base_url=dead_url(), backoff=0) == dest
    # the `mnist` dataset reads the cache without touching the network
    monkeypatch.setenv("GANFORGE_CACHE", str(cache))
    monkeypatch.setenv("GANFORGE_MNIST_URL", dead_url())
    ds = build_dataset(TrainConfig(dataset="mnist"))
    assert ds.kind == "image" and ds.shape == (1, 28, 28) and ds.num_classes == 10
    assert ds.size == 24


def test_download_checksum_mismatch_is_one_clear_line(
    mirror: tuple[str, Path, type], tmp_path: Path
) -> None:
    url, folder, _ = mirror
    sums = checksums(folder)
    sums["train-labels-idx1-ubyte.gz"] = "0" * 64
    with pytest.raises(ValueError, match="SHA-256") as err:
        download_mnist(tmp_path / "m", base_url=url, checksums=sums, backoff=0)
    msg = str(err.value)
    assert "\n" not in msg and "--data-dir" in msg and "train-labels-idx1-ubyte.gz" in msg
    assert not (tmp_path / "m" / "train-labels-idx1-ubyte.gz").exists()
    assert not (tmp_path / "m" / "train-labels-idx1-ubyte.gz.part").exists()


def test_download_server_down_names_data_dir(tmp_path: Path) -> None:
    with pytest.raises(ValueError) as err:
        download_mnist(tmp_path / "m", base_url=dead_url(), retries=2, backoff=0)
    msg = str(err.value)
    assert "\n" not in msg and "--data-dir" in msg and "could not download" in msg


def test_download_resumes_partial_file(mirror: tuple[str, Path, type], tmp_path: Path) -> None:
    url, folder, handler = mirror
    name = "train-images-idx3-ubyte.gz"
    full = (folder / name).read_bytes()
    dest = tmp_path / "m"
    dest.mkdir()
    (dest / f"{name}.part").write_bytes(full[: len(full) // 2])
    download_mnist(dest, base_url=url, checksums=checksums(folder), backoff=0)
    assert (dest / name).read_bytes() == full
    assert f"bytes={len(full) // 2}-" in handler.ranges


def test_download_restarts_when_resumed_file_is_corrupt(
    mirror: tuple[str, Path, type], tmp_path: Path
) -> None:
    url, folder, _ = mirror
    name = "t10k-images-idx3-ubyte.gz"
    dest = tmp_path / "m"
    dest.mkdir()
    (dest / f"{name}.part").write_bytes(b"garbage" * 10)
    download_mnist(dest, base_url=url, checksums=checksums(folder), backoff=0)
    assert sha256(dest / name) == sha256(folder / name)


def test_cli_offline_mnist_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from ganforge import data
    from ganforge.cli import main

    monkeypatch.setenv("GANFORGE_CACHE", str(tmp_path / "empty-cache"))
    real = data.mnist.download_mnist
    monkeypatch.setattr(
        data.mnist, "download_mnist", lambda: real(base_url=dead_url(), retries=1, backoff=0)
    )
    code = main(
        ["train", "--dataset", "mnist", "--steps", "1", "--out", str(tmp_path / "r"), "--quiet"]
    )
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert err.count("\n") == 0 and "--data-dir" in err


# ------------------------------------------------------------- MNIST-format by path


@pytest.mark.parametrize("gz", [True, False])
def test_idx_folder_by_path_and_data_dir(tmp_path: Path, gz: bool) -> None:
    folder = make_mnist_dir(tmp_path / "idx", gz=gz)
    info = dataset_info(str(folder))
    assert info.kind == "image" and info.default_preset == "dcgan" and info.num_classes == 10
    ds = build_dataset(TrainConfig(dataset=str(folder)))
    x, y = ds.sample_batch(5, torch.Generator().manual_seed(0))
    assert x.shape == (5, 1, 28, 28) and x.dtype == torch.float32
    assert float(x.min()) >= -1.0 and float(x.max()) <= 1.0
    assert y.dtype == torch.int64 and y.shape == (5,)
    ds2 = build_dataset(TrainConfig(dataset="mnist", data_dir=str(folder), image_size=32))
    assert ds2.shape == (1, 32, 32)


def test_corrupt_idx_folder_is_a_clear_error(tmp_path: Path) -> None:
    folder = make_mnist_dir(tmp_path / "idx", gz=False)
    path = folder / "train-images-idx3-ubyte"
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(ValueError, match="truncated"):
        build_dataset(TrainConfig(dataset=str(folder)))


def test_keras_npz(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, size=(12, 28, 28)).astype(np.uint8)
    y = np.arange(12) % 10
    path = tmp_path / "mnist.npz"
    np.savez(path, x_train=x, y_train=y, x_test=x[:4], y_test=y[:4])
    ds = build_dataset(TrainConfig(dataset=str(path)))
    assert ds.shape == (1, 28, 28) and ds.size == 12
    imgs, labels = load_keras_npz(path, "test")
    assert imgs.shape == (4, 28, 28) and labels.dtype == np.int64
    # a folder holding mnist.npz is read through --data-dir too
    ds2 = build_dataset(TrainConfig(dataset="mnist", data_dir=str(tmp_path)))
    assert ds2.size == 12
    bad = tmp_path / "bad.npz"
    np.savez(bad, x_train=np.array([object()], dtype=object), y_train=y)
    with pytest.raises(ValueError, match="bad.npz"):
        load_keras_npz(bad)
    with pytest.raises(ValueError, match="does not exist"):
        dataset_info(str(tmp_path / "missing.npz"))


# --------------------------------------------------------------------------- folders


def _save(path: Path, mode: str, size: tuple[int, int], seed: int) -> None:
    from PIL import Image

    rng = np.random.default_rng(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    rgb = Image.fromarray(rng.integers(0, 256, size=(size[1], size[0], 3)).astype(np.uint8))
    if mode == "L":
        img = rgb.convert("L")
    elif mode == "RGBA":
        img = rgb.convert("RGBA")
        img.putalpha(128)
    elif mode == "P":
        img = rgb.convert("P")
    else:
        img = rgb
    img.save(path)


def test_folder_with_mixed_images_classes_and_junk(tmp_path: Path) -> None:
    root = tmp_path / "pics"
    _save(root / "cats" / "a.png", "L", (40, 30), 0)
    _save(root / "cats" / "b.jpg", "RGB", (17, 50), 1)
    _save(root / "dogs" / "deep" / "nested" / "c.png", "RGBA", (64, 64), 2)
    _save(root / "dogs" / "d.PNG", "P", (100, 20), 3)
    (root / "dogs" / "notes.txt").write_text("not an image")
    (root / "cats" / "broken.png").write_bytes(b"\x89PNG not really")
    info = dataset_info(str(root))
    assert info.kind == "image" and info.num_classes == 2
    ds = build_dataset(TrainConfig(dataset=str(root), image_size=32))
    assert isinstance(ds, FolderImageDataset)
    assert ds.shape == (3, 32, 32) and ds.size == 4 and ds.skipped == 2
    assert ds.class_names == ["cats", "dogs"]
    assert sorted(ds.labels.tolist()) == [0, 0, 1, 1]
    g1, g2 = torch.Generator().manual_seed(3), torch.Generator().manual_seed(3)
    x1, y1 = ds.sample_batch(6, g1)
    x2, y2 = ds.sample_batch(6, g2)
    assert x1.shape == (6, 3, 32, 32) and torch.equal(x1, x2) and torch.equal(y1, y2)
    real = ds.sample_real(4, seed=0)
    assert real.dtype == np.uint8 and real.shape == (4, 3, 32, 32)
    assert not hasattr(ds, "data")  # decoded per batch, never held in memory


def test_greyscale_folder_without_classes(tmp_path: Path) -> None:
    root = tmp_path / "grey"
    for i in range(3):
        _save(root / f"{i}.png", "L", (20 + i, 28), i)
    _save(root / "sub" / "x.png", "L", (28, 28), 9)  # one file at the top: no labels
    ds = build_dataset(TrainConfig(dataset="folder", data_dir=str(root), image_size=28))
    assert ds.shape == (1, 28, 28) and ds.num_classes is None
    x, y = ds.sample_batch(2, torch.Generator().manual_seed(0))
    assert x.shape == (2, 1, 28, 28) and y is None


def test_folder_errors(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "readme.md").write_text("x")
    with pytest.raises(ValueError, match="no readable PNG or JPEG"):
        build_dataset(TrainConfig(dataset="folder", data_dir=str(tmp_path / "empty")))
    with pytest.raises(ValueError, match="--data-dir"):
        build_dataset(TrainConfig(dataset="folder"))


# ------------------------------------------------------------ shapes, stacked, digits


def test_shapes_are_deterministic_and_labelled() -> None:
    a, b = ShapesDataset(seed=0), ShapesDataset(seed=0)
    np.testing.assert_array_equal(a.sample_real(6, 1), b.sample_real(6, 1))
    assert not np.array_equal(a.sample_real(6, 1), ShapesDataset(seed=1).sample_real(6, 1))
    x, y = a.sample_batch(9, torch.Generator().manual_seed(0))
    assert x.shape == (9, 3, 64, 64) and set(y.tolist()) <= {0, 1, 2}
    assert a.num_classes == 3 and a.class_names == ["circle", "square", "triangle"]
    assert float(x.std()) > 0.1  # not blank


def test_stacked_labels_match_channels() -> None:
    labels = np.arange(10)
    images = np.repeat((labels * 20).astype(np.uint8)[:, None, None], 28, 1).repeat(28, 2)
    ds = StackedDataset(images, labels)
    assert ds.shape == (3, 28, 28) and ds.num_classes == 1000
    x, y = ds.sample_batch(16, torch.Generator().manual_seed(0))
    digits = ((x[:, :, 0, 0] + 1) * 127.5).round().long() // 20  # (B, 3)
    assert torch.equal(y, digits[:, 0] * 100 + digits[:, 1] * 10 + digits[:, 2])
    imgs, labs = ds.sample_real_labelled(16, seed=0)
    d = imgs[:, :, 0, 0].astype(int) // 20
    np.testing.assert_array_equal(labs, d[:, 0] * 100 + d[:, 1] * 10 + d[:, 2])


def test_stacked_from_data_dir(tmp_path: Path) -> None:
    folder = make_mnist_dir(tmp_path / "idx")
    ds = build_dataset(TrainConfig(dataset="stacked", data_dir=str(folder)))
    x, y = ds.sample_batch(4, torch.Generator().manual_seed(0))
    assert x.shape == (4, 3, 28, 28) and int(y.max()) < 1000


def test_digits_upscaled() -> None:
    ds = build_dataset(TrainConfig(dataset="digits"))
    assert ds.shape == (1, 28, 28) and ds.num_classes == 10 and ds.size == 1797
    ds32 = build_dataset(TrainConfig(dataset="digits", image_size=32))
    assert ds32.sample_real(3, 0).shape == (3, 1, 32, 32)


def test_fashion_mnist_if_installed() -> None:
    from ganforge.data.idx import DEFAULT_FASHION_MNIST_DIR

    if not DEFAULT_FASHION_MNIST_DIR.is_dir():
        pytest.skip("dataset-fashion-mnist is not installed")
    ds = build_dataset(TrainConfig(dataset="fashion-mnist"))
    assert ds.shape == (1, 28, 28) and ds.size == 60000 and ds.num_classes == 10


# ------------------------------------------------------------------ codec and metrics


def test_encode_decode_roundtrip_and_codec() -> None:
    rng = np.random.default_rng(0)
    imgs = rng.integers(0, 256, size=(5, 3, 8, 8)).astype(np.uint8)
    ds = ArrayImageDataset("x", imgs, np.arange(5) % 2)
    z = ds.encode(imgs)
    assert z.dtype == torch.float32 and float(z.min()) >= -1 and float(z.max()) <= 1
    np.testing.assert_array_equal(ds.decode(z), imgs)
    dec = decoder_from_codec(ds.codec())
    assert isinstance(dec, ImageDecoder) and dec.shape == (3, 8, 8) and dec.num_classes == 2
    out = dec.decode(torch.tensor([[[[-2.0, 1.5]]]]).expand(1, 3, 1, 2))
    assert out.dtype == np.uint8 and out.ravel().tolist()[:2] == [0, 255]


def test_image_evaluator_reports_floor() -> None:
    from ganforge.evaluation import evaluate_samples

    ds = build_dataset(TrainConfig(dataset="digits"))
    fake = ds.sample_real(60, seed=5)
    m = evaluate_samples(ds, fake, n=60, seed=0)
    assert m["protocol"]["extractor"] == "fashion-cnn"
    assert np.isfinite(m["fid"]) and "fid" in m["real_vs_real"]
    shapes = ShapesDataset()
    m2 = evaluate_samples(shapes, shapes.sample_real(40, seed=3), n=40, seed=0)
    assert m2["protocol"]["extractor"] == "pixels" and m2["protocol"]["resize"]
