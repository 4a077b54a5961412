"""Target accuracy of source-only vs DANN vs a target oracle on a shifted pair, over 3 seeds.

Run:  python benchmarks/dann_benchmark.py [--pair digits|fashion_mnist] [--epochs 12] [--seeds 3]
      python benchmarks/dann_benchmark.py --step-time [--epochs 6]   (training step time only)

All three use the same small CNN + heads (`keras_transfer.models.DANN`): source-only is DANN with
the reversal weight fixed at 0, the oracle is the same network trained on labelled target
images (an upper bound). Half of the target images are the unlabelled adaptation set (and the
oracle's training set); the other half is the test set for all three. Numbers are measured,
not asserted: print them and compare runs side by side.
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402

from keras_transfer.models import DANN  # noqa: E402
from keras_transfer.schedules import ReversalSchedule  # noqa: E402


class EpochTimer(keras.callbacks.Callback):
    """Wall time of each epoch, in ``times`` (shared by the DA benchmarks)."""

    def on_train_begin(self, logs=None):
        self.times = []

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.times.append(time.perf_counter() - self._start)


def load_pair(name: str, seed: int):
    try:
        from keras_transfer.datasets import load_domain_pair
    except ImportError:  # fallback: sklearn digits vs an inline MNIST-M-style colour blend
        return _inline_digits_pair(seed)
    pair = load_domain_pair(name, seed=seed)
    return pair["source"], pair["target"]


def _inline_digits_pair(seed: int):
    from sklearn.datasets import load_digits

    digits = load_digits()
    x = np.kron(digits.images / 16.0, np.ones((3, 3)))[:, 2:26, 2:26]  # 24x24 in [0, 1]
    x = np.pad(x, ((0, 0), (2, 2), (2, 2)))
    y = digits.target
    rng = np.random.default_rng(seed)
    half = len(x) // 2
    source = (np.repeat(x[:half, ..., None], 3, -1) * 255).astype("uint8"), y[:half]
    background = rng.uniform(0, 1, size=(len(x) - half, 1, 1, 3)) * rng.uniform(
        0.5, 1.0, size=(len(x) - half, 28, 28, 3)
    )
    blended = np.abs(background - x[half:, ..., None])  # MNIST-M: |photo - digit|
    return source, ((blended * 255).astype("uint8"), y[half:])


def cnn():
    return keras.Sequential(
        [
            keras.layers.Rescaling(1.0 / 255),
            keras.layers.Conv2D(32, 3, activation="relu"),
            keras.layers.MaxPooling2D(),
            keras.layers.Conv2D(64, 3, activation="relu"),
            keras.layers.MaxPooling2D(),
            keras.layers.Flatten(),
            keras.layers.Dense(128, activation="relu"),
        ]
    )


def run(
    kind: str, source, target_train, target_test, epochs: int, seed: int, scale_max: float = 1.0
) -> float:
    keras.utils.set_random_seed(seed)
    (xs, ys), (xt, yt), (x_test, y_test) = source, target_train, target_test
    num_classes = int(max(ys.max(), y_test.max())) + 1
    scale = ReversalSchedule("dann", scale=scale_max) if kind == "dann" else 0.0
    model = DANN(cnn(), num_classes, adaptation_weight=scale)
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    if kind == "oracle":
        model.fit(x=(xt, xt), y=yt, epochs=epochs, batch_size=64, verbose=0)
    else:
        model.fit(x=(xs, xt), y=ys, epochs=epochs, batch_size=64, verbose=0)
    return float(np.mean(model.predict(x_test, verbose=0).argmax(1) == y_test))


def step_time(pair: str, epochs: int, seed: int = 0) -> float:
    """Median wall time of one DANN training step (ms), epochs 2.. of one fit (epoch 1 compiles)."""
    keras.utils.set_random_seed(seed)
    (xs, ys), (xt, _) = load_pair(pair, seed)
    num_classes = int(ys.max()) + 1
    model = DANN(cnn(), num_classes)
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    timer = EpochTimer()
    model.fit(x=(xs, xt), y=ys, epochs=epochs, batch_size=64, verbose=0, callbacks=[timer])
    steps = -(-max(len(xs), len(xt)) // 64)
    return 1000 * float(np.median(timer.times[1:])) / steps


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pair", default="digits", choices=["digits", "fashion_mnist"])
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--scale", type=float, default=1.0, help="final reversal weight")
    parser.add_argument("--only", nargs="*", default=None, help="subset of source_only dann oracle")
    parser.add_argument(
        "--step-time", action="store_true", help="print the median DANN training step time only"
    )
    args = parser.parse_args()
    if args.step_time:
        print(f"DANN step time {step_time(args.pair, args.epochs):.2f} ms", flush=True)
        return
    results = {k: [] for k in (args.only or ["source_only", "dann", "oracle"])}
    for seed in range(args.seeds):
        (xs, ys), (xt, yt) = load_pair(args.pair, seed)
        order = np.random.default_rng(seed).permutation(len(xt))
        half = len(order) // 2
        target_train = xt[order[:half]], yt[order[:half]]
        target_test = xt[order[half:]], yt[order[half:]]
        for kind in results:
            start = time.perf_counter()
            acc = run(kind, (xs, ys), target_train, target_test, args.epochs, seed, args.scale)
            results[kind].append(acc)
            print(
                f"seed={seed} {kind:<12} target accuracy {acc:.3f} ({time.perf_counter() - start:.0f} s)",
                flush=True,
            )
    print(
        f"\n{args.pair}: {len(xs)} source, {half} unlabelled target, {len(target_test[0])} target test images, "
        f"{args.epochs} epochs, {args.seeds} seeds, final reversal weight {args.scale}"
    )
    for kind, values in results.items():
        print(f"{kind:<12} {np.mean(values):.3f} +- {np.std(values):.3f}")


if __name__ == "__main__":
    main()
