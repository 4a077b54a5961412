"""One process of the multi-worker tests: trains small models and writes what they end with.

    python -m tests.distributed.worker worker    OUT DATA TASK... [--kill-at EPOCH:BATCH]
    python -m tests.distributed.worker reference OUT DATA TASK...
    KERAS_BACKEND=jax python -m tests.distributed.worker jax OUT DATA TASK...

``worker``: `tf.distribute.MultiWorkerMirroredStrategy` from the ``TF_CONFIG`` the harness sets
(one CPU replica per worker, 127.0.0.1 ports). ``reference``: one process, each task twice: on one
device (``single``) and under `tf.distribute.MirroredStrategy` on two logical CPUs (``mirrored``),
with the same global batch. ``jax``: each task on one device (``single``) and under
`keras.distribution.DataParallel` on two virtual CPU devices (``data_parallel``). ``--kill-at`` makes this worker SIGKILL itself at that point of the
``dann`` task (after the epoch's backups of both workers exist).

Per task and tag, ``OUT/<task>_<tag>.npz`` holds the model weights and ``OUT/<task>_<tag>.json``
the per-step optimizer iteration, learning rate and reversal weight, and the epochs run. DATA
holds the image folders of the streaming task (made by `make_image_folders`).
"""

from __future__ import annotations

import json
import os
import signal
import sys

import numpy as np

SEED = 1234
GLOBAL_BATCH = 16
TASKS = ("dann", "coral", "fine_tune", "dann_stream")


def make_image_folders(root):
    """Source ``root/source/<class>/*.png`` (2 classes x 24) and target ``root/target/*.png`` (40)."""
    from PIL import Image

    rng = np.random.default_rng(0)
    for domain, classes, count, offset in (("source", ("a", "b"), 24, 0), ("target", ("",), 40, 60)):
        for label, name in enumerate(classes):
            folder = os.path.join(root, domain, name)
            os.makedirs(folder, exist_ok=True)
            for i in range(count):
                pixels = rng.integers(0, 100, (8, 8, 3)) + 80 * label + offset
                Image.fromarray(pixels.clip(0, 255).astype("uint8")).save(
                    os.path.join(folder, f"{i:03d}.png")
                )


def _arrays():
    rng = np.random.default_rng(0)
    xs = rng.normal(size=(96, 4)).astype("float32")
    ys = (xs[:, 0] + 0.5 * xs[:, 1] > 0).astype("int64")
    xt = (rng.normal(size=(80, 4)) * 1.5 + 0.7).astype("float32")
    return xs, ys, xt


class StepLog:
    """Records, after every batch, the optimizer step, its learning rate and the reversal weight."""

    def __new__(cls, path, kill_at=None):
        import keras

        class _StepLog(keras.callbacks.Callback):
            def __init__(self):
                super().__init__()
                self.log = {"iterations": [], "learning_rate": [], "scale": [], "epochs": []}
                self.epoch = None

            def on_epoch_end(self, epoch, logs=None):  # built by now
                sharding = getattr(self.model.trainable_variables[0].value, "sharding", None)  # JAX
                self.log["variable_devices"] = None if sharding is None else len(sharding.device_set)

            def on_epoch_begin(self, epoch, logs=None):
                self.epoch = epoch
                self.log["epochs"].append(int(epoch))

            def on_train_batch_end(self, batch, logs=None):
                optimizer = self.model.optimizer
                self.log["iterations"].append(int(optimizer.iterations.numpy()))
                self.log["learning_rate"].append(float(np.asarray(optimizer.learning_rate)))
                reversal = getattr(self.model, "reversal", None)
                if reversal is not None:
                    self.log["scale"].append(float(np.asarray(reversal.current_scale())))
                if kill_at is not None and (self.epoch, batch) == kill_at:
                    with open(path + ".killed", "w") as f:
                        f.write(f"{self.epoch}:{batch}")
                    os.kill(os.getpid(), signal.SIGKILL)

        return _StepLog()


def _save(model, log, out, task, tag):
    np.savez(os.path.join(out, f"{task}_{tag}.npz"), *[np.asarray(w) for w in model.weights])
    with open(os.path.join(out, f"{task}_{tag}.json"), "w") as f:
        json.dump(log, f)


