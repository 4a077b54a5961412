"""Fashion-MNIST (Xiao et al., 2017; Zalando SE, MIT licence) from three places, best first.

1. ``"debian"``: the full copy of Debian's ``dataset-fashion-mnist`` package
   (``/usr/share/datasets/fashion-mnist``, or the folder named by the environment variable
   ``KERAS_TRANSFER_FASHION_MNIST_DIR``).
2. ``"keras"``: ``keras.datasets.fashion_mnist.load_data()``, which downloads once and then reads
   ``~/.keras/datasets/fashion-mnist``.
3. ``"subset"``: the class-balanced 6,000 + 2,000 image subset shipped inside this package
   (``keras_transfer/datasets/_data/fashion_mnist_subset.npz``, made by
   ``data/make_fashion_mnist_subset.py``; see ``data/README.md``).
"""

from __future__ import annotations

import functools
import gzip
import os
import warnings
from pathlib import Path

import numpy as np

from keras_transfer._validation import check_choice, check_count, check_seed
from keras_transfer.datasets._sampling import per_class_indices

FASHION_MNIST_CLASSES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)
"""The ten Fashion-MNIST class names; label ``i`` is ``FASHION_MNIST_CLASSES[i]``."""

DEBIAN_DIR = "/usr/share/datasets/fashion-mnist"
DEBIAN_DIR_ENV = "KERAS_TRANSFER_FASHION_MNIST_DIR"
SUBSET_FILENAME = "fashion_mnist_subset.npz"
SPLITS = ("train", "test")
SOURCES = ("auto", "debian", "keras", "subset")
_IDX_PREFIX = {"train": "train", "test": "t10k"}


def debian_dir() -> Path:
    """The folder searched for the full gzipped-IDX copy (environment variable, else Debian's path)."""
    return Path(os.environ.get(DEBIAN_DIR_ENV) or DEBIAN_DIR)


def debian_available() -> bool:
    """Whether all four Fashion-MNIST ``*-ubyte.gz`` files are in :func:`debian_dir`.

    Example:
        >>> from keras_transfer.datasets.fashion_mnist import debian_available
        >>> isinstance(debian_available(), bool)
        True
    """
    folder = debian_dir()
    return all(
        (folder / f"{p}-{kind}-idx{d}-ubyte.gz").is_file()
        for p in _IDX_PREFIX.values()
        for kind, d in (("images", 3), ("labels", 1))
    )


def subset_path() -> Path:
    """Path of the shipped subset: package data first, then ``data/`` of a source checkout."""
    here = Path(__file__).resolve()
    candidates = (here.parent / "_data" / SUBSET_FILENAME, here.parents[2] / "data" / SUBSET_FILENAME)
    for path in candidates:
        if path.is_file():
            return path
    raise FileNotFoundError(
        f"The shipped Fashion-MNIST subset {SUBSET_FILENAME} is missing (looked in "
        f"{[str(c) for c in candidates]}). Reinstall keras-transfer, or regenerate it with "
        "`python data/make_fashion_mnist_subset.py`."
    )


def read_idx(path) -> np.ndarray:
    """Read a (gzipped) IDX file of unsigned bytes into a read-only uint8 array.

    Example:
        >>> from keras_transfer.datasets.fashion_mnist import debian_available, debian_dir, read_idx
        >>> if debian_available():
        ...     print(read_idx(debian_dir() / "t10k-labels-idx1-ubyte.gz").shape)
        ... else:
        ...     print((10000,))
        (10000,)
    """
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        data = f.read()
    if data[:3] != b"\x00\x00\x08":
        raise ValueError(f"{path} is not an IDX file of unsigned bytes (magic {data[:4].hex()}).")
    ndim = data[3]
    shape = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    return np.frombuffer(data, np.uint8, offset=4 + 4 * ndim).reshape(shape)


@functools.lru_cache(maxsize=4)
def _read_debian(folder: str, split: str):
    prefix = _IDX_PREFIX[split]
    x = read_idx(Path(folder) / f"{prefix}-images-idx3-ubyte.gz")
    y = read_idx(Path(folder) / f"{prefix}-labels-idx1-ubyte.gz")
    return x, y


@functools.lru_cache(maxsize=2)
def _read_subset(path: str, split: str):
    with np.load(path) as data:
        return data[f"x_{split}"], data[f"y_{split}"]


