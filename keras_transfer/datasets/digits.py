"""scikit-learn's handwritten digits (UCI optdigits test set, 1,797 images of 8x8) as uint8 images."""

from __future__ import annotations

import functools

import numpy as np

from keras_transfer._validation import check_choice, check_count, check_image_size, check_seed
from keras_transfer.datasets._sampling import per_class_indices
from keras_transfer.image_io import resize_images

DIGITS_SPLITS = ("all", "train", "test")


@functools.lru_cache(maxsize=1)
def _digits():
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    bunch = load_digits()
    x = np.round(bunch.images * (255.0 / 16.0)).astype(np.uint8)  # 0-16 grey levels -> 0-255
    y = bunch.target.astype(np.int64)
    train, test = train_test_split(np.arange(len(y)), test_size=0.5, stratify=y, random_state=0)
    return x, y, {"all": np.arange(len(y)), "train": np.sort(train), "test": np.sort(test)}


def load_digits_images(
    split: str = "all",
    image_size: int | tuple[int, int] = 8,
    num_per_class: int | None = None,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Load scikit-learn's digits (``sklearn.datasets.load_digits``) as 0-255 uint8 images.

    The 8x8 images have 17 grey levels (0-16); they are scaled to 0-255 and, if ``image_size``
    asks for it, resized bilinearly (28 gives Fashion-MNIST's size).

    Args:
        split: ``"all"`` (1,797 images), or one half of a fixed stratified split
            (``random_state=0``): ``"train"`` (898) or ``"test"`` (899). The halves are disjoint.
        image_size: output size, an int or ``(height, width)``; 8 keeps the original pixels.
        num_per_class: if given, draw this many images of every digit with ``seed``.
        seed: non-negative integer seed for the sampling.

    Returns:
        ``(x, y)``: ``x`` uint8 ``(N, height, width)``, ``y`` int64 labels in 0-9.

    Raises:
        ValueError: unknown ``split``, bad ``image_size``, too large ``num_per_class``.
        TypeError: ``seed`` is not an integer.

    Example:
        >>> from keras_transfer.datasets import load_digits_images
        >>> x, y = load_digits_images(image_size=28, num_per_class=2)
        >>> x.shape, x.dtype, int(x.max()) <= 255
        ((20, 28, 28), dtype('uint8'), True)
    """
    check_choice(split, DIGITS_SPLITS, "split")
    image_size = check_image_size(image_size)
    if image_size is None:
        image_size = (8, 8)
    num_per_class = check_count(num_per_class, "num_per_class")
    seed = check_seed(seed)
    x_all, y_all, splits = _digits()
    index = splits[split]
    if num_per_class is not None:
        where = f"the {split!r} split of the digits"
        index = index[per_class_indices(y_all[index], num_per_class, seed, "num_per_class", where)]
    return resize_images(x_all[index], image_size), y_all[index].copy()
