"""Train the small CNN feature extractor shipped with ganforge.

Trains :class:`ganforge.features.cnn.MnistCNN` on the Fashion-MNIST train split (CPU,
fixed seed, a few minutes on two cores), reports accuracy on the test split, refuses to
write weights below ``--min-accuracy``, and writes
``src/ganforge/features/weights/fashion_cnn.safetensors`` atomically.

    python scripts/train_feature_cnn.py                       # fashion-cnn
    python scripts/train_feature_cnn.py --dataset mnist --data-dir DIR   # mnist-cnn

``--data-dir`` defaults to /usr/share/datasets/fashion-mnist (Debian package
``dataset-fashion-mnist``) for Fashion-MNIST; MNIST needs an explicit directory with
the four IDX files.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from ganforge.data.idx import find_fashion_mnist, load_mnist_format  # noqa: E402
from ganforge.features.cnn import WEIGHTS_DIR, MnistCNN, save_cnn  # noqa: E402
from ganforge.pixels import from_uint8  # noqa: E402


def to_input(images: np.ndarray) -> torch.Tensor:
    """uint8 (N, 28, 28) -> float32 (N, 1, 28, 28) in [-1, 1]."""
    return from_uint8(torch.from_numpy(images)).unsqueeze(1)


@torch.inference_mode()
def accuracy(model: MnistCNN, x: torch.Tensor, y: torch.Tensor, batch: int = 1000) -> float:
    model.eval()
    hits = 0
    for i in range(0, len(x), batch):
        _, logits = model(x[i : i + batch])
        hits += int((logits.argmax(1) == y[i : i + batch]).sum())
    return hits / len(x)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dataset", choices=["fashion", "mnist"], default="fashion")
    p.add_argument("--data-dir", default=None, help="directory with the four IDX files")
    p.add_argument("--epochs", type=int, default=6)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--min-accuracy", type=float, default=0.90)
    p.add_argument("--out", default=None, help="output .safetensors path")
    args = p.parse_args(argv)

    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    if args.dataset == "fashion":
        data_dir = Path(find_fashion_mnist(args.data_dir)["train_images"]).parent
    elif args.data_dir is None:
        p.error("--dataset mnist needs --data-dir")
    else:
        data_dir = Path(args.data_dir)
    out = Path(args.out) if args.out else WEIGHTS_DIR / f"{args.dataset}_cnn.safetensors"

    xtr, ytr = load_mnist_format(data_dir, "train")
    xte, yte = load_mnist_format(data_dir, "test")
    xtr_t, ytr_t = to_input(xtr), torch.from_numpy(ytr)
    xte_t, yte_t = to_input(xte), torch.from_numpy(yte)
    print(f"{args.dataset}: train {len(xtr)}, test {len(xte)} images from {data_dir}")

    model = MnistCNN(num_classes=10)
    steps_per_epoch = (len(xtr) + args.batch_size - 1) // args.batch_size
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(
        opt, max_lr=args.lr, total_steps=args.epochs * steps_per_epoch
    )
    gen = torch.Generator().manual_seed(args.seed)
    start = time.perf_counter()
    for epoch in range(args.epochs):
        model.train()
        perm = torch.randperm(len(xtr_t), generator=gen)
        total = 0.0
        for i in range(0, len(perm), args.batch_size):
            idx = perm[i : i + args.batch_size]
            xb = xtr_t[idx]
            # horizontal flips are label-preserving for clothing, not for digits
            if args.dataset == "fashion":
                flip = torch.rand(len(idx), generator=gen) < 0.5
                xb = torch.where(flip[:, None, None, None], xb.flip(3), xb)
            _, logits = model(xb)
            loss = F.cross_entropy(logits, ytr_t[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            total += float(loss.detach()) * len(idx)
        acc = accuracy(model, xte_t, yte_t)
        print(
            f"epoch {epoch + 1}/{args.epochs}: train loss {total / len(xtr_t):.4f}, "
            f"test acc {acc:.4f}, {time.perf_counter() - start:.0f}s"
        )

    acc = accuracy(model, xte_t, yte_t)
    print(f"final test-split accuracy: {acc:.4f} ({len(xte)} images)")
    if acc < args.min_accuracy:
        print(f"accuracy below --min-accuracy {args.min_accuracy}; weights not written")
        return 1
    save_cnn(
        model.eval(),
        out,
        {
            "dataset": args.dataset,
            "test_accuracy": f"{acc:.4f}",
            "epochs": str(args.epochs),
            "seed": str(args.seed),
            "input": "(N, 1, 28, 28) float in [-1, 1]",
        },
    )
    print(f"wrote {out} ({out.stat().st_size / 1e6:.2f} MB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
