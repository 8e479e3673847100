"""Self-conditioning: a dataset of images or low-dimensional points (labelled or not)
given k-means clusters of its samples as labels, so a class-conditional GAN can learn it.

The generator and discriminator are conditioned on the cluster of each image (each
cluster is a narrower distribution than the whole data, which a GAN on a CPU budget
fits better); samples draw the cluster from the clusters' frequencies in the training
data (:attr:`SelfConditioned.label_prior`, stored in the checkpoint's codec), so the
model as a whole is an unconditional model of the data. The idea follows "self-
conditioned GANs" (Liu et al., CVPR 2020), with the clusters fixed before training.

A generator fed a connected (Gaussian) latent must put mass on the paths between
separated modes; conditioned on a cluster it maps each latent onto one cluster, so
those "bridges" between clusters go away.

Image clusters: images scaled to [0, 1] (downsampled to at most :data:`CLUSTER_SIDE`
pixels a side), PCA to :data:`PCA_COMPONENTS` dimensions, k-means with ``n_init=3``;
both fitted on at most :data:`FIT_IMAGES` images (and :data:`FIT_VALUES` pixel values)
drawn with the run's seed, on one thread, so the clusters are the same on every process
and every resume. Point clusters: k-means in model space on :data:`FIT_POINTS` training
samples drawn with the run's seed; each training sample's label is its nearest centre.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from ganforge.data.base import Dataset
from ganforge.data.images import ImageDataset, resize_images
from ganforge.errors import DataError

PCA_COMPONENTS = 50
CLUSTER_SIDE = 32
FIT_IMAGES = 60_000
#: and at most this many pixel values (200 MB as float32)
FIT_VALUES = 50_000_000
FIT_POINTS = 20_000
#: datasets with at most this many images get every image's cluster once; larger ones
#: (stacked triples) get each batch's clusters as it is drawn
PRECOMPUTE_MAX = 4_000_000
_CHUNK = 4096


def _pixels(images: np.ndarray) -> np.ndarray:
    """uint8 ``(B, C, H, W)`` -> float32 ``(B, C * h * w)`` in [0, 1], sides ≤ CLUSTER_SIDE."""
    if max(images.shape[2:]) > CLUSTER_SIDE:
        images = resize_images(images, CLUSTER_SIDE)
    return images.reshape(len(images), -1).astype(np.float32) / 255.0


def _with_clusters(codec: dict[str, Any], prior: np.ndarray) -> dict[str, Any]:
    """The data's codec with the clusters as its classes and their frequencies."""
    k = len(prior)
    return {
        **codec,
        "num_classes": k,
        "class_names": None,
        "label_prior": prior.tolist(),
        "self_condition": k,
    }


