"""Turn what a user hands a scikit-learn estimator into a batch of images.

Accepted: an array (N, H, W), (N, H, W, C) with C in {1, 3}, or (N, H*W) / (N, 3*H*W) rows of
flattened square images (``load_digits().data``, Fashion-MNIST rows); a list of equally sized
arrays; a list of image file paths; or the path of a folder (all images below it, sorted).
"""

from __future__ import annotations

import math
import os

import numpy as np

from keras_transfer.utils import check_images

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp")


def is_path_input(X) -> bool:
    if isinstance(X, (str, os.PathLike)):
        return True
    if isinstance(X, (list, tuple)) and len(X) and all(isinstance(x, (str, os.PathLike)) for x in X):
        return True
    return (
        isinstance(X, np.ndarray)
        and X.dtype.kind in "UO"
        and X.ndim == 1
        and len(X) > 0
        and all(isinstance(x, (str, os.PathLike)) for x in X)
    )


def list_image_files(folder: str) -> list[str]:
    """Image files below ``folder`` (recursive), sorted."""
    found = []
    for root, _, files in os.walk(folder):
        found += [os.path.join(root, f) for f in files if f.lower().endswith(IMAGE_EXTENSIONS)]
    if not found:
        raise ValueError(f"`X`={folder!r} is a folder without image files ({', '.join(IMAGE_EXTENSIONS)}).")
    return sorted(found)


def load_paths(X, size: tuple[int, int] | None) -> np.ndarray:
    """Load image files as uint8 RGB, resized to ``size`` = (height, width) if given."""
    try:
        from PIL import Image
    except ImportError as exc:  # pragma: no cover - pillow ships with matplotlib
        raise ImportError("Reading image files needs Pillow: pip install pillow") from exc
    if isinstance(X, (str, os.PathLike)):
        path = os.fspath(X)
        if not os.path.isdir(path):
            raise ValueError(f"`X`={path!r} must be a folder of images or a list of image paths.")
        paths = list_image_files(path)
    else:
        paths = [os.fspath(p) for p in X]
    images = []
    for p in paths:
        if not os.path.exists(p):
            raise FileNotFoundError(f"`X` names an image file that does not exist: {p!r}.")
        with Image.open(p) as img:
            img = img.convert("RGB")
            if size is not None:
                img = img.resize((size[1], size[0]), Image.BILINEAR)
            images.append(np.asarray(img, dtype=np.uint8))
    return stack_images(images, resize_hint=True)


def stack_images(images: list, resize_hint: bool) -> np.ndarray:
    shapes = {np.shape(im) for im in images}
    if len(shapes) > 1:
        shown = sorted(shapes)[:4]
        raise ValueError(
            f"`X` holds images of mixed sizes {shown}; they must share one size to be batched. "
            + ("Pass resize=True to resize every image to the backbone's input size." if resize_hint else "")
        )
    return np.stack(images)


def resize_arrays(images: list, size: tuple[int, int]) -> np.ndarray:
    """Resize a list of (H, W[, C]) arrays of mixed sizes to ``size`` with bilinear filtering."""
    from keras import ops

    out = []
    for im in images:
        im = check_images(np.asarray(im)[None], argument="X")
        out.append(np.asarray(ops.image.resize(im.astype("float32"), size, interpolation="bilinear"))[0])
    return np.stack(out)


def unflatten(X: np.ndarray) -> np.ndarray:
    """(N, F) rows of flattened square images -> (N, S, S, 1) if F = S*S, or (N, S, S, 3) if F = 3*S*S."""
    n, f = X.shape
    side = math.isqrt(f)
    if side * side == f and f > 0:
        return X.reshape(n, side, side, 1)
    side = math.isqrt(f // 3)
    if f % 3 == 0 and side * side * 3 == f and f > 0:
        return X.reshape(n, side, side, 3)
    raise ValueError(
        f"2-D `X` is read as rows of flattened square images of S*S (grayscale) or S*S*3 (RGB) "
        f"pixels; received {f} features per row, which is neither. Reshape X to "
        "(n_images, height, width, channels) first."
    )


def to_images(X, resize: bool, size: tuple[int, int]) -> np.ndarray:
    """Any supported input -> a validated (N, H, W, C) numpy batch."""
    if is_path_input(X):
        return check_images(load_paths(X, size if resize else None), argument="X")
    if isinstance(X, (list, tuple)) and len(X) and not np.isscalar(X[0]):
        shapes = {np.shape(x) for x in X}
        if len(shapes) > 1:
            if resize:
                return check_images(resize_arrays(list(X), size), argument="X")
            stack_images(list(X), resize_hint=True)  # raises the mixed-size error
    arr = np.asarray(X) if not hasattr(X, "to_numpy") else X.to_numpy()
    if arr.ndim == 2 and arr.dtype != object:
        arr = unflatten(arr)
    return check_images(arr, argument="X")
