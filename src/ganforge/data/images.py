"""Image datasets: MNIST-format IDX folders, Keras ``mnist.npz``, MNIST (downloaded and
checksummed), Fashion-MNIST, scikit-learn's 8x8 digits, image folders, procedural shapes
and stacked MNIST-format digits.

Conventions shared by every image dataset:

- model space: float32 ``(B, C, H, W)`` in [-1, 1] (``x / 127.5 - 1``);
- native form: uint8 ``(N, C, H, W)`` in [0, 255] -- channels first, also for greyscale
  (``C = 1``); :meth:`ImageDataset.decode` clamps, rescales and rounds;
- labels: int64 ``(B,)`` class indices, or ``None`` for unlabelled data;
- batches are drawn with replacement using the trainer's ``torch.Generator``, so a run
  is reproducible; ``sample_real(n, seed)`` draws with a numpy generator from ``seed``.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ganforge.data.base import Dataset, DatasetInfo
from ganforge.files import DownloadError, cache_dir, download_file
from ganforge.pixels import from_uint8, to_uint8

# --------------------------------------------------------------------------- MNIST files

#: File name -> (SHA-256, size in bytes) of the four gzip files of the MNIST distribution.
MNIST_FILES: dict[str, tuple[str, int]] = {
    "train-images-idx3-ubyte.gz": (
        "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
        9912422,
    ),
    "train-labels-idx1-ubyte.gz": (
        "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
        28881,
    ),
    "t10k-images-idx3-ubyte.gz": (
        "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
        1648877,
    ),
    "t10k-labels-idx1-ubyte.gz": (
        "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
        4542,
    ),
}
#: Public mirrors of the MNIST files, tried in turn.
MNIST_MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
)
MNIST_URL_ENV = "GANFORGE_MNIST_URL"

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")


def download_mnist(
    dest: str | os.PathLike[str] | None = None,
    base_url: str | None = None,
    checksums: dict[str, str] | None = None,
    retries: int = 3,
    timeout: float = 30.0,
    backoff: float = 1.0,
) -> Path:
    """Make sure the four MNIST gzip files are in ``dest`` (default ``CACHE/mnist``).

    Files already there are kept (they were checksummed when downloaded). Missing ones
    come from ``base_url`` (default ``$GANFORGE_MNIST_URL``, else the public mirrors in
    turn). ``checksums`` maps file names to SHA-256 digests (default: the published ones).

    Raises:
        ValueError: one line naming the file, the cause and the ``--data-dir`` way out.
    """
    dest = Path(dest) if dest is not None else cache_dir() / "mnist"
    base = base_url or os.environ.get(MNIST_URL_ENV)
    bases = [base] if base else list(MNIST_MIRRORS)
    sums = checksums or {name: digest for name, (digest, _) in MNIST_FILES.items()}
    for name in MNIST_FILES:
        target = dest / name
        if target.is_file():
            continue
        errors = []
        for b in bases:
            url = b.rstrip("/") + "/" + name
            try:
                download_file(url, target, sums[name], retries, timeout, backoff)
                break
            except DownloadError as exc:
                errors.append(f"{url}: {exc}")
        else:
            raise ValueError(
                f"could not download MNIST file {name} ({'; '.join(errors)}); check the "
                f"network, or put the four MNIST files (IDX, optionally .gz) or a Keras "
                f"mnist.npz in a folder and pass it with --data-dir"
            )
    return dest


def load_keras_npz(
    path: str | os.PathLike[str], split: str = "train"
) -> tuple[np.ndarray, np.ndarray]:
    """``(images uint8 (N, H, W), labels int64 (N,))`` from a Keras ``mnist.npz``
    (keys ``x_train``, ``y_train``, ``x_test``, ``y_test``; loaded without pickle)."""
    path = Path(path)
    key = {"train": "train", "test": "test"}.get(split)
    if key is None:
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    try:
        with np.load(path, allow_pickle=False) as f:
            names = list(f.files)
            found = f"x_{key}" in names and f"y_{key}" in names
            if found:
                x, y = f[f"x_{key}"], f[f"y_{key}"]
    except FileNotFoundError:
        raise ValueError(f"file {str(path)!r} does not exist") from None
    except (OSError, EOFError, ValueError) as exc:
        raise ValueError(f"{str(path)!r} is not a readable .npz of arrays: {exc}") from None
    if not found:
        raise ValueError(f"{str(path)!r} has no x_{key}/y_{key} arrays (found {', '.join(names)})")
    if x.ndim != 3 or x.dtype != np.uint8 or y.shape != (len(x),):
        raise ValueError(
            f"{str(path)!r} must hold uint8 images (N, H, W) and labels (N,), got "
            f"x_{key} {x.dtype} {x.shape} and y_{key} {y.shape}"
        )
    return x, y.astype(np.int64)


def load_mnist_like(
    path: str | os.PathLike[str], split: str = "train"
) -> tuple[np.ndarray, np.ndarray]:
    """Images (N, H, W) uint8 and labels from an IDX folder, a ``.npz`` file or a folder
    holding ``mnist.npz``."""
    from ganforge.data.idx import load_mnist_format

    path = Path(path)
    if path.suffix.lower() == ".npz":
        return load_keras_npz(path, split)
    if not path.is_dir():
        raise ValueError(f"data folder {str(path)!r} does not exist")
    if (path / "mnist.npz").is_file():
        try:
            return load_mnist_format(path, split)
        except ValueError:
            return load_keras_npz(path / "mnist.npz", split)
    return load_mnist_format(path, split)


def resize_images(images: np.ndarray, size: int) -> np.ndarray:
    """Resize uint8 ``(N, C, H, W)`` to ``(N, C, size, size)`` (bilinear, antialiased when
    shrinking), in chunks to bound memory."""
    import torch.nn.functional as F

    n, c, h, w = images.shape
    if (h, w) == (size, size):
        return images
    out = np.empty((n, c, size, size), dtype=np.uint8)
    for s in range(0, n, 4096):
        x = torch.from_numpy(images[s : s + 4096]).float()
        y = F.interpolate(
            x, size=(size, size), mode="bilinear", align_corners=False, antialias=size < max(h, w)
        )
        out[s : s + 4096] = y.round_().clamp_(0, 255).to(torch.uint8).numpy()
    return out


# --------------------------------------------------------------------------- datasets


class ImageDataset(Dataset):
    """Base class of image datasets (see the module docstring for the conventions).

    Subclasses implement :meth:`_images(idx)` -> uint8 ``(len(idx), C, H, W)`` and
    :meth:`_labels(idx)`, and set ``size`` (number of distinct images), ``shape``,
    ``num_classes``.
    """

    kind = "image"
    size: int = 0
    real_split: str = "train"
    #: a registered extractor with class outputs trained on this dataset's labels; lets
    #: the evaluator check a conditional generator's samples against their labels
    label_classifier: str | None = None

    def __init__(self) -> None:
        super().__init__(np.zeros(1), np.ones(1))  # unused: images have a fixed scale

    def encode(self, x: np.ndarray) -> torch.Tensor:
        """uint8 ``(N, C, H, W)`` -> float32 model-space tensor in [-1, 1]."""
        return from_uint8(torch.as_tensor(np.asarray(x, dtype=np.uint8)))

    def decode(self, x: torch.Tensor) -> np.ndarray:
        """Model-space ``(N, C, H, W)`` -> uint8 ``(N, C, H, W)`` in [0, 255]."""
        return to_uint8(x)

    def codec(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": "image",
            "shape": list(self.shape),
            "native": "uint8 (N, C, H, W)",
            "num_classes": self.num_classes,
            "class_names": self.class_names,
        }

    def _images(self, idx: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _labels(self, idx: np.ndarray) -> np.ndarray | None:
        return None

    def sample_batch(
        self, batch_size: int, generator: torch.Generator
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        idx = torch.randint(self.size, (batch_size,), generator=generator).numpy()
        x = from_uint8(torch.from_numpy(self._images(idx)))
        y = self._labels(idx)
        return x, (None if y is None else torch.from_numpy(np.asarray(y, dtype=np.int64)))

    def _real_indices(self, n: int, seed: int) -> np.ndarray:
        rng = np.random.default_rng(seed)
        return rng.choice(self.size, size=n, replace=n > self.size)

    def sample_real(self, n: int, seed: int) -> np.ndarray:
        """``n`` distinct real images (with replacement only when ``n`` exceeds the data),
        uint8 ``(n, C, H, W)``."""
        return self._images(self._real_indices(n, seed))

    def sample_real_labelled(self, n: int, seed: int) -> tuple[np.ndarray, np.ndarray | None]:
        idx = self._real_indices(n, seed)
        return self._images(idx), self._labels(idx)


class ImageDecoder(ImageDataset):
    """Decodes samples of an image run from its checkpoint codec; holds no data."""

    def __init__(self, codec: dict[str, Any]) -> None:
        self.name = codec["name"]
        self.shape = tuple(codec["shape"])
        self.num_classes = codec.get("num_classes")
        self.class_names = codec.get("class_names")
        super().__init__()


class ArrayImageDataset(ImageDataset):
    """Images held in memory: uint8 ``(N, C, H, W)`` (or ``(N, H, W)``) and optional labels."""

    def __init__(
        self,
        name: str,
        images: np.ndarray,
        labels: np.ndarray | None = None,
        num_classes: int | None = None,
        class_names: list[str] | None = None,
        image_size: int | None = None,
    ) -> None:
        images = np.asarray(images)
        if images.dtype != np.uint8:
            raise TypeError(f"images of {name!r} must be uint8, got {images.dtype}")
        if images.ndim == 3:
            images = images[:, None]
        if images.ndim != 4 or len(images) == 0:
            raise ValueError(f"images of {name!r} must be (N, C, H, W), got {images.shape}")
        if image_size is not None:
            images = resize_images(images, image_size)
        self.name = name
        self.data = torch.from_numpy(np.ascontiguousarray(images))
        self.labels = None if labels is None else np.asarray(labels, dtype=np.int64)
        if self.labels is not None and len(self.labels) != len(images):
            raise ValueError(f"{name!r}: {len(images)} images but {len(self.labels)} labels")
        if self.labels is not None and num_classes is None:
            num_classes = int(self.labels.max()) + 1
        self.num_classes = num_classes if self.labels is not None else None
        self.class_names = class_names
        self.shape = tuple(images.shape[1:])
        self.size = len(images)
        super().__init__()

    def _images(self, idx: np.ndarray) -> np.ndarray:
        return self.data[torch.from_numpy(np.asarray(idx, dtype=np.int64))].numpy()

    def _labels(self, idx: np.ndarray) -> np.ndarray | None:
        return None if self.labels is None else self.labels[idx]


class StackedDataset(ImageDataset):
    """Three random MNIST-format images as the three channels; label ``100a + 10b + c``
    of the three digit/class labels (1000 modes). Shape ``(3, H, W)``."""

    stacked = True

    def __init__(
        self,
        images: np.ndarray,
        labels: np.ndarray,
        name: str = "stacked",
        image_size: int | None = None,
    ) -> None:
        images = np.asarray(images, dtype=np.uint8)
        if images.ndim != 3:
            raise ValueError(f"stacked needs greyscale images (N, H, W), got {images.shape}")
        if image_size is not None:
            images = resize_images(images[:, None], image_size)[:, 0]
        labels = np.asarray(labels, dtype=np.int64)
        if labels.min() < 0 or labels.max() > 9:
            raise ValueError("stacked needs labels 0..9 (MNIST-format classes)")
        self.name = name
        self.data = torch.from_numpy(np.ascontiguousarray(images))
        self.source_labels = labels
        self.source_size = len(images)
        self.size = self.source_size**3
        self.shape = (3, *images.shape[1:])
        self.num_classes = 1000
        super().__init__()

    def _triples(self, idx: np.ndarray) -> np.ndarray:
        idx = np.asarray(idx, dtype=np.int64)
        n = self.source_size
        return np.stack([idx // (n * n), (idx // n) % n, idx % n], axis=1)  # (B, 3)

    def sample_batch(self, batch_size: int, generator: torch.Generator) -> tuple:
        t = torch.randint(self.source_size, (batch_size, 3), generator=generator)
        x = from_uint8(self.data[t])  # (B, 3, H, W)
        lab = torch.from_numpy(self.source_labels)[t]
        return x, lab[:, 0] * 100 + lab[:, 1] * 10 + lab[:, 2]

    def _real_indices(self, n: int, seed: int) -> np.ndarray:
        t = np.random.default_rng(seed).integers(self.source_size, size=(n, 3))
        return (t[:, 0] * self.source_size + t[:, 1]) * self.source_size + t[:, 2]

    def _images(self, idx: np.ndarray) -> np.ndarray:
        return self.data[torch.from_numpy(self._triples(idx))].numpy()

    def _labels(self, idx: np.ndarray) -> np.ndarray:
        lab = self.source_labels[self._triples(idx)]
        return lab[:, 0] * 100 + lab[:, 1] * 10 + lab[:, 2]


# ------------------------------------------------------------------ image folders


def _open_rgb_or_l(path: Path, colour: bool) -> Any:
    """Open ``path`` as an 'RGB' (``colour``) or 'L' PIL image; transparency on white."""
    from PIL import Image

    with Image.open(path) as im:
        im.load()
        if im.mode == "P":
            im = im.convert("RGBA" if "transparency" in im.info else "RGB")
        if im.mode in ("RGBA", "LA", "PA"):
            rgba = im.convert("RGBA")
            white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
            im = Image.alpha_composite(white, rgba)
        return im.convert("RGB" if colour else "L")


def fit_image(im: Any, size: int) -> np.ndarray:
    """Resize so the shorter side is ``size`` and centre-crop to ``size x size``;
    returns uint8 ``(C, size, size)``."""
    from PIL import Image, ImageOps

    out = ImageOps.fit(im, (size, size), method=Image.Resampling.BICUBIC, centering=(0.5, 0.5))
    arr = np.asarray(out, dtype=np.uint8)
    return arr[None] if arr.ndim == 2 else arr.transpose(2, 0, 1)


_GREY_MODES = {"1", "L", "LA", "I", "I;16", "I;16B", "I;16L", "F"}


def scan_folder(root: str | os.PathLike[str]) -> tuple[list[Path], list[str] | None, bool, int]:
    """Image files under ``root`` (recursive, sorted), the class names (top-level
    sub-folders) when every image lies in one of at least two of them, whether any image
    has colour, and how many files were skipped (not images, or unreadable headers)."""
    from PIL import Image, UnidentifiedImageError

    root = Path(root)
    if not root.is_dir():
        raise ValueError(f"image folder {str(root)!r} does not exist")
    files: list[Path] = []
    colour = False
    skipped = 0
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        if path.suffix.lower() not in IMAGE_SUFFIXES or path.name.startswith("."):
            skipped += 1
            continue
        try:
            with Image.open(path) as im:
                mode = im.mode
                im.size  # noqa: B018 -- header parsed
        except (UnidentifiedImageError, OSError):
            skipped += 1
            continue
        colour = colour or mode not in _GREY_MODES
        files.append(path)
    if not files:
        raise ValueError(
            f"image folder {str(root)!r} holds no readable PNG or JPEG images "
            f"({skipped} other files skipped)"
        )
    tops = [p.relative_to(root).parts for p in files]
    names = sorted({t[0] for t in tops if len(t) > 1})
    classes = names if len(names) >= 2 and all(len(t) > 1 for t in tops) else None
    return files, classes, colour, skipped


class FolderImageDataset(ImageDataset):
    """PNG/JPEG images under a folder (recursive), resized and centre-cropped to
    ``image_size``. Greyscale when every image is greyscale, else RGB (transparency is
    composited on white). Labels are the top-level sub-folder names when every image sits
    in one of at least two sub-folders. Images are decoded from disk batch by batch, so
    memory does not grow with the folder."""

    def __init__(self, root: str | os.PathLike[str], image_size: int = 64) -> None:
        self.root = Path(root)
        self.files, self.class_names, self.colour, self.skipped = scan_folder(self.root)
        self.name = self.root.name or str(self.root)
        self.image_size = int(image_size)
        self.shape = (3 if self.colour else 1, self.image_size, self.image_size)
        self.size = len(self.files)
        if self.class_names is not None:
            index = {c: i for i, c in enumerate(self.class_names)}
            self.labels = np.array(
                [index[p.relative_to(self.root).parts[0]] for p in self.files], dtype=np.int64
            )
            self.num_classes = len(self.class_names)
        else:
            self.labels = None
            self.num_classes = None
        super().__init__()

    def load(self, i: int) -> np.ndarray:
        path = self.files[int(i)]
        try:
            im = _open_rgb_or_l(path, self.colour)
        except (OSError, ValueError) as exc:
            raise ValueError(f"image {str(path)!r} could not be decoded: {exc}") from None
        return fit_image(im, self.image_size)

    def _images(self, idx: np.ndarray) -> np.ndarray:
        return (
            np.stack([self.load(i) for i in idx])
            if len(idx)
            else np.zeros((0, *self.shape), np.uint8)
        )

    def _labels(self, idx: np.ndarray) -> np.ndarray | None:
        return None if self.labels is None else self.labels[idx]


# ------------------------------------------------------------------ procedural shapes

SHAPE_NAMES = ["circle", "square", "triangle"]


def render_shape(rng: np.random.Generator, size: int = 64) -> tuple[np.ndarray, int]:
    """One procedural image: a circle, square or triangle of random colour, size, position
    and rotation on a random background (solid, linear gradient or two-tone split, with
    light noise). Drawn at 2x and downsampled (antialiasing). Returns
    ``(uint8 (3, size, size), label)``, a pure function of ``rng``'s state."""
    from PIL import Image, ImageDraw

    s2 = 2 * size
    label = int(rng.integers(3))
    c1, c2 = rng.integers(0, 256, size=(2, 3))
    kind = int(rng.integers(3))
    yy, xx = np.mgrid[0:s2, 0:s2] / (s2 - 1)
    if kind == 0:
        t = np.zeros((s2, s2))
    else:
        angle = rng.uniform(0, 2 * np.pi)
        proj = np.cos(angle) * (xx - 0.5) + np.sin(angle) * (yy - 0.5)
        t = proj - proj.min()
        t = t / max(t.max(), 1e-9)
        if kind == 2:
            t = (t > rng.uniform(0.3, 0.7)).astype(np.float64)
    bg = c1[None, None] * (1 - t[..., None]) + c2[None, None] * t[..., None]
    bg_mean = (c1 + c2) / 2
    for _ in range(20):  # a shape colour that stands out from the background
        colour = rng.integers(0, 256, size=3)
        if (
            np.abs(colour - bg_mean).sum() > 160
            and np.abs(colour - c1).sum() > 100
            and np.abs(colour - c2).sum() > 100
        ):
            break
    img = Image.fromarray(bg.clip(0, 255).astype(np.uint8), "RGB")
    draw = ImageDraw.Draw(img)
    r = rng.uniform(0.14, 0.32) * s2
    cx, cy = rng.uniform(r, s2 - r, size=2)
    fill = tuple(int(v) for v in colour)
    if label == 0:
        rc = 0.85 * r
        draw.ellipse([cx - rc, cy - rc, cx + rc, cy + rc], fill=fill)
    else:
        corners = 4 if label == 1 else 3
        phase = rng.uniform(0, 2 * np.pi)
        pts = [
            (
                cx + r * math.cos(phase + 2 * math.pi * j / corners),
                cy + r * math.sin(phase + 2 * math.pi * j / corners),
            )
            for j in range(corners)
        ]
        draw.polygon(pts, fill=fill)
    img = img.resize((size, size), Image.Resampling.LANCZOS)
    arr = np.asarray(img, dtype=np.float64) + rng.normal(0, 4.0, size=(size, size, 3))
    return arr.clip(0, 255).round().astype(np.uint8).transpose(2, 0, 1), label


