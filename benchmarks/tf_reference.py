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

``--update`` chooses the algorithm, to match ganforge's ``update`` option:

- ``simultaneous`` (the TensorFlow DCGAN tutorial's step): one G forward, D on real and
  fake, both gradients from that one pass (G's through D *before* its update), then both
  updates. With ``n_critic > 1`` (the WGAN) the first ``n_critic - 1`` critic updates
  come first, each on fresh fakes.
- ``alternating`` (ganforge's default, with its ``reuse_fake``): ``n_critic`` critic
  updates, each on fresh fakes; the last one keeps its fakes' graph through G, and G's
  loss is D's output on those same fakes *after* D's update (one G forward saved, D run
  on the fakes a second time).

The WGAN adds weight clipping after each critic update; its losses are the Keras WGAN
example's.
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


def make_step(task, update="simultaneous"):
    data, kind, loss, batch = TASKS[task]
    g, d = build(kind)
    bank = data_bank(data)
    n = int(bank.shape[0])
    if loss == "wasserstein":
        g_opt, d_opt = keras.optimizers.RMSprop(5e-5), keras.optimizers.RMSprop(5e-5)
        n_critic, clip = 5, 0.01

        def d_loss_fn(r, f):
            return tf.reduce_mean(f) - tf.reduce_mean(r)

        def g_loss_fn(f):
            return -tf.reduce_mean(f)

    else:
        bce = keras.losses.BinaryCrossentropy(from_logits=True)
        g_opt = keras.optimizers.Adam(2e-4, beta_1=0.5)
        d_opt = keras.optimizers.Adam(2e-4, beta_1=0.5)
        n_critic, clip = 1, None

        def d_loss_fn(r, f):
            return bce(tf.ones_like(r), r) + bce(tf.zeros_like(f), f)

        def g_loss_fn(f):
            return bce(tf.ones_like(f), f)

    def real_batch():
        return tf.gather(bank, tf.random.uniform([batch], 0, n, dtype=tf.int32))

    def apply(opt, grads, model):
        opt.apply_gradients(zip(grads, model.trainable_variables, strict=True))

    def after_d():
        if clip is not None:
            for w in d.trainable_variables:
                w.assign(tf.clip_by_value(w, -clip, clip))

    def critic_step():
        real, z = real_batch(), tf.random.normal([batch, NOISE_DIM])
        fake = g(z, training=True)
        with tf.GradientTape() as tape:
            d_loss = d_loss_fn(d(real, training=True), d(fake, training=True))
        apply(d_opt, tape.gradient(d_loss, d.trainable_variables), d)
        after_d()
        return d_loss

    @tf.function
    def simultaneous():
        for _ in range(n_critic - 1):
            critic_step()
        real, z = real_batch(), tf.random.normal([batch, NOISE_DIM])
        with tf.GradientTape() as g_tape, tf.GradientTape() as d_tape:
            fake = g(z, training=True)
            r, f = d(real, training=True), d(fake, training=True)
            g_loss, d_loss = g_loss_fn(f), d_loss_fn(r, f)
        g_grads = g_tape.gradient(g_loss, g.trainable_variables)
        d_grads = d_tape.gradient(d_loss, d.trainable_variables)
        apply(g_opt, g_grads, g)
        apply(d_opt, d_grads, d)
        after_d()
        return d_loss, g_loss

    @tf.function
    def alternating():
        for _ in range(n_critic - 1):
            critic_step()
        real, z = real_batch(), tf.random.normal([batch, NOISE_DIM])
        with tf.GradientTape() as g_tape:
            fake = g(z, training=True)
            with tf.GradientTape() as d_tape:
                d_loss = d_loss_fn(d(real, training=True), d(tf.stop_gradient(fake), training=True))
            apply(d_opt, d_tape.gradient(d_loss, d.trainable_variables), d)
            after_d()
            g_loss = g_loss_fn(d(fake, training=True))  # D after its update
        apply(g_opt, g_tape.gradient(g_loss, g.trainable_variables), g)
        return d_loss, g_loss

    return simultaneous if update == "simultaneous" else alternating


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
    parser.add_argument("--update", choices=("simultaneous", "alternating"), default="simultaneous")
    parser.add_argument(
        "--precision",
        choices=("fp32", "bf16"),
        default="fp32",
        help="bf16: Keras' mixed_bfloat16 policy (bf16 compute, fp32 weights)",
    )
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=2)
    args = parser.parse_args(argv)
    tf.random.set_seed(0)
    if args.precision == "bf16":
        keras.mixed_precision.set_global_policy("mixed_bfloat16")
    step = make_step(args.task, args.update)
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
                "update": args.update,
                "precision": args.precision,
                "tf_version": tf.__version__,
                "steps_per_s": rates,
                "median": float(np.median(rates)),
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
