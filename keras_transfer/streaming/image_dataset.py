"""`image_dataset`: any image source as a batched, prefetched `tf.data.Dataset`."""

from __future__ import annotations

import math

from keras_transfer import image_io
from keras_transfer.image_io import is_path_input
from keras_transfer.streaming._decode import ERROR_TAG, NONE_DECODED_TAG, resizer
from keras_transfer.streaming._files import is_dataset
from keras_transfer.streaming._streams import (
    check_stream_arguments,
    finish,
    image_rank,
    permutation,
    shuffled_passes,
    source_pass,
)


def image_dataset(
    source,
    image_size=None,
    batch_size: int = 32,
    *,
    labels=None,
    color_mode: str = "rgb",
    shuffle: bool = False,
    seed: int | None = None,
    on_error: str = "raise",
    dtype: str = "float32",
    full_batches: bool = False,
):
    """Stream images from a folder, a list of files, an array or a dataset, in batches.

    Files are listed as `keras_transfer.image_io.to_images` lists them (every image below a
    folder, sorted by path) and decoded, resized and batched in parallel in `tf.data`, a few
    batches ahead (prefetch): memory does not grow with the number of files.

    Args:
        source: a folder, a list of image file paths, a numpy array ``(N, H, W[, C])`` or a
            `tf.data.Dataset` of images or ``(image, label)`` pairs (batched or not).
        image_size: ``(height, width)`` (or one int) to resize every image to (bilinear, no
            antialiasing, uint8 rounding); ``None`` keeps the sizes, which must then be equal
            (for files, checked up front from the headers).
        batch_size: images per batch (the last batch may be smaller).
        labels: None; ``"inferred"`` for a folder of ``<class>/<image>`` sub-folders (classes
            in sorted order, as `keras.utils.image_dataset_from_directory`); or one label per
            file/image (files in sorted path order).
        color_mode: ``"rgb"`` (3 channels) or ``"grayscale"`` (1 channel).
        shuffle: reshuffle the files (or rows) every pass, from ``seed`` (a dataset keeps its
            own order).
        seed: the shuffle seed (the same seed gives the same order on every worker).
        on_error: ``"raise"`` (a file that cannot be decoded stops the stream with an error
            naming it) or ``"skip"`` (it is dropped, with a line on stderr).
        dtype: ``"float32"`` (default) or ``"uint8"`` pixels, 0-255 either way.
        full_batches: for training: every batch holds ``batch_size`` images, the files (or
            rows) are cycled, and an iteration (an epoch) is ``ceil(n / batch_size)`` batches, so
            its length is known even when unreadable files are skipped (the next pass fills in).

    Returns:
        A prefetched `tf.data.Dataset` of image batches, or ``(images, labels)`` batches; for
        files it has ``file_paths`` (and ``class_names`` with ``labels="inferred"``). Its
        length is known, except for files with ``on_error="skip"`` without ``full_batches``
        (files may drop out).

    Raises:
        ValueError: an empty folder, a bad argument, labels of the wrong length, unreadable
            files or mixed sizes found up front (``image_size=None``) with ``on_error="raise"``.

    Example:
        >>> import numpy as np
        >>> from keras_transfer.streaming import image_dataset, numpy_batches
        >>> ds = image_dataset(np.zeros((5, 8, 8, 3), "uint8"), image_size=4, batch_size=2)
        >>> [b.shape for b in numpy_batches(ds)]
        [(2, 4, 4, 3), (2, 4, 4, 3), (1, 4, 4, 3)]
    """
    image_size, batch_size, shuffle, seed = check_stream_arguments(
        image_size, batch_size, color_mode, shuffle, seed, on_error, dtype, full_batches
    )
    if is_dataset(source) and image_rank(source) == 4:  # already batched: resize, cast, prefetch
        resize = resizer(image_size, dtype)
        if isinstance(source.element_spec, tuple):
            return finish(source.map(lambda x, *rest: (resize(x), *rest)))
        return finish(source.map(resize))
    one_pass, count, paths, class_names = source_pass(
        source, labels, image_size, color_mode, on_error, dtype, "source"
    )
    import tensorflow as tf

    if is_dataset(source):
        batches = one_pass(None, batch_size)  # a dataset keeps its own order
    elif full_batches:
        steps = math.ceil(count / batch_size)

        def epoch(key):  # passes without end, each in its own order; the epoch takes `steps` batches
            passes = tf.data.Dataset.range(2**62)
            stream = passes.flat_map(lambda p: one_pass(permutation(count, key, p, shuffle), batch_size))
            return stream.unbatch().batch(batch_size, drop_remainder=True).take(steps)

        batches = shuffled_passes(epoch, seed, shuffle)
        batches = batches.apply(tf.data.experimental.assert_cardinality(steps))
    else:
        batches = shuffled_passes(
            lambda key: one_pass(permutation(count, key, 0, shuffle), batch_size), seed, shuffle
        )
    if not full_batches and count is not None and (paths is None or on_error == "raise"):
        # every element comes out or the stream stops with an error: the length is known
        batches = batches.apply(tf.data.experimental.assert_cardinality(math.ceil(count / batch_size)))
    attributes = {}
    if paths is not None:
        attributes["file_paths"] = paths
    if class_names is not None:
        attributes["class_names"] = class_names
    return finish(batches, **attributes)