class ShapesDataset(ImageDataset):
    """Procedural 64x64 RGB shapes (labels: circle 0, square 1, triangle 2). Image ``i``
    is rendered from ``(seed, i)``, so the dataset of ``size`` images is fixed by its
    seed and nothing is downloaded or stored."""

    def __init__(self, image_size: int = 64, size: int = 60_000, seed: int = 0) -> None:
        self.name = "shapes"
        self.image_size = int(image_size)
        self.shape = (3, self.image_size, self.image_size)
        self.size = int(size)
        self.seed = int(seed)
        self.num_classes = 3
        self.class_names = list(SHAPE_NAMES)
        super().__init__()

    def render(self, i: int) -> tuple[np.ndarray, int]:
        return render_shape(np.random.default_rng([self.seed, int(i)]), self.image_size)

    def _images(self, idx: np.ndarray) -> np.ndarray:
        return np.stack([self.render(i)[0] for i in idx])

    def _labels(self, idx: np.ndarray) -> np.ndarray:
        return np.array([self.render(i)[1] for i in idx], dtype=np.int64)

    def sample_batch(self, batch_size: int, generator: torch.Generator) -> tuple:
        idx = torch.randint(self.size, (batch_size,), generator=generator).numpy()
        pairs = [self.render(i) for i in idx]
        x = from_uint8(torch.from_numpy(np.stack([p[0] for p in pairs])))
        return x, torch.tensor([p[1] for p in pairs], dtype=torch.int64)


