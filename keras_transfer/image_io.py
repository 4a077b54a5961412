"""Image input and output in one place: file discovery, decoding, resizing and batching.

Everything that turns user input into a batch of images goes through here: the scikit-learn
estimators, `keras_transfer.datasets.load_image_folder` and the dataset loaders. There is one
resizer, `resize_images`: bilinear `keras.ops.image.resize` without antialiasing, the same
operation `keras.utils.image_dataset_from_directory` applies in `tf.data`, so an image read from
a file, from an array or streamed gives the same pixels.

Example:
    >>> import numpy as np
    >>> from keras_transfer.image_io import resize_images, to_images
    >>> resize_images(np.zeros((2, 8, 8, 3), "uint8"), (4, 4)).shape
    (2, 4, 4, 3)
    >>> to_images(np.zeros((3, 64)), resize=False, size=(8, 8)).shape  # flattened 8x8 rows
    (3, 8, 8, 1)
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np

from keras_transfer._validation import check_images

IMAGE_EXTENSIONS = (".bmp", ".gif", ".jpeg", ".jpg", ".png", ".tif", ".tiff", ".webp")
# The ``color_mode`` values of every image reader (`read_image`, streaming, image folders).
COLOR_MODES = ("rgb", "grayscale")

MAX_IMAGE_PIXELS: int | None = 89_478_485
"""The most pixels (height x width) an image file may have; a larger one is refused, before it is
decoded, with an error naming the file. A small compressed file can hold a huge image (a 187 KB PNG
of 8000 x 8000 decodes to 192 MB), so every reader checks the header first: `read_image` (and so
the scikit-learn estimators, `keras_transfer.datasets.load_image_folder`) and the streaming
decoder of `keras_transfer.streaming` (which reads the value when a dataset is built). The
default is PIL's ``Image.MAX_IMAGE_PIXELS``. Set ``keras_transfer.image_io.MAX_IMAGE_PIXELS`` to
another int to change it, or to None to turn the check off; files PIL decodes are also subject
to PIL's own limit (it refuses images above twice ``PIL.Image.MAX_IMAGE_PIXELS``)."""


def check_pixel_count(height: int, width: int, path, argument: str = "X") -> None:
    """Raise ValueError naming ``path`` when ``height x width`` exceeds `MAX_IMAGE_PIXELS`.

    Example:
        >>> from keras_transfer.image_io import check_pixel_count
        >>> check_pixel_count(100, 100, "small.png")
        >>> check_pixel_count(20000, 20000, "huge.png")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        ValueError: Image file 'huge.png' in `X` is 20000 x 20000 = 400000000 pixels, more than ...
    """
    limit = MAX_IMAGE_PIXELS
    if limit is not None and int(height) * int(width) > limit:
        raise ValueError(
            f"Image file {os.fspath(path)!r} in `{argument}` is {height} x {width} = "
            f"{int(height) * int(width)} pixels, more than keras_transfer.image_io.MAX_IMAGE_PIXELS="
            f"{limit}: refused before decoding (a possible decompression bomb). Shrink the file, or "
            "raise keras_transfer.image_io.MAX_IMAGE_PIXELS if you trust it."
        )


def _to_uint8(img, color_mode: str) -> np.ndarray:
    """A PIL image -> uint8 pixels in ``color_mode``; 16-bit grayscale is scaled to 8 bits
    (``round(v * 255 / 65535)``), not clipped as PIL's ``convert`` does (PIL already reads 16-bit
    RGB PNGs as 8-bit RGB)."""
    mode = "RGB" if color_mode == "rgb" else "L"
    if img.mode.startswith("I;16") or (img.mode == "I" and img.format == "PNG"):
        wide = np.asarray(img).astype(np.int64)  # 16-bit PNGs open as "I;16" (or "I" in older PIL)
        gray = ((np.clip(wide, 0, 65535) * 255 + 32767) // 65535).astype(np.uint8)
        return np.repeat(gray[..., None], 3, axis=-1) if mode == "RGB" else gray
    return np.asarray(img.convert(mode), dtype=np.uint8)


def is_path_input(X) -> bool:
    """True for a folder path, a path, or a list/array of paths."""
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


def is_image_file(path) -> bool:
    """True for a visible file whose extension is one of `IMAGE_EXTENSIONS`."""
    path = Path(path)
    return path.is_file() and not path.name.startswith(".") and path.suffix.lower() in IMAGE_EXTENSIONS


def list_image_files(folder, argument: str = "X") -> list[str]:
    """Image files below ``folder`` (recursive, hidden files skipped), sorted."""
    found = []
    for root, _, files in os.walk(folder):
        found += [os.path.join(root, f) for f in files if is_image_file(os.path.join(root, f))]
    if not found:
        raise ValueError(
            f"`{argument}`={os.fspath(folder)!r} is a folder without image files ({', '.join(IMAGE_EXTENSIONS)})."
        )
    return sorted(found)


def resize_images(x, size: tuple[int, int]) -> np.ndarray:
    """Bilinearly resize a batch ``(N, H, W[, C])`` to ``size`` = (height, width).

    uint8 input comes back as uint8 (rounded and clipped); other dtypes as float32. A batch
    already of that size is returned unchanged.
    """
    from keras import ops

    x = np.asarray(x)
    h, w = int(size[0]), int(size[1])
    if x.shape[1:3] == (h, w):
        return x
    squeeze = x.ndim == 3
    batch = x[..., None] if squeeze else x
    out = ops.convert_to_numpy(
        ops.image.resize(batch.astype("float32"), (h, w), interpolation="bilinear", antialias=False)
    )
    if x.dtype == np.uint8:
        out = np.clip(np.round(out), 0, 255).astype(np.uint8)
    return out[..., 0] if squeeze else out


def read_image(
    path, size: tuple[int, int] | None = None, color_mode: str = "rgb", argument: str = "X"
) -> np.ndarray:
    """Decode one image file as uint8 ``(H, W, C)`` (C = 3 for "rgb", 1 for "grayscale"),
    resized with `resize_images` when ``size`` is given.

    16-bit images are scaled to 8 bits (``round(v * 255 / 65535)``), not clipped. An image of more
    than `MAX_IMAGE_PIXELS` pixels is refused from its header, before decoding.

    Raises:
        FileNotFoundError: the file does not exist.
        ValueError: the file is not a readable image, or has more than `MAX_IMAGE_PIXELS` pixels
            (PIL's own ``DecompressionBombError`` comes as this ValueError, naming the file).
    """
    from PIL import Image, UnidentifiedImageError

    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"`{argument}` names an image file that does not exist: {path!r}.")
    try:
        with Image.open(path) as img:
            check_pixel_count(img.height, img.width, path, argument)
            arr = _to_uint8(img, color_mode)
    except Image.DecompressionBombError as exc:
        raise ValueError(
            f"Could not read image {path!r} in `{argument}`: PIL refused it as a possible "
            f"decompression bomb ({exc}). Raise PIL.Image.MAX_IMAGE_PIXELS if you trust the file."
        ) from exc
    except (UnidentifiedImageError, OSError) as exc:
        raise ValueError(f"Could not read image {path!r} in `{argument}`: {exc}") from exc
    if arr.ndim == 2:
        arr = arr[..., None]
    if size is not None:
        arr = resize_images(arr[None], size)[0]
    return arr


