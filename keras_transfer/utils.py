"""Input validation shared by every door: errors name the argument, the expectation and what came."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

import numpy as np


def suggest(value: str, choices: Iterable[str]) -> str:
    """Return ``" Did you mean 'x'?"`` for the closest choice, or ``""``.

    Example:
        >>> from keras_transfer.utils import suggest
        >>> suggest("resnet5", ["resnet50", "vgg16"])
        " Did you mean 'resnet50'?"
    """
    match = difflib.get_close_matches(str(value), list(choices), n=1, cutoff=0.6)
    return f" Did you mean '{match[0]}'?" if match else ""


def check_images(x, argument: str = "x", allow_nan: bool = False) -> np.ndarray:
    """Validate a batch of images and return it as a numpy array.

    Accepts (N, H, W), treated as one channel, or (N, H, W, C) with C in {1, 3}, of any integer
    or float dtype. Raises ``ValueError`` naming ``argument`` on the wrong rank, channel count,
    an empty batch or NaN/inf pixels, and ``TypeError`` on non-numeric data.

    Example:
        >>> import numpy as np
        >>> from keras_transfer.utils import check_images
        >>> check_images(np.zeros((2, 8, 8), "uint8")).shape
        (2, 8, 8, 1)
    """
    try:
        arr = np.asarray(x)
    except Exception as exc:  # ragged lists of images
        raise ValueError(
            f"`{argument}` must be a batch of equally sized images; could not stack it "
            f"({exc}). Resize the images first or pass a `resize` option."
        ) from exc
    if arr.dtype == object:
        raise ValueError(
            f"`{argument}` must be a batch of equally sized images; received images of mixed "
            "sizes (a ragged array). Resize them to one size first."
        )
    if not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise TypeError(
            f"`{argument}` must hold numeric pixels (integer or float); received dtype={arr.dtype}."
        )
    if arr.ndim == 3:
        arr = arr[..., None]
    if arr.ndim != 4:
        raise ValueError(
            f"`{argument}` must have shape (batch, height, width) or (batch, height, width, "
            f"channels); received shape={arr.shape}."
        )
    if arr.shape[0] == 0:
        raise ValueError(f"`{argument}` is empty: received shape={arr.shape}. Pass at least one image.")
    if arr.shape[-1] not in (1, 3):
        raise ValueError(
            f"`{argument}` must have 1 (grayscale) or 3 (RGB) channels; received "
            f"{arr.shape[-1]} channels in shape={arr.shape}."
        )
    if not allow_nan and np.issubdtype(arr.dtype, np.floating) and not np.isfinite(arr).all():
        bad = int((~np.isfinite(arr)).reshape(len(arr), -1).any(axis=1).sum())
        raise ValueError(
            f"`{argument}` contains NaN or infinite pixels in {bad} of {len(arr)} images. "
            "Clean or drop them before extracting features."
        )
    return arr