# ------------------------------------------------------------------ factories


def _size(cfg: Any, default: int | None) -> int | None:
    size = getattr(cfg, "image_size", None)
    return default if size is None else int(size)


def mnist_like_dataset(
    name: str, path: str | os.PathLike[str], cfg: Any = None
) -> ArrayImageDataset:
    images, labels = load_mnist_like(path, "train")
    return ArrayImageDataset(
        name, images, labels, 10 if labels.max() < 10 else None, image_size=_size(cfg, None)
    )


def mnist_dataset(cfg: Any) -> ArrayImageDataset:
    """MNIST from ``cfg.data_dir`` (IDX files or ``mnist.npz``), else downloaded to the
    cache on first use."""
    data_dir = getattr(cfg, "data_dir", None)
    root = Path(data_dir) if data_dir else download_mnist()
    return mnist_like_dataset("mnist", root, cfg)


def fashion_mnist_dataset(cfg: Any) -> ArrayImageDataset:
    from ganforge.data.idx import find_fashion_mnist

    root = find_fashion_mnist(getattr(cfg, "data_dir", None))["train_images"].parent
    ds = mnist_like_dataset("fashion-mnist", root, cfg)
    ds.class_names = [
        "T-shirt/top",
        "Trouser",
        "Pullover",
        "Dress",
        "Coat",
        "Sandal",
        "Shirt",
        "Sneaker",
        "Bag",
        "Ankle boot",
    ]
    ds.label_classifier = "fashion-cnn"  # trained on these ten classes
    return ds


