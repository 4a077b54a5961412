"""Streamed input for the estimators: a folder, a list of image files or a `tf.data.Dataset` read
batch by batch through `keras_transfer.streaming` (memory bounded by a few batches)."""

from __future__ import annotations

import numpy as np

from keras_transfer.streaming import image_dataset, is_streaming_input, numpy_batches

__all__ = ["image_batches", "is_streaming_input", "streamed"]


def streamed(X, image_size, batch_size: int, argument: str = "X"):
    """(the `image_dataset` of ``X``, its file paths or None for a dataset); unreadable files
    raise a ValueError naming them."""
    try:
        dataset = image_dataset(X, image_size, int(batch_size), on_error="raise")
    except (ValueError, FileNotFoundError) as exc:
        raise type(exc)(str(exc).replace("`source`", f"`{argument}`")) from None
    return dataset, getattr(dataset, "file_paths", None)


def image_batches(dataset):
    """float32 image batches of ``dataset`` (the images of ``(images, labels)`` elements)."""
    for batch in numpy_batches(dataset):
        yield np.asarray(batch[0] if isinstance(batch, tuple) else batch, dtype=np.float32)
