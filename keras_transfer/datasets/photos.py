"""Real photos that ship inside installed packages, used as MNIST-M backgrounds.

``china.jpg`` and ``flower.jpg`` come with scikit-learn (``sklearn.datasets.load_sample_image``;
Creative Commons Attribution 2.0, photos by danielbuechele and vultilion on Flickr, see
``sklearn/datasets/images/README.txt``). ``grace_hopper.jpg`` comes with matplotlib's sample data
(``matplotlib.cbook.get_sample_data``). Nothing is downloaded.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import numpy as np

SAMPLE_PHOTOS = ("china.jpg", "flower.jpg", "grace_hopper.jpg")
DEFAULT_PHOTOS = ("china.jpg", "flower.jpg")


@functools.cache
def _load_named(name: str) -> np.ndarray:
    if name in ("china.jpg", "flower.jpg"):
        from sklearn.datasets import load_sample_image

        photo = load_sample_image(name)
    else:
        from matplotlib import cbook
        from PIL import Image

        with cbook.get_sample_data(name) as f:
            photo = np.asarray(Image.open(f).convert("RGB"))
    photo = np.ascontiguousarray(photo, dtype=np.uint8)
    photo.setflags(write=False)
    return photo


def load_photos(photos: Sequence | None = None) -> list[np.ndarray]:
    """Return background photos as a list of uint8 ``(H, W, 3)`` arrays.

    Args:
        photos: ``None`` for ``DEFAULT_PHOTOS``; otherwise a sequence whose items are names from
            ``SAMPLE_PHOTOS`` or arrays ``(H, W, 3)`` (or ``(H, W)`` grayscale) with 0-255 pixels.

    Returns:
        A list of read-only or freshly converted uint8 RGB arrays.

    Raises:
        ValueError: an unknown name, an empty sequence, or an array of the wrong shape or range.

    Example:
        >>> from keras_transfer.datasets.photos import load_photos
        >>> [p.shape for p in load_photos()]
        [(427, 640, 3), (427, 640, 3)]
    """
    from keras_transfer._validation import suggest

    if photos is None:
        photos = DEFAULT_PHOTOS
    if isinstance(photos, (str, np.ndarray)) and not (isinstance(photos, np.ndarray) and photos.ndim == 4):
        photos = [photos]
    if len(photos) == 0:
        raise ValueError("`photos` must hold at least one photo; received an empty sequence.")
    out = []
    for i, item in enumerate(photos):
        if isinstance(item, str):
            if item not in SAMPLE_PHOTOS:
                raise ValueError(
                    f"`photos` names must be in {list(SAMPLE_PHOTOS)}; received {item!r}."
                    f"{suggest(item, SAMPLE_PHOTOS)} Or pass the photo as an (H, W, 3) array."
                )
            out.append(_load_named(item))
            continue
        arr = np.asarray(item)
        if arr.ndim == 2:
            arr = np.repeat(arr[..., None], 3, axis=-1)
        if arr.ndim != 3 or arr.shape[-1] != 3:
            raise ValueError(
                f"`photos[{i}]` must be an (H, W, 3) RGB or (H, W) grayscale image; received "
                f"shape={arr.shape}."
            )
        if not np.issubdtype(arr.dtype, np.number) or arr.min() < 0 or arr.max() > 255:
            raise ValueError(
                f"`photos[{i}]` must hold 0-255 pixels; received dtype={arr.dtype}"
                + (f", range [{arr.min()}, {arr.max()}]." if np.issubdtype(arr.dtype, np.number) else ".")
            )
        out.append(np.rint(arr).astype(np.uint8) if arr.dtype != np.uint8 else arr)
    return out
