"""Load a folder laid out as one sub-folder per class into numpy arrays."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from keras_transfer._validation import ArgumentTypeError, check_choice, check_image_size
from keras_transfer.image_io import COLOR_MODES, IMAGE_EXTENSIONS, is_image_file, read_image, stack_images


def load_image_folder(
    path,
    image_size: int | tuple[int, int] | None = None,
    color_mode: str = "rgb",
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Read ``path/<class name>/<image>`` files into uint8 arrays (like Keras'
    ``image_dataset_from_directory``, but eager, into memory).

    Classes are the sub-folder names in sorted order; label ``i`` is ``class_names[i]``. Files
    are read in sorted order (decoded with PIL, resized with `keras_transfer.image_io.resize_images`,
    the same bilinear resize Keras' loader applies); hidden files and other extensions are skipped.

    Args:
        path: the root folder.
        image_size: ``(height, width)`` (or one int) to resize every image to, bilinearly;
            ``None`` keeps the sizes, which must then all be equal.
        color_mode: ``"rgb"`` (3 channels) or ``"grayscale"`` (1 channel).

    Returns:
        ``(x, y, class_names)``: uint8 ``(N, height, width, channels)``, int64 labels, and the
        list of class names.

    Raises:
        FileNotFoundError: ``path`` is not a folder.
        ValueError: no class sub-folders, no images, images of mixed sizes with
            ``image_size=None``, a bad ``image_size`` or ``color_mode``, or an unreadable image.

    Example:
        >>> import tempfile, pathlib
        >>> import numpy as np
        >>> from PIL import Image
        >>> from keras_transfer.datasets import load_image_folder
        >>> root = pathlib.Path(tempfile.mkdtemp())
        >>> for name in ["cat", "dog"]:
        ...     (root / name).mkdir()
        ...     Image.fromarray(np.zeros((40, 30, 3), np.uint8)).save(root / name / "a.png")
        >>> x, y, names = load_image_folder(root, image_size=(32, 32))
        >>> x.shape, y.tolist(), names
        ((2, 32, 32, 3), [0, 1], ['cat', 'dog'])
    """
    image_size = check_image_size(image_size)
    check_choice(color_mode, COLOR_MODES, "color_mode")
    if not isinstance(path, (str, os.PathLike)):
        raise ArgumentTypeError(
            f"`path` must be a folder path (str or os.PathLike); received path={path!r} of type "
            f"{type(path).__name__}."
        )
    root = Path(path)
    if not root.is_dir():
        raise FileNotFoundError(f"`path` must be an existing folder; received path={str(path)!r}.")
    class_names = sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not class_names:
        raise ValueError(
            f"`path`={str(path)!r} has no class sub-folders. Lay the images out as "
            "path/<class name>/<image file>."
        )
    files, labels = [], []
    for label, name in enumerate(class_names):
        for f in sorted((root / name).iterdir()):
            if is_image_file(f):
                files.append(f)
                labels.append(label)
    if not files:
        raise ValueError(
            f"`path`={str(path)!r} holds no image files in its class sub-folders {class_names} "
            f"(extensions {list(IMAGE_EXTENSIONS)})."
        )
    images = [read_image(f, image_size, color_mode, argument="path") for f in files]
    x = stack_images(images, "path", "Pass image_size=(height, width) to resize them.")
    return x, np.asarray(labels, dtype=np.int64), class_names