class ImageClusters:
    """PCA + k-means of images fitted on at most :data:`FIT_IMAGES` of ``dataset``'s
    images drawn with ``seed`` (one thread: the same on every process and resume).

    Raises:
        DataError: fewer images than ``2 * k``.
    """

    def __init__(self, dataset: ImageDataset, k: int, seed: int = 0) -> None:
        from sklearn.cluster import KMeans
        from sklearn.decomposition import PCA
        from threadpoolctl import threadpool_limits

        n = int(dataset.size)
        if n < 2 * k:
            raise DataError(
                f"self_condition {k} needs at least {2 * k} images; {dataset.name!r} has {n}"
            )
        side = min(max(dataset.shape[1:]), CLUSTER_SIDE)
        dims = dataset.shape[0] * side * side  # upper bound of the pixel features' size
        rng = np.random.default_rng(seed)
        size = min(n, FIT_IMAGES, FIT_VALUES // dims)
        fit_idx = np.sort(rng.choice(n, size=size, replace=False))
        with threadpool_limits(1):
            x_fit = np.concatenate(
                [
                    _pixels(dataset._images(fit_idx[s : s + _CHUNK]))
                    for s in range(0, len(fit_idx), _CHUNK)
                ]
            )
            dims = min(PCA_COMPONENTS, x_fit.shape[1], len(x_fit) - 1)
            self.pca = PCA(dims, svd_solver="randomized", random_state=seed).fit(x_fit)
            self.kmeans = KMeans(k, n_init=3, random_state=seed).fit(self.pca.transform(x_fit))
        self.fit_labels = self.kmeans.labels_.astype(np.int64)

    def predict(self, images: np.ndarray) -> np.ndarray:
        """The cluster ``(B,)`` int64 of uint8 images ``(B, C, H, W)``."""
        from threadpoolctl import threadpool_limits

        with threadpool_limits(1):
            out = [
                self.kmeans.predict(self.pca.transform(_pixels(images[s : s + _CHUNK])))
                for s in range(0, len(images), _CHUNK)
            ]
        return np.concatenate(out).astype(np.int64)


def cluster_images(dataset: ImageDataset, k: int, seed: int = 0) -> np.ndarray:
    """The k-means cluster ``(N,)`` int64 in ``[0, k)`` of each of ``dataset``'s ``N``
    images (see :class:`ImageClusters`). Deterministic given ``seed``."""
    return _every_cluster(ImageClusters(dataset, k, seed), dataset)


def _every_cluster(fitted: ImageClusters, dataset: ImageDataset) -> np.ndarray:
    idx = np.arange(int(dataset.size))
    return np.concatenate(
        [fitted.predict(dataset._images(idx[s : s + _CHUNK])) for s in range(0, len(idx), _CHUNK)]
    )


class SelfConditioned(ImageDataset):
    """``base``'s images with their k-means clusters as labels (``num_classes = k``).

    Everything but the labels is ``base``'s (name, split, extractor, files); the labels
    are not classes, so the evaluator gets no ``label_classifier`` and a classifier
    trained on the data (``--extractor train``) learns ``base``'s own labels."""

    def __init__(self, base: ImageDataset, k: int, seed: int = 0) -> None:
        self.base = base
        self.name, self.shape, self.size = base.name, base.shape, base.size
        self.real_split = base.real_split
        self.extractor = base.extractor
        self.test_split = base.test_split
        self.label_classifier = None
        self.fitted = ImageClusters(base, k, seed)
        # every image's cluster, or (data drawn from a huge set, e.g. stacked triples)
        # the cluster of each batch's images, computed as they are drawn
        self.clusters: np.ndarray | None = None
        labels = self.fitted.fit_labels
        if base.size <= PRECOMPUTE_MAX:
            self.clusters = _every_cluster(self.fitted, base)
            labels = self.clusters
        self.num_classes = int(k)
        self.class_names = None
        counts = np.bincount(labels, minlength=k).astype(np.float64)
        self.label_prior = counts / counts.sum()
        super().__init__()

    def __getattr__(self, name: str) -> Any:  # whatever else the base dataset offers
        if name == "base":
            raise AttributeError(name)
        return getattr(self.base, name)

    def codec(self) -> dict[str, Any]:
        return _with_clusters(self.base.codec(), self.label_prior)

    def _images(self, idx: np.ndarray) -> np.ndarray:
        return self.base._images(idx)

    def _labels(self, idx: np.ndarray) -> np.ndarray:
        idx = np.asarray(idx, dtype=np.int64)
        if self.clusters is None:
            return self.fitted.predict(self.base._images(idx))
        return self.clusters[idx]

    def _labelled(self, x: torch.Tensor, idx: Any = None) -> tuple[torch.Tensor, torch.Tensor]:
        if self.clusters is not None and idx is not None:
            y = self.clusters[np.asarray(idx, dtype=np.int64)]
        else:  # model space back to the uint8 pixels the clusters were fitted on
            y = self.fitted.predict(self.decode(x.detach().cpu()))
        return x, torch.from_numpy(y).to(x.device)

    def sample_batch(
        self, batch_size: int, generator: torch.Generator
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        if self.clusters is not None:  # by index, as the base draws
            return super().sample_batch(batch_size, generator)
        x, _ = self.base.sample_batch(batch_size, generator)
        return self._labelled(x)

    def batch_at(self, idx: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        x, _ = self.base.batch_at(idx)  # the base's loading (a folder's cache and workers)
        return self._labelled(x, idx)

    def labelled_training_split(self) -> tuple[np.ndarray, np.ndarray]:
        return self.base.labelled_training_split()


class SelfConditionedPoints(Dataset):
    """Low-dimensional ``inner`` (toy sets, numeric tables, in its final model space)
    with each sample labelled by its nearest of ``k`` k-means centres fitted in model
    space; everything else (encoding, real samples, modes) is ``inner``'s."""

    def __init__(self, inner: Dataset, k: int, seed: int = 0) -> None:
        from sklearn.cluster import KMeans
        from threadpoolctl import threadpool_limits

        self.inner = inner
        for attr in ("name", "shape", "kind", "size", "modes", "mode_std", "columns", "levels"):
            setattr(self, attr, getattr(inner, attr))
        super().__init__(inner.mean, inner.std)
        self.range_map = inner.range_map
        fit, _ = inner.sample_batch(FIT_POINTS, torch.Generator().manual_seed(int(seed)))
        fit = fit.reshape(len(fit), -1).double()
        with threadpool_limits(1):
            kmeans = KMeans(k, n_init=3, random_state=seed).fit(fit.numpy())
        self.centres = torch.from_numpy(kmeans.cluster_centers_).double()  # (k, D)
        self._cache: torch.Tensor | None = None  # the centres in the batches' dtype/device
        self.num_classes, self.class_names = int(k), None
        counts = np.bincount(self._nearest(fit).numpy(), minlength=k).astype(np.float64)
        self.label_prior = counts / counts.sum()

    def _nearest(self, x: torch.Tensor) -> torch.Tensor:
        """The nearest centre ``(B,)`` int64 of each sample ``x`` ``(B, ...)`` (model space):
        the argmin of ``‖c‖² - 2 x·c`` (``‖x‖²`` is the same for every centre)."""
        flat = x.reshape(len(x), -1)
        c = self._centres_like(flat)
        return torch.addmm((c * c).sum(dim=1), flat, c.T, alpha=-2.0).argmin(dim=1)

    def _centres_like(self, x: torch.Tensor) -> torch.Tensor:
        if self._cache is None or self._cache.device != x.device or self._cache.dtype != x.dtype:
            self._cache = self.centres.to(x.device, x.dtype)
        return self._cache

    def sample_batch(
        self, batch_size: int, generator: torch.Generator
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        x, _ = self.inner.sample_batch(batch_size, generator)
        return x, self._nearest(x)

    def batch_at(self, idx: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        x, _ = self.inner.batch_at(idx)
        return x, self._nearest(x)

    def sample_real(self, n: int, seed: int) -> np.ndarray:
        return self.inner.sample_real(n, seed)

    def value_range(self) -> tuple[np.ndarray, np.ndarray]:
        return self.inner.value_range()

    def codec(self) -> dict[str, Any]:
        return _with_clusters(self.inner.codec(), self.label_prior)

    def __getattr__(self, name: str) -> Any:  # whatever else the inner dataset offers
        if name == "inner":
            raise AttributeError(name)
        return getattr(self.inner, name)


def self_condition(data: Dataset, k: int, seed: int = 0) -> Dataset:
    """``data`` with ``k`` clusters of its samples as labels (images or points)."""
    if data.kind == "image":
        return SelfConditioned(data, k, seed)
    return SelfConditionedPoints(data, k, seed)
