"""A labelled source domain and its MNIST-M-style target, ready for domain adaptation."""

from __future__ import annotations

import numpy as np

from keras_transfer._validation import check_choice, check_count, check_image_size, check_seed
from keras_transfer.datasets._sampling import balanced_indices
from keras_transfer.datasets.digits import load_digits_images
from keras_transfer.datasets.fashion_mnist import FASHION_MNIST_CLASSES, load_fashion_mnist
from keras_transfer.datasets.m_domain import make_m_domain
from keras_transfer.image_io import resize_images

DOMAIN_PAIRS = ("fashion_mnist", "digits")


def load_domain_pair(
    name: str = "fashion_mnist",
    num_source: int | None = None,
    num_target: int | None = None,
    seed: int = 0,
    image_size: int | tuple[int, int] | None = None,
    source: str = "auto",
) -> dict:
    """Load a source domain (grayscale images as RGB) and a photo-blended target domain.

    The two domains hold disjoint images: for ``"fashion_mnist"`` the source comes from the
    train split and the target from the test split turned into Fashion-MNIST-M; for
    ``"digits"`` the source is the ``"train"`` half of scikit-learn's digits and the target the
    ``"test"`` half turned into Digits-M (MNIST-M recipe, Ganin & Lempitsky, ICML 2015). Both
    share one shape ``(height, width, 3)`` so one model reads both.

    Args:
        name: ``"fashion_mnist"`` or ``"digits"``.
        num_source: number of source images, class-balanced (counts differ by at most one);
            ``None`` takes all of them.
        num_target: the same for the target.
        seed: non-negative integer seed for sampling and for the photo crops.
        image_size: ``(height, width)`` or an int; ``None`` means 28x28 for both pairs.
        source: where Fashion-MNIST comes from (see ``load_fashion_mnist``); ``"subset"`` gives
            the same arrays on every machine. Unused for ``"digits"``.

    Returns:
        ``{"source": (x, y), "target": (x, y), "class_names": [...]}`` with uint8 images
        ``(N, height, width, 3)`` and int64 labels in 0-9.

    Raises:
        ValueError: unknown ``name`` or ``source``; counts larger than the data holds.
        TypeError: ``seed`` is not an integer.

    Example:
        >>> from keras_transfer.datasets import load_domain_pair
        >>> pair = load_domain_pair("digits", num_source=50, num_target=30, seed=0)
        >>> pair["source"][0].shape, pair["target"][0].shape
        ((50, 28, 28, 3), (30, 28, 28, 3))
    """
    check_choice(name, DOMAIN_PAIRS, "name")
    num_source = check_count(num_source, "num_source")
    num_target = check_count(num_target, "num_target")
    seed = check_seed(seed)
    image_size = check_image_size(image_size) or (28, 28)
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
    return {
        "source": (np.repeat(xs[..., None], 3, axis=-1), ys),
        "target": (xt, yt),
        "class_names": class_names,
    }