def digits_dataset(cfg: Any) -> ArrayImageDataset:
    """scikit-learn's 1,797 bundled 8x8 digits (values 0..16 -> 0..255), upscaled
    bilinearly to ``image_size`` (default 28); labels 0-9."""
    from PIL import Image
    from sklearn.datasets import load_digits

    d = load_digits()
    raw = np.clip(np.round(d.images * (255.0 / 16.0)), 0, 255).astype(np.uint8)  # (N, 8, 8)
    size = _size(cfg, 28)
    if size != 8:
        raw = np.stack(
            [
                np.asarray(Image.fromarray(im, "L").resize((size, size), Image.Resampling.BILINEAR))
                for im in raw
            ]
        )
    return ArrayImageDataset("digits", raw, d.target, 10, [str(i) for i in range(10)])


def stacked_dataset(cfg: Any) -> StackedDataset:
    """Stacked MNIST-format digits from ``cfg.data_dir`` (default: Fashion-MNIST)."""
    from ganforge.data.idx import find_fashion_mnist

    data_dir = getattr(cfg, "data_dir", None)
    root = Path(data_dir) if data_dir else find_fashion_mnist()["train_images"].parent
    images, labels = load_mnist_like(root, "train")
    return StackedDataset(images, labels, image_size=_size(cfg, None))