def numpy_batches(dataset):
    """Iterate a dataset as numpy batches; an undecodable file raises a `ValueError` naming it.

    Yields:
        The dataset's elements, converted to numpy.

    Raises:
        ValueError: a file in the stream could not be decoded (``on_error="raise"``), or none
            could (``on_error="skip"``).

    Example:
        >>> import numpy as np
        >>> from keras_transfer.streaming import image_dataset, numpy_batches
        >>> [b.shape for b in numpy_batches(image_dataset(np.zeros((3, 4, 4)), batch_size=2))]
        [(2, 4, 4, 1), (1, 4, 4, 1)]
    """
    import tensorflow as tf

    iterator = iter(dataset.as_numpy_iterator())
    while True:
        try:
            batch = next(iterator)
        except StopIteration:
            return
        except tf.errors.InvalidArgumentError as exc:
            text = str(exc)
            if ERROR_TAG in text:
                path = text.split(ERROR_TAG, 1)[1].split("Remove it", 1)[0].strip(" []\n")
                limit = image_io.MAX_IMAGE_PIXELS
                raise ValueError(
                    f"Could not decode image file {path}: it is not an image, truncated or unreadable"
                    + (
                        ""
                        if limit is None
                        else f", or larger than keras_transfer.image_io.MAX_IMAGE_PIXELS={limit} "
                        "pixels (refused before decoding: a possible decompression bomb)"
                    )
                    + ". Remove it, or pass on_error='skip' to skip unreadable files."
                ) from None
            if NONE_DECODED_TAG in text:
                count = text.split(NONE_DECODED_TAG, 1)[1].split("]", 2)[1].strip(" [")
                raise ValueError(f"None of the {count} image files could be decoded.") from None
            raise
        yield batch


def as_model_input(
    x,
    y=None,
    *,
    image_size=None,
    batch_size: int | None = None,
    labelled: bool = True,
    shuffle: bool = False,
    seed: int | None = None,
    on_error: str = "raise",
    full_batches: bool = False,
):
    """``(x, y)`` as `keras.Model.fit`/``evaluate``/``predict`` take them: a folder or a list of
    image files becomes an `image_dataset` (labels: ``y``, or the folder's class sub-folders when
    ``y`` is None; none with ``labelled=False``) and ``y`` None; any other input is returned as it is.

    Example:
        >>> import numpy as np
        >>> from keras_transfer.streaming import as_model_input
        >>> x, y = as_model_input(np.zeros((2, 4, 4, 3)), [0, 1])  # arrays pass through
        >>> x.shape, y
        ((2, 4, 4, 3), [0, 1])
    """
    if not is_path_input(x):
        return x, y
    labels = ("inferred" if y is None else y) if labelled else None
    dataset = image_dataset(
        x,
        image_size,
        batch_size or 32,
        labels=labels,
        shuffle=shuffle,
        seed=seed,
        on_error=on_error,
        full_batches=full_batches,
    )
    return dataset, None