def _dann(out, data, tag, kill_at=None, backup=None):
    import keras

    from keras_transfer.models import DANN
    from keras_transfer.schedules import DANNLearningRate

    xs, ys, xt = _arrays()
    epochs = 4
    steps = epochs * -(-len(xs) // GLOBAL_BATCH)
    model = DANN(keras.Sequential([keras.layers.Dense(8, activation="relu")]), label_head=2)
    model.compile(optimizer=keras.optimizers.SGD(DANNLearningRate(steps), momentum=0.9))
    model((xs[:2], xt[:2]))  # built before fit, as BackupAndRestore requires
    log = StepLog(os.path.join(out, f"dann_{tag}"), kill_at)
    callbacks = [log]
    if backup is not None:
        callbacks.append(keras.callbacks.BackupAndRestore(backup))
    model.fit(
        x=(xs, xt),
        y=ys,
        batch_size=GLOBAL_BATCH,
        epochs=epochs,
        shuffle=False,
        verbose=0,
        callbacks=callbacks,
    )
    return model, log.log


def _coral(out, data, tag):
    import keras

    from keras_transfer.models import DiscrepancyModel

    xs, ys, xt = _arrays()
    model = DiscrepancyModel(keras.layers.Dense(8, activation="relu"), 2, "coral", adaptation_weight=1.0)
    model.compile(optimizer=keras.optimizers.SGD(0.05, momentum=0.9))
    log = StepLog(os.path.join(out, f"coral_{tag}"))
    model.fit(x=(xs, xt), y=ys, batch_size=GLOBAL_BATCH, epochs=2, shuffle=False, verbose=0, callbacks=[log])
    return model, log.log


def tiny_backbone():
    """A three-layer conv net without BatchNorm as a `Backbone` (8x8 images)."""
    import keras

    from keras_transfer.backbones import Backbone

    inputs = keras.Input((8, 8, 3))
    x = keras.layers.Conv2D(4, 3, padding="same", activation="relu", name="b1_conv")(inputs)
    x = keras.layers.Conv2D(8, 3, padding="same", activation="relu", name="b2_conv")(x)
    x = keras.layers.Conv2D(8, 1, name="top_conv")(x)
    model = keras.Model(inputs, x, name="tiny_net")
    groups = {
        "stem": [model.layers[0].name],
        "block1": ["b1_conv"],
        "block2": ["b2_conv"],
        "top": ["top_conv"],
    }
    return Backbone(model, block_groups=groups, preprocessing="tf", name="tiny")


def _fine_tune(out, data, tag):
    from keras_transfer.models import TransferClassifier

    rng = np.random.default_rng(1)
    x = rng.integers(0, 256, (64, 8, 8, 3)).astype("float32")
    y = (x[:, :4, :, 0].mean(axis=(1, 2)) > 127).astype("int64")
    model = TransferClassifier(tiny_backbone(), num_classes=2, policy="unfreeze_all", dropout=0.0)
    log = StepLog(os.path.join(out, f"fine_tune_{tag}"))
    model.fine_tune(
        x,
        y,
        head_epochs=1,
        epochs=1,
        learning_rate=1e-3,
        batch_size=GLOBAL_BATCH,
        shuffle=False,
        verbose=0,
        callbacks=[log],
    )
    return model, log.log


def _dann_stream(out, data, tag):
    import keras

    from keras_transfer.models import DANN
    from keras_transfer.streaming import two_domain_dataset

    dataset = two_domain_dataset(
        os.path.join(data, "source"), os.path.join(data, "target"), batch_size=GLOBAL_BATCH, seed=0
    )
    features = keras.Sequential(
        [
            keras.layers.Rescaling(1 / 255),
            keras.layers.Conv2D(4, 3, activation="relu"),
            keras.layers.GlobalAveragePooling2D(),
        ]
    )
    model = DANN(features, label_head=2)
    model.compile(optimizer=keras.optimizers.SGD(0.05, momentum=0.9))
    log = StepLog(os.path.join(out, f"dann_stream_{tag}"))
    model.fit(dataset, epochs=2, verbose=0, callbacks=[log])
    return model, log.log


RUNNERS = {"dann": _dann, "coral": _coral, "fine_tune": _fine_tune, "dann_stream": _dann_stream}


def main(argv):
    mode, out, data, *rest = argv
    kill_at = None
    if "--kill-at" in rest:
        at = rest.pop(rest.index("--kill-at") + 1)
        rest.remove("--kill-at")
        kill_at = tuple(int(v) for v in at.split(":"))
    backup = None
    if "--backup" in rest:
        backup = rest.pop(rest.index("--backup") + 1)
        rest.remove("--backup")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    setups = _jax_setups() if mode == "jax" else _tf_setups(mode)
    import keras

    keras.config.disable_traceback_filtering()  # whole tracebacks in the worker logs
    for task in rest:
        for tag, scope, num_replicas in setups:
            keras.utils.set_random_seed(SEED)
            with scope():
                if task == "dann":
                    model, log = _dann(
                        out, data, tag, kill_at=kill_at, backup=backup and os.path.join(backup, tag)
                    )
                else:
                    model, log = RUNNERS[task](out, data, tag)
            log["num_replicas"] = num_replicas
            _save(model, log, out, task, tag)
    return 0


def _tf_setups(mode):
    """(tag, scope, replicas) per run: MultiWorkerMirroredStrategy, or one device and MirroredStrategy."""
    import tensorflow as tf

    tf.config.threading.set_inter_op_parallelism_threads(1)
    tf.config.threading.set_intra_op_parallelism_threads(1)
    if mode == "reference":
        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
        strategies = [
            ("single", tf.distribute.get_strategy()),
            ("mirrored", tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])),
        ]
    else:
        options = tf.distribute.experimental.CommunicationOptions(
            implementation=tf.distribute.experimental.CommunicationImplementation.RING, timeout_seconds=120
        )
        index = json.loads(os.environ["TF_CONFIG"])["task"]["index"]
        strategies = [
            (f"worker{index}", tf.distribute.MultiWorkerMirroredStrategy(communication_options=options))
        ]
    return [(tag, s.scope, int(s.num_replicas_in_sync)) for tag, s in strategies]


def _jax_setups():
    """One device, then `keras.distribution.DataParallel` over two virtual CPU devices."""
    import contextlib

    # XLA reads this when jax starts: it must be set before the first import of jax
    os.environ["XLA_FLAGS"] = os.environ.get("XLA_FLAGS", "") + " --xla_force_host_platform_device_count=2"
    import jax
    import keras

    devices = jax.devices("cpu")
    assert keras.backend.backend() == "jax" and len(devices) == 2, (keras.backend.backend(), devices)

    @contextlib.contextmanager
    def data_parallel():
        keras.distribution.set_distribution(keras.distribution.DataParallel(devices=devices))
        try:
            yield
        finally:
            keras.distribution.set_distribution(None)

    return [("single", contextlib.nullcontext, 1), ("data_parallel", data_parallel, len(devices))]


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