def folder_dataset(cfg: Any, path: str | None = None) -> FolderImageDataset:
    root = path or getattr(cfg, "data_dir", None)
    if not root:
        raise ValueError("dataset 'folder' needs the image folder: pass --data-dir DIR")
    return FolderImageDataset(root, _size(cfg, 64))


def _looks_mnist_format(path: Path) -> bool:
    from ganforge.data.idx import find_mnist_format

    try:
        find_mnist_format(path)
        return True
    except ValueError:
        return (path / "mnist.npz").is_file()


def image_path_info(name: str) -> DatasetInfo | None:
    """A registry entry for a path: a Keras ``.npz``, a folder of MNIST-format IDX files,
    or an image folder; ``None`` when ``name`` is none of these."""
    path = Path(name)
    if path.suffix.lower() == ".npz":
        if not path.is_file():
            raise ValueError(f"data file {name!r} does not exist")
        return DatasetInfo(
            name,
            lambda cfg: mnist_like_dataset(path.stem, path, cfg),
            "Keras-style .npz of images",
            "dcgan",
            kind="image",
            eval_samples=10000,
            num_classes=10,
        )
    if not path.is_dir():
        return None
    if _looks_mnist_format(path):
        return DatasetInfo(
            name,
            lambda cfg: mnist_like_dataset(path.name, path, cfg),
            "MNIST-format IDX folder",
            "dcgan",
            kind="image",
            eval_samples=10000,
            num_classes=10,
        )
    _, classes, _, _ = scan_folder(path)
    return DatasetInfo(
        name,
        lambda cfg: folder_dataset(cfg, name),
        "image folder",
        "dcgan64",
        kind="image",
        eval_samples=5000,
        num_classes=len(classes) if classes else None,
    )


