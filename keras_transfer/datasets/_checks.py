"""Argument checks and small array helpers shared by the dataset loaders (private)."""

from __future__ import annotations

import numbers
from collections.abc import Sequence

import numpy as np

from keras_transfer.utils import suggest


def check_choice(value, choices: Sequence[str], argument: str) -> str:
    """Return ``value`` if it is one of ``choices``; otherwise raise a ValueError naming ``argument``."""
    if not isinstance(value, str) or value not in choices:
        hint = suggest(value, choices) if isinstance(value, str) else ""
        raise ValueError(f"`{argument}` must be one of {list(choices)}; received {argument}={value!r}.{hint}")
    return value


def check_seed(seed, argument: str = "seed") -> int:
    """Return ``seed`` as a non-negative Python int; TypeError for floats, bools, strings, None."""
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise TypeError(
            f"`{argument}` must be a non-negative integer; received {argument}={seed!r} "
            f"of type {type(seed).__name__}. Pass e.g. {argument}=0."
        )
    if seed < 0:
        raise ValueError(f"`{argument}` must be a non-negative integer; received {argument}={seed}.")
    return int(seed)


def check_count(value, argument: str, allow_none: bool = True):
    """Return ``value`` as a positive int (or None when allowed)."""
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(
            f"`{argument}` must be a positive integer{' or None' if allow_none else ''}; "
            f"received {argument}={value!r}."
        )
    return int(value)


def check_image_size(image_size, argument: str = "image_size"):
    """Return ``image_size`` as an ``(height, width)`` tuple of positive ints (or None)."""
    if image_size is None:
        return None
    if isinstance(image_size, numbers.Integral) and not isinstance(image_size, bool):
        image_size = (image_size, image_size)
    ok = (
        isinstance(image_size, (tuple, list))
        and len(image_size) == 2
        and all(isinstance(s, numbers.Integral) and not isinstance(s, bool) and s > 0 for s in image_size)
    )
    if not ok:
        raise ValueError(
            f"`{argument}` must be a (height, width) pair of positive integers, one integer or "
            f"None; received {argument}={image_size!r}."
        )
    return int(image_size[0]), int(image_size[1])


def per_class_indices(y: np.ndarray, num_per_class: int, seed: int, argument: str, where: str) -> np.ndarray:
    """Sorted indices of ``num_per_class`` examples of every class of ``y``, drawn with ``seed``."""
    classes, counts = np.unique(y, return_counts=True)
    if num_per_class > counts.min():
        hint = " or use the full copy (source='debian' or 'keras')" if "subset" in where else ""
        raise ValueError(
            f"`{argument}` is too large: {where} has only {counts.min()} images of class "
            f"{classes[counts.argmin()]}; received {argument}={num_per_class}. Pass at most "
            f"{counts.min()}{hint}."
        )
    rng = np.random.default_rng(seed)
    picks = [rng.choice(np.flatnonzero(y == c), num_per_class, replace=False) for c in classes]
    return np.sort(np.concatenate(picks))


def balanced_indices(y: np.ndarray, num: int, seed: int, argument: str, where: str) -> np.ndarray:
    """Sorted indices of ``num`` examples with class counts as equal as possible (they differ by <= 1)."""
    classes, counts = np.unique(y, return_counts=True)
    if num > len(y):
        raise ValueError(
            f"`{argument}` is too large: {where} has {len(y)} images; received {argument}={num}."
        )
    base, extra = divmod(num, len(classes))
    wanted = np.full(len(classes), base) + (np.arange(len(classes)) < extra)
    if np.any(wanted > counts):
        raise ValueError(
            f"`{argument}`={num} cannot be class-balanced: {where} has only {counts.min()} images "
            f"of class {classes[counts.argmin()]}. Pass at most {counts.min() * len(classes)}."
        )
    rng = np.random.default_rng(seed)
    picks = [rng.choice(np.flatnonzero(y == c), k, replace=False) for c, k in zip(classes, wanted)]
    return np.sort(np.concatenate(picks))


def resize_images(x: np.ndarray, image_size: tuple[int, int]) -> np.ndarray:
    """Bilinear resize of a uint8 batch (N, H, W) or (N, H, W, 3) to ``image_size`` with PIL."""
    from PIL import Image

    h, w = image_size
    if x.shape[1:3] == (h, w):
        return x
    out = np.empty((len(x), h, w, *x.shape[3:]), np.uint8)
    for i, img in enumerate(x):
        out[i] = np.asarray(Image.fromarray(img).resize((w, h), Image.BILINEAR))
    return out
