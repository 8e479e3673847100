"""TF/Keras reference for ``benchmarks/throughput.py``: the classic tutorial GANs with
the training step in a ``tf.function``, same architectures, losses, optimizers and batch
sizes as the ganforge tasks.

It needs TensorFlow, which ganforge does not depend on; keep it in its own environment:

    python -m venv /tmp/tfenv && /tmp/tfenv/bin/pip install tensorflow-cpu==2.21.0
    python benchmarks/throughput.py --tf-python /tmp/tfenv/bin/python

``throughput.py`` starts this script once per task with ``--serve``: it builds the models,
traces and warms up the step, prints ``ready`` and then, for every line ``N`` read from
stdin, runs N steps and prints the seconds they took. So the TF side is interleaved with
the other two in the same run and waits idle (blocked on stdin) while they are timed.

Run alone, ``--task T --steps N --repeats R`` prints one JSON object with the steps/s of
each repeat.

The step follows the tutorials: for the classifier loss, the TensorFlow DCGAN tutorial's
form (one G forward, D on real and fake, both gradients from one pass, so D is not run a
second time on the fakes: less work than an alternating D-then-G step); for the WGAN,
the Keras form (n critic steps with clipping, then a G step on fresh noise).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from tensorflow import keras  # noqa: E402
from tensorflow.keras import layers  # noqa: E402

# name: (data, G/D kind, loss, batch)
TASKS = {
    "mlp2d-disk": ("disk", "mlp2d", "nonsaturating", 64),
    "wgan-clip-disk": ("disk", "mlp2d", "wasserstein", 64),
    "mlp-mnist": ((28, 28, 1), "mlp-mnist", "nonsaturating", 256),
    "dcgan28": ((28, 28, 1), "dcgan28", "nonsaturating", 64),
    "dcgan64": ((64, 64, 3), "dcgan64", "nonsaturating", 64),
}
NOISE_DIM = 100


def leaky() -> layers.Layer:
    return layers.LeakyReLU(negative_slope=0.2)


def mlp(widths, out_dim, act, batch_norm=False, out_act=None, out_shape=None):
    model = keras.Sequential()
    for w in widths:
        model.add(layers.Dense(w, use_bias=not batch_norm))
        if batch_norm:
            model.add(layers.BatchNormalization())
        model.add(leaky() if act == "leaky" else layers.ReLU())
    model.add(layers.Dense(out_dim, activation=out_act))
    if out_shape is not None:
        model.add(layers.Reshape(out_shape))
    return model


def dcgan(shape, base, g_act, d_batch_norm):
    """The ganforge ``dcgan`` layout in NHWC: dense -> s0 x s0 x w0, stride-2 transposed
    convs (kernel 4) with batch norm, tanh; D strided convs, flatten, dense logit."""
    h, _, c = shape
    k = {28: 2, 64: 4}[h]
    s0, w0 = h // 2**k, base * 2 ** (k - 1)
    act = leaky if g_act == "leaky" else layers.ReLU
    g = keras.Sequential(
        [
            keras.Input((NOISE_DIM,)),
            layers.Dense(s0 * s0 * w0, use_bias=False),
            layers.BatchNormalization(),
            act(),
            layers.Reshape((s0, s0, w0)),
        ]
    )
    width = w0
    for _ in range(k - 1):
        width //= 2
        g.add(layers.Conv2DTranspose(width, 4, 2, padding="same", use_bias=False))
        g.add(layers.BatchNormalization())
        g.add(act())
    g.add(layers.Conv2DTranspose(c, 4, 2, padding="same", activation="tanh"))
    d = keras.Sequential([keras.Input(shape)])
    for i in range(k):
        norm = d_batch_norm and i > 0
        d.add(layers.Conv2D(base * 2**i, 4, 2, padding="same", use_bias=not norm))
        if norm:
            d.add(layers.BatchNormalization())
        d.add(leaky())
    d.add(layers.Flatten())
    d.add(layers.Dense(1))
    return g, d


def build(kind):
    if kind == "mlp2d":
        g = mlp((256,) * 3, 2, "relu", out_act="tanh")
        d = mlp((256,) * 3, 1, "leaky")
        g.build((None, NOISE_DIM))
        d.build((None, 2))
        return g, d
    if kind == "mlp-mnist":
        g = mlp((256, 512), 784, "leaky", batch_norm=True, out_act="tanh", out_shape=(28, 28, 1))
        d = keras.Sequential([keras.Input((28, 28, 1)), layers.Flatten()])
        for w in (512, 256):
            d.add(layers.Dense(w))
            d.add(leaky())
        d.add(layers.Dense(1))
        g.build((None, NOISE_DIM))
        return g, d
    if kind == "dcgan28":
        return dcgan((28, 28, 1), 64, "relu", False)
    return dcgan((64, 64, 3), 128, "leaky", True)


def data_bank(data, n=2048):
    rng = np.random.default_rng(0)
    if data == "disk":  # uniform in the unit disk
        r, t = np.sqrt(rng.random(n)), rng.random(n) * 2 * np.pi
        return tf.constant(np.stack([r * np.cos(t), r * np.sin(t)], 1), tf.float32)
    return tf.constant(rng.random((n, *data)) * 2 - 1, tf.float32)


def make_step(task):
    data, kind, loss, batch = TASKS[task]
    g, d = build(kind)
    bank = data_bank(data)
    n = int(bank.shape[0])

    def real_batch():
        return tf.gather(bank, tf.random.uniform([batch], 0, n, dtype=tf.int32))

    if loss == "wasserstein":
        g_opt, d_opt = keras.optimizers.RMSprop(5e-5), keras.optimizers.RMSprop(5e-5)

        @tf.function
        def step():
            for _ in range(5):
                real = real_batch()
                z = tf.random.normal([batch, NOISE_DIM])
                with tf.GradientTape() as tape:
                    fake = g(z, training=True)
                    d_loss = tf.reduce_mean(d(fake, training=True)) - tf.reduce_mean(
                        d(real, training=True)
                    )
                d_opt.apply_gradients(
                    zip(
                        tape.gradient(d_loss, d.trainable_variables),
                        d.trainable_variables,
                        strict=True,
                    )
                )
                for w in d.trainable_variables:
                    w.assign(tf.clip_by_value(w, -0.01, 0.01))
            z = tf.random.normal([batch, NOISE_DIM])
            with tf.GradientTape() as tape:
                g_loss = -tf.reduce_mean(d(g(z, training=True), training=True))
            g_opt.apply_gradients(
                zip(
                    tape.gradient(g_loss, g.trainable_variables), g.trainable_variables, strict=True
                )
            )
            return d_loss, g_loss

        return step

    bce = keras.losses.BinaryCrossentropy(from_logits=True)
    g_opt = keras.optimizers.Adam(2e-4, beta_1=0.5)
    d_opt = keras.optimizers.Adam(2e-4, beta_1=0.5)

    @tf.function
    def step():
        real = real_batch()
        z = tf.random.normal([batch, NOISE_DIM])
        with tf.GradientTape() as g_tape, tf.GradientTape() as d_tape:
            fake = g(z, training=True)
            r, f = d(real, training=True), d(fake, training=True)
            g_loss = bce(tf.ones_like(f), f)
            d_loss = bce(tf.ones_like(r), r) + bce(tf.zeros_like(f), f)
        g_grads = g_tape.gradient(g_loss, g.trainable_variables)
        d_grads = d_tape.gradient(d_loss, d.trainable_variables)
        g_opt.apply_gradients(zip(g_grads, g.trainable_variables, strict=True))
        d_opt.apply_gradients(zip(d_grads, d.trainable_variables, strict=True))
        return d_loss, g_loss

    return step


def timed(step, steps):
    t0 = time.perf_counter()
    for _ in range(steps):
        out = step()
    float(out[0])  # wait for the last step
    return time.perf_counter() - t0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", required=True, choices=sorted(TASKS))
    parser.add_argument("--serve", action="store_true", help="timing server for throughput.py")
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=2)
    args = parser.parse_args(argv)
    tf.random.set_seed(0)
    step = make_step(args.task)
    timed(step, max(1, args.warmup))  # trace + warm up
    if args.serve:
        print("ready", flush=True)
        for line in sys.stdin:
            print(f"{timed(step, int(line)):.9f}", flush=True)
        return 0
    rates = [args.steps / timed(step, args.steps) for _ in range(args.repeats)]
    print(
        json.dumps(
            {
                "task": args.task,
                "tf_version": tf.__version__,
                "steps_per_s": rates,
                "median": float(np.median(rates)),
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
