"""Self-conditioning: an unlabelled image dataset (or one whose labels are ignored) given
k-means clusters of its images as labels, so a class-conditional GAN can learn it.

The generator and discriminator are conditioned on the cluster of each image (each
cluster is a narrower distribution than the whole data, which a GAN on a CPU budget
fits better); samples draw the cluster from the clusters' frequencies in the training
data (:attr:`SelfConditioned.label_prior`, stored in the checkpoint's codec), so the
model as a whole is an unconditional model of the data. The idea follows "self-
conditioned GANs" (Liu et al., CVPR 2020), with the clusters fixed before training.

Clusters: images scaled to [0, 1] (downsampled to at most :data:`CLUSTER_SIDE` pixels a
side), PCA to :data:`PCA_COMPONENTS` dimensions, k-means with ``n_init=3``; both fitted
on at most :data:`FIT_IMAGES` images drawn with the run's seed, on one thread, so the
clusters are the same on every process and every resume.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from ganforge.data.images import ImageDataset, resize_images
from ganforge.errors import DataError

PCA_COMPONENTS = 50
CLUSTER_SIDE = 32
FIT_IMAGES = 60_000
_CHUNK = 4096


def _pixels(images: np.ndarray) -> np.ndarray:
    """uint8 ``(B, C, H, W)`` -> float32 ``(B, C * h * w)`` in [0, 1], sides ≤ CLUSTER_SIDE."""
    if max(images.shape[2:]) > CLUSTER_SIDE:
        images = resize_images(images, CLUSTER_SIDE)
    return images.reshape(len(images), -1).astype(np.float32) / 255.0


def cluster_images(dataset: ImageDataset, k: int, seed: int = 0) -> np.ndarray:
    """The k-means cluster ``(N,)`` int64 in ``[0, k)`` of each of ``dataset``'s ``N``
    images (see the module docstring for the features). Deterministic given ``seed``.

    Raises:
        DataError: fewer images than ``2 * k``.
    """
    from sklearn.cluster import KMeans
    from sklearn.decomposition import PCA
    from threadpoolctl import threadpool_limits

    n = int(dataset.size)
    if n < 2 * k:
        raise DataError(
            f"self_condition {k} needs at least {2 * k} images; {dataset.name!r} has {n}"
        )
    rng = np.random.default_rng(seed)
    fit_idx = np.sort(rng.choice(n, size=min(n, FIT_IMAGES), replace=False))
    with threadpool_limits(1):
        x_fit = np.concatenate(
            [
                _pixels(dataset._images(fit_idx[s : s + _CHUNK]))
                for s in range(0, len(fit_idx), _CHUNK)
            ]
        )
        dims = min(PCA_COMPONENTS, x_fit.shape[1], len(x_fit) - 1)
        pca = PCA(dims, svd_solver="randomized", random_state=seed).fit(x_fit)
        kmeans = KMeans(k, n_init=3, random_state=seed).fit(pca.transform(x_fit))
        del x_fit
        idx = np.arange(n)
        labels = np.concatenate(
            [
                kmeans.predict(pca.transform(_pixels(dataset._images(idx[s : s + _CHUNK]))))
                for s in range(0, n, _CHUNK)
            ]
        )
    return labels.astype(np.int64)


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
        self.clusters = cluster_images(base, k, seed)
        self.num_classes = int(k)
        self.class_names = None
        counts = np.bincount(self.clusters, minlength=k).astype(np.float64)
        self.label_prior = counts / counts.sum()
        super().__init__()

    def __getattr__(self, name: str) -> Any:  # whatever else the base dataset offers
        if name == "base":
            raise AttributeError(name)
        return getattr(self.base, name)

    def codec(self) -> dict[str, Any]:
        out = self.base.codec()
        out.update(
            num_classes=self.num_classes,
            class_names=None,
            label_prior=self.label_prior.tolist(),
            self_condition=self.num_classes,
        )
        return out

    def _images(self, idx: np.ndarray) -> np.ndarray:
        return self.base._images(idx)

    def _labels(self, idx: np.ndarray) -> np.ndarray:
        return self.clusters[np.asarray(idx, dtype=np.int64)]

    def batch_at(self, idx: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        x, _ = self.base.batch_at(idx)  # the base's loading (a folder's cache and workers)
        return x, torch.from_numpy(self._labels(np.asarray(idx)))

    def labelled_training_split(self) -> tuple[np.ndarray, np.ndarray]:
        return self.base.labelled_training_split()
