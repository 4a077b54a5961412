"""Real photos that ship inside installed packages, used as MNIST-M backgrounds.

Nothing is downloaded; every photo is a file inside an installed wheel.

* scikit-learn (``sklearn.datasets.load_sample_image``; see
  ``sklearn/datasets/images/README.txt``): ``china.jpg`` and ``flower.jpg``, 640x427, Creative
  Commons Attribution 2.0, photos by danielbuechele and vultilion on Flickr.
* matplotlib's sample data (``matplotlib.cbook.get_sample_data``): ``grace_hopper.jpg``, U.S. Navy
  photograph, public domain.
* scikit-image (``skimage/data/`` in the wheel, read with Pillow straight from the file, without
  importing ``skimage`` or fetching anything; install with ``pip install "keras-transfer[data]"``;
  licences as stated in ``skimage.data``'s docstrings):

  - ``astronaut.png``, 512x512: astronaut Eileen Collins, NASA; public domain.
  - ``chelsea.png``, 451x300: Chelsea the cat; CC0, photographer Stefan van der Walt.
  - ``coffee.png``, 600x400: a coffee cup, courtesy of Pikolo Espresso Bar; CC0, photographer
    Rachel Michetti.
  - ``rocket.jpg``, 640x427: Falcon 9 launching DSCOVR, SpaceX; released into the public domain.

Named sets (``PHOTO_SETS``): ``"sklearn"`` (the default, ``DEFAULT_PHOTOS``), ``"skimage"``
(``SKIMAGE_PHOTOS``) and ``"mnist_m"`` (``MNIST_M_PHOTOS``: all six natural colour scenes above,
the backgrounds of :func:`keras_transfer.datasets.mnist_m`). MNIST-M itself used the 200
training photos of BSDS500 (Ganin & Lempitsky, ICML 2015); this is the offline stand-in.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import numpy as np

from keras_transfer._validation import ArgumentTypeError
from keras_transfer.datasets._packaged import package_file

DEFAULT_PHOTOS = ("china.jpg", "flower.jpg")
SKIMAGE_PHOTOS = ("astronaut.png", "chelsea.png", "coffee.png", "rocket.jpg")
MNIST_M_PHOTOS = DEFAULT_PHOTOS + SKIMAGE_PHOTOS
SAMPLE_PHOTOS = (*DEFAULT_PHOTOS, "grace_hopper.jpg", *SKIMAGE_PHOTOS)
PHOTO_SETS = {"sklearn": DEFAULT_PHOTOS, "skimage": SKIMAGE_PHOTOS, "mnist_m": MNIST_M_PHOTOS}
"""Names that stand for several photos in ``load_photos`` (and so in ``make_m_domain``)."""


@functools.cache
def _load_named(name: str) -> np.ndarray:
    if name in DEFAULT_PHOTOS:
        from sklearn.datasets import load_sample_image

        photo = load_sample_image(name)
    elif name in SKIMAGE_PHOTOS:
        from PIL import Image

        path = package_file("scikit-image", f"skimage/data/{name}", f"The photo {name!r}")
        with Image.open(path) as img:
            photo = np.asarray(img.convert("RGB"))
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
        photos: ``None`` for ``DEFAULT_PHOTOS``; a set name from ``PHOTO_SETS``
            (``"sklearn"``, ``"skimage"``, ``"mnist_m"``); or a sequence whose items are names
            from ``SAMPLE_PHOTOS`` or ``PHOTO_SETS``, or arrays ``(H, W, 3)`` (or ``(H, W)``
            grayscale) with 0-255 pixels.

    Returns:
        A list of read-only or freshly converted uint8 RGB arrays.

    Raises:
        ValueError: an unknown name, an empty sequence, or an array of the wrong shape or range.
        ImportError: a scikit-image photo is asked for and ``scikit-image`` is not installed.

    Example:
        >>> from keras_transfer.datasets.photos import load_photos
        >>> [p.shape for p in load_photos()]
        [(427, 640, 3), (427, 640, 3)]
        >>> [p.shape for p in load_photos("skimage")]
        [(512, 512, 3), (300, 451, 3), (400, 600, 3), (427, 640, 3)]
    """
    from keras_transfer._validation import suggest

    if photos is None:
        photos = DEFAULT_PHOTOS
    if isinstance(photos, (str, np.ndarray)) and not (isinstance(photos, np.ndarray) and photos.ndim == 4):
        photos = [photos]
    if not isinstance(photos, (list, tuple, np.ndarray)):
        raise ArgumentTypeError(
            "`photos` must be a photo name, a set name, an image array, or a list of them; received "
            f"{type(photos).__name__}."
        )
    if len(photos) == 0:
        raise ValueError("`photos` must hold at least one photo; received an empty sequence.")
    expanded = []  # (position in `photos`, name or array), with set names replaced by their photos
    for i, item in enumerate(photos):
        is_set = isinstance(item, str) and item in PHOTO_SETS
        expanded.extend((i, name) for name in (PHOTO_SETS[item] if is_set else [item]))
    out = []
    for i, item in expanded:
        if isinstance(item, str):
            if item not in SAMPLE_PHOTOS:
                names = [*SAMPLE_PHOTOS, *PHOTO_SETS]
                raise ValueError(
                    f"`photos` names must be in {list(SAMPLE_PHOTOS)} or {list(PHOTO_SETS)}; "
                    f"received {item!r}.{suggest(item, names)} Or pass the photo as an (H, W, 3) array."
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