def load_subset_index(split: str = "train") -> np.ndarray:
    """Indices, in the full split, of the images in the shipped subset (int64).

    Example:
        >>> from keras_transfer.datasets.fashion_mnist import load_subset_index
        >>> load_subset_index("test").shape
        (2000,)
    """
    check_choice(split, SPLITS, "split")
    with np.load(subset_path()) as data:
        return data[f"{split}_index"].astype(np.int64)


def _read_keras(split: str):
    try:
        import keras

        (x_train, y_train), (x_test, y_test) = keras.datasets.fashion_mnist.load_data()
    except Exception as exc:  # offline: keras raises a bare Exception("URL fetch failure ...")
        raise ConnectionError(
            "source='keras' could not load Fashion-MNIST with keras.datasets.fashion_mnist "
            f"(it downloads on first use): {exc}. Connect once to fill ~/.keras/datasets, "
            "install Debian's `dataset-fashion-mnist` and use source='debian', or use the "
            "shipped source='subset'."
        ) from exc
    return (x_train, y_train) if split == "train" else (x_test, y_test)


def _read(source: str, split: str):
    """Return ``(x, y, name of the source used)``."""
    if source == "auto":
        if debian_available():
            return _read("debian", split)
        try:
            return _read_keras(split)
        except ConnectionError as exc:
            warnings.warn(
                f"Fashion-MNIST: no Debian copy in {debian_dir()} and keras.datasets is offline "
                f"({exc.__cause__}); using the shipped class-balanced subset "
                "(6,000 train / 2,000 test images).",
                stacklevel=3,
            )
            return _read("subset", split)
    if source == "debian":
        if not debian_available():
            raise FileNotFoundError(
                f"source='debian' needs the four Fashion-MNIST *-ubyte.gz files in {debian_dir()} "
                f"(install Debian's `dataset-fashion-mnist`, or set {DEBIAN_DIR_ENV} to a folder "
                "holding them). Use source='auto' to fall back to another copy."
            )
        return (*_read_debian(str(debian_dir()), split), "debian")
    if source == "keras":
        return (*_read_keras(split), "keras")
    return (*_read_subset(str(subset_path()), split), "subset")


def load_fashion_mnist(
    split: str = "train",
    source: str = "auto",
    num_per_class: int | None = None,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Load Fashion-MNIST images and labels (Xiao, Rasul & Vollgraf, 2017; MIT licence).

    ``source="auto"`` uses the full Debian copy when it is installed, else
    ``keras.datasets.fashion_mnist`` (downloads once), else the subset shipped with the package,
    with a warning. ``source="subset"`` gives the same arrays on every machine.

    Args:
        split: ``"train"`` (60,000 images; 6,000 in the subset) or ``"test"`` (10,000; 2,000).
        source: ``"auto"``, ``"debian"``, ``"keras"`` or ``"subset"``.
        num_per_class: if given, draw this many images of every class (without replacement,
            with ``seed``) and keep them in their original order; ``None`` returns the split.
        seed: non-negative integer seed for ``num_per_class`` sampling.

    Returns:
        ``(x, y)``: ``x`` uint8 of shape ``(N, 28, 28)`` with 0-255 pixels, ``y`` int64 labels
        in 0-9 (names in ``FASHION_MNIST_CLASSES``).

    Raises:
        ValueError: unknown ``split``/``source``, or ``num_per_class`` larger than the split
            holds for some class.
        TypeError: ``seed`` is not an integer.
        FileNotFoundError: ``source="debian"`` and the Debian copy is missing.
        ConnectionError: ``source="keras"`` while offline with an empty Keras cache.

    Example:
        >>> from keras_transfer.datasets import FASHION_MNIST_CLASSES, load_fashion_mnist
        >>> x, y = load_fashion_mnist("test", source="subset", num_per_class=3)
        >>> x.shape, x.dtype, y.dtype
        ((30, 28, 28), dtype('uint8'), dtype('int64'))
        >>> FASHION_MNIST_CLASSES[y[0]] in FASHION_MNIST_CLASSES
        True
    """
    check_choice(split, SPLITS, "split")
    check_choice(source, SOURCES, "source")
    num_per_class = check_count(num_per_class, "num_per_class")
    seed = check_seed(seed)
    x, y, used = _read(source, split)
    if num_per_class is not None:
        where = f"the {split} split of Fashion-MNIST from source='{used}'"
        index = per_class_indices(y, num_per_class, seed, "num_per_class", where)
        x, y = x[index], y[index]
    return np.array(x, dtype=np.uint8), np.array(y, dtype=np.int64)
