"""`two_domain_dataset`: labelled source and unlabelled target images, streamed in step."""

from __future__ import annotations

import math
import os

from keras_transfer._validation import check_int
from keras_transfer.streaming._files import is_dataset
from keras_transfer.streaming._streams import (
    check_stream_arguments,
    finish,
    permutation,
    shuffled_passes,
    source_pass,
)


def two_domain_dataset(
    source,
    target,
    source_labels=None,
    *,
    image_size=None,
    batch_size: int = 32,
    steps_per_epoch: int | None = None,
    color_mode: str = "rgb",
    shuffle: bool = True,
    seed: int | None = None,
    on_error: str = "skip",
    dtype: str = "float32",
):
    """Stream labelled source and unlabelled target images as ``((source_x, target_x),
    source_y)`` batches, the input of `keras_transfer.models.DANN` and the other two-domain models.

    An epoch is one pass over the larger domain (``ceil(max(n_source, n_target) / batch_size)``
    steps), the smaller one is cycled, both are reshuffled every pass, and every batch is full
    (``batch_size`` rows per domain): the same convention as ``fit(x=(xs, xt), y=ys)`` on arrays.
    The dataset's cardinality is the number of steps, so reversal and learning-rate schedules
    can plan their total.

    Args:
        source: the labelled source images: a folder, a list of paths, an array, or a dataset
            of ``(image, label)``.
        target: the unlabelled target images: a folder, a list of paths, an array, or a dataset
            of images (target labels are refused).
        source_labels: one label per source image, or ``"inferred"`` (the default for a folder:
            its class sub-folders); None for a dataset source.
        image_size: ``(height, width)`` to resize both domains to; ``None`` keeps the sizes
            (one size for both domains).
        batch_size: rows per domain in every batch.
        steps_per_epoch: steps per epoch; required when a dataset's length is unknown.
        color_mode, shuffle, seed, on_error, dtype: as in `image_dataset` (``on_error``
            defaults to ``"skip"``: an unreadable file is dropped, with a line on stderr).

    Returns:
        A prefetched `tf.data.Dataset` of ``((source_x, target_x), source_y)`` with known
        cardinality.

    Example:
        >>> import numpy as np
        >>> from keras_transfer.streaming import two_domain_dataset
        >>> xs, ys = np.zeros((10, 8, 8, 3), "uint8"), np.arange(10) % 2
        >>> ds = two_domain_dataset(xs, np.ones((25, 8, 8, 3), "uint8"), ys, batch_size=8, seed=0)
        >>> int(ds.cardinality()), [t.shape for t in ds.element_spec[0]]
        (4, [TensorShape([8, 8, 8, 3]), TensorShape([8, 8, 8, 3])])
    """
    image_size, batch_size, shuffle, seed = check_stream_arguments(
        image_size, batch_size, color_mode, shuffle, seed, on_error, dtype
    )
    steps_per_epoch = check_int(steps_per_epoch, "steps_per_epoch", min_value=1, allow_none=True)
    if source_labels is None and isinstance(source, (str, os.PathLike)):
        source_labels = "inferred"
    if source_labels is None and not is_dataset(source):
        raise ValueError(
            "`source_labels` is required: one label per source image, or 'inferred' for a folder "
            "of class sub-folders (or a dataset of (image, label) pairs)."
        )
    if is_dataset(source) and not (isinstance(source.element_spec, tuple) and len(source.element_spec) == 2):
        raise ValueError(
            "`source` must be a dataset of (image, label) pairs: the source labels are required; "
            f"received element_spec={source.element_spec}."
        )
    if is_dataset(target) and isinstance(target.element_spec, tuple):
        raise ValueError(
            "Target labels are not allowed: `target` must yield images only (domain adaptation "
            f"trains on UNLABELLED target data); received element_spec={target.element_spec}."
        )
    src, n_source, paths, class_names = source_pass(
        source, source_labels, image_size, color_mode, on_error, dtype, "source"
    )
    tgt, n_target, _, _ = source_pass(target, None, image_size, color_mode, on_error, dtype, "target")
    if steps_per_epoch is None:
        if n_source is None or n_target is None:
            raise ValueError(
                "`steps_per_epoch` is required when a domain is a dataset of unknown length "
                "(batched or infinite); pass steps_per_epoch=N."
            )
        steps_per_epoch = math.ceil(max(n_source, n_target) / batch_size)
    import tensorflow as tf

    def endless(one_pass, n, key, domain):  # pass p of a domain is shuffled from (key, 2p + domain)
        passes = tf.data.Dataset.range(2**62)
        if n is None:  # a dataset: repeated in its own order
            return passes.flat_map(lambda p: one_pass(None, batch_size)).unbatch()
        orders = passes.map(lambda p: permutation(n, key, 2 * p + domain, shuffle))
        return orders.flat_map(lambda order: one_pass(order, batch_size)).unbatch()

    def epoch(key):
        xs = endless(src, n_source, key, 0).batch(batch_size, drop_remainder=True)
        xt = endless(tgt, n_target, key, 1).batch(batch_size, drop_remainder=True)
        return tf.data.Dataset.zip(xs, xt).map(lambda s, t: ((s[0], t), s[1])).take(steps_per_epoch)

    pairs = shuffled_passes(epoch, seed, shuffle)
    pairs = pairs.apply(tf.data.experimental.assert_cardinality(steps_per_epoch))
    s_shape, t_shape = pairs.element_spec[0][0].shape, pairs.element_spec[0][1].shape
    if not s_shape.is_compatible_with(t_shape):
        raise ValueError(
            f"Source and target images must have the same shape; received source {tuple(s_shape[1:])} "
            f"and target {tuple(t_shape[1:])}. Pass image_size=(height, width) to resize both."
        )
    attributes = {} if paths is None else {"file_paths": paths}
    if class_names is not None:
        attributes["class_names"] = class_names
    return finish(pairs, **attributes)