def stack_images(images: list, argument: str = "X", resize_hint: str = "") -> np.ndarray:
    """Stack equally sized images; a clear error when their sizes differ."""
    shapes = sorted({np.shape(im) for im in images})
    if len(shapes) > 1:
        raise ValueError(
            f"`{argument}` holds images of mixed sizes {shapes[:4]}; they must share one size to be batched. "
            + resize_hint
        )
    return np.stack(images)


def resolve_paths(X, argument: str = "X") -> list[str]:
    """The image files of a folder (every image below it, sorted) or of a list of paths (as given).

    The one place a folder or a list of paths becomes a file list: `load_paths` (in memory) and
    `keras_transfer.streaming` (streamed, cache keys) both call it, so both see the same files in
    the same order.

    Raises:
        ValueError: a single path that is not a folder, or a folder without image files.
    """
    if isinstance(X, (str, os.PathLike)):
        path = os.fspath(X)
        if not os.path.isdir(path):
            raise ValueError(f"`{argument}`={path!r} must be a folder of images or a list of image paths.")
        return list_image_files(path, argument)
    return [os.fspath(p) for p in X]


def load_paths(X, size: tuple[int, int] | None, argument: str = "X") -> np.ndarray:
    """A folder or a list of image paths -> uint8 RGB batch, resized to ``size`` if given."""
    images = [read_image(p, size, argument=argument) for p in resolve_paths(X, argument)]
    return stack_images(
        images, argument, "Pass resize=True to resize every image to the backbone's input size."
    )


def unflatten(X: np.ndarray, argument: str = "X") -> np.ndarray:
    """(N, F) rows of flattened square images -> (N, S, S, 1) if F = S*S, or (N, S, S, 3) if F = 3*S*S."""
    n, f = X.shape
    side = math.isqrt(f)
    if side * side == f and f > 0:
        return X.reshape(n, side, side, 1)
    side = math.isqrt(f // 3)
    if f % 3 == 0 and side * side * 3 == f and f > 0:
        return X.reshape(n, side, side, 3)
    raise ValueError(
        f"2-D `{argument}` is read as rows of flattened square images of S*S (grayscale) or S*S*3 (RGB) "
        f"pixels; received {f} features per row, which is neither. Reshape {argument} to "
        "(n_images, height, width, channels) first."
    )


def to_images(X, resize: bool, size: tuple[int, int], argument: str = "X") -> np.ndarray:
    """Any supported input -> a validated (N, H, W, C) numpy batch.

    Accepted: an array (N, H, W), (N, H, W, C) with C in {1, 3}, or (N, H*W) / (N, 3*H*W) rows
    of flattened square images; a list of arrays (of mixed sizes only with ``resize=True``); a
    list of image file paths; or a folder (every image below it, sorted). Errors name
    ``argument``.
    """
    if is_path_input(X):
        return check_images(load_paths(X, size if resize else None, argument), argument=argument)
    if isinstance(X, (list, tuple)) and len(X) and not np.isscalar(X[0]):
        shapes = {np.shape(x) for x in X}
        if len(shapes) > 1:
            if not resize:
                stack_images(
                    list(X), argument, "Pass resize=True to resize every image to the backbone's input size."
                )
            images = [check_images(np.asarray(im)[None], argument=argument) for im in X]
            return check_images(np.concatenate([resize_images(im, size) for im in images]), argument=argument)
    arr = np.asarray(X) if not hasattr(X, "to_numpy") else X.to_numpy()
    if arr.ndim == 2 and arr.dtype != object:
        arr = unflatten(arr, argument)
    return check_images(arr, argument=argument)
