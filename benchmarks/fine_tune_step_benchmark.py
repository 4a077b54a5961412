"""Step time of TransferClassifier.fit vs a plain Keras functional model, same trainable set.

Both models hold the same Backbone object configuration (efficientnet_b0 by default, weights=None),
the same head (Dropout + Dense softmax), the same UnfreezeTop(2) trainable set (applied with the
policy to the TransferClassifier, by hand with `trainable` flags to the plain model), Adam, the
same batch. Each runs `warmup` steps, then `steps` timed steps via `train_on_batch`, alternating between the two models; the median
step time ratio is printed with a machine description.

    python benchmarks/fine_tune_step_benchmark.py [--backbone efficientnet_b0] [--size 96] [--batch 16]
"""

import argparse
import os
import platform
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402

from keras_transfer.backbones import get_backbone  # noqa: E402
from keras_transfer.models import TransferClassifier  # noqa: E402
from keras_transfer.policies import UnfreezeTop  # noqa: E402


def time_steps(models, x, y, warmup, steps):
    """Median step time per model; steps alternate between models so load drift hits both."""
    for model in models:
        for _ in range(warmup):
            model.train_on_batch(x, y)
    times = [[] for _ in models]
    for _ in range(steps):
        for model, out in zip(models, times):
            start = time.perf_counter()
            model.train_on_batch(x, y)
            out.append(time.perf_counter() - start)
    return [statistics.median(t) for t in times]


def plain_model(name, size, num_classes):
    backbone = get_backbone(name, input_shape=(size, size, 3), weights=None)
    groups = UnfreezeTop(2).trainable_groups(backbone)
    for group in backbone.block_groups:  # the same trainable set, by hand
        for layer in backbone.group_layers(group):
            layer.trainable = group in groups and not isinstance(layer, keras.layers.BatchNormalization)
    inputs = keras.Input((size, size, 3))
    x = backbone(inputs)
    x = keras.layers.Dropout(0.2)(x)
    outputs = keras.layers.Dense(num_classes, activation="softmax")(x)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--backbone", default="efficientnet_b0")
    parser.add_argument("--size", type=int, default=96)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--steps", type=int, default=20)
    args = parser.parse_args()
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, size=(args.batch, args.size, args.size, 3)).astype("float32")
    y = rng.integers(0, 5, size=(args.batch,))

    plain = plain_model(args.backbone, args.size, 5)
    ours = TransferClassifier(
        get_backbone(args.backbone, input_shape=(args.size, args.size, 3), weights=None),
        num_classes=5,
        policy=UnfreezeTop(2),
        dropout=0.2,
    )
    ours.compile()
    assert len(ours.trainable_weights) == len(plain.trainable_weights), "trainable sets differ"

    t_plain, t_ours = time_steps([plain, ours], x, y, args.warmup, args.steps)
    print(
        f"machine: {platform.machine()} {platform.processor() or ''} {os.cpu_count()} cpus, "
        f"{platform.system()}, keras {keras.__version__} ({keras.backend.backend()})"
    )
    print(
        f"{args.backbone} @{args.size}, batch {args.batch}, UnfreezeTop(2), {len(plain.trainable_weights)} "
        f"trainable variables, median of {args.steps} steps after {args.warmup} warm-up"
    )
    print(f"plain keras.Model fit step:    {t_plain * 1000:.1f} ms")
    print(f"TransferClassifier fit step:   {t_ours * 1000:.1f} ms")
    print(f"ratio TransferClassifier / plain: {t_ours / t_plain:.3f}")


if __name__ == "__main__":
    main()