def builtin_infos() -> list[DatasetInfo]:
    return [
        DatasetInfo(
            "mnist",
            mnist_dataset,
            "MNIST digits 28x28 (downloaded and checksummed, or --data-dir)",
            "dcgan",
            kind="image",
            eval_samples=10000,
            num_classes=10,
        ),
        DatasetInfo(
            "fashion-mnist",
            fashion_mnist_dataset,
            "Fashion-MNIST 28x28 (Debian dataset-fashion-mnist or --data-dir)",
            "dcgan",
            kind="image",
            eval_samples=10000,
            num_classes=10,
        ),
        DatasetInfo(
            "digits",
            digits_dataset,
            "scikit-learn 8x8 digits upscaled to 28x28 (--image-size)",
            "dcgan",
            kind="image",
            eval_samples=1797,
            num_classes=10,
        ),
        DatasetInfo(
            "shapes",
            lambda c: ShapesDataset(_size(c, 64)),
            "procedural 64x64 RGB circles/squares/triangles",
            "dcgan64",
            kind="image",
            eval_samples=5000,
            num_classes=3,
        ),
        DatasetInfo(
            "stacked",
            stacked_dataset,
            "three MNIST-format images as RGB channels, 1000 modes (Fashion-MNIST or --data-dir)",
            "dcgan",
            kind="image",
            eval_samples=26000,
            num_classes=1000,
        ),
        DatasetInfo(
            "folder",
            folder_dataset,
            "PNG/JPEG images under --data-dir, class = sub-folder (--image-size, default 64)",
            "dcgan64",
            kind="image",
            eval_samples=5000,
        ),
    ]
