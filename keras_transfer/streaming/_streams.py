"""Every kind of source -> a builder of one pass over it; passes in (re)shuffled order; the options
every returned dataset gets.

A source becomes ``one_pass(order, batch_size)``: batches of the elements at positions ``order``
(a batch that lost an unreadable file is one shorter). Orders are
made without state that depends on how far tf.data ran ahead: `shuffled_passes` keys each
iteration of the returned dataset with one draw of tf.data's own shuffle (one iterator per
epoch: tf.distribute keeps that sequence when it copies a dataset) and every pass within it with
``stateless_shuffle(seed=(key, pass))``. So every worker, and a run without tf.distribute, sees
the same order in every epoch; a ``repeat`` around a ``reshuffle_each_iteration`` shuffle would
not guarantee that (how many passes the prefetch buffers started decides the next epoch's order).
"""

from __future__ import annotations

import numpy as np

from keras_transfer._validation import check_bool, check_choice, check_image_size, check_int, check_seed
from keras_transfer.image_io import COLOR_MODES, is_path_input
from keras_transfer.streaming._decode import file_pass, resizer
from keras_transfer.streaming._files import check_file_labels, common_size, file_list, is_dataset

ON_ERROR = ("raise", "skip")
PREFETCH_BATCHES = 2
_KEY_RANGE = 1024  # three draws from a shuffled range(1024): 2**30 keys per iteration


def array_pass(x, labels, image_size, dtype):
    """``one_pass(order, batch_size)``: batches of the rows at positions ``order``, resized and cast."""
    import tensorflow as tf

    x = np.asarray(x)
    if x.ndim == 3:
        x = x[..., None]
    resize = resizer(image_size, dtype)
    images = tf.constant(x)
    label_table = None if labels is None else tf.constant(np.asarray(labels))

    def one_pass(order, batch_size):
        stream = tf.data.Dataset.from_tensor_slices(order).batch(batch_size)
        if label_table is None:
            return stream.map(lambda i: resize(tf.gather(images, i)), num_parallel_calls=tf.data.AUTOTUNE)
        return stream.map(
            lambda i: (resize(tf.gather(images, i)), tf.gather(label_table, i)),
            num_parallel_calls=tf.data.AUTOTUNE,
        )

    return one_pass


def image_rank(dataset):
    """The rank of a dataset's images (its element, or the element's first part); None if unknown."""
    spec = dataset.element_spec
    shape = getattr(spec[0] if isinstance(spec, tuple) else spec, "shape", None)
    return None if shape is None else shape.rank


def dataset_pass(dataset, image_size, dtype, argument):
    """(one_pass ignoring ``order``: the user's dataset resized, cast and batched; its length or None)."""
    import tensorflow as tf

    rank = image_rank(dataset)
    if rank not in (3, 4):
        raise ValueError(
            f"`{argument}` must be a tf.data.Dataset of images (height, width, channels), batched or "
            f"not, or of (image, label) pairs; received element_spec={dataset.element_spec}."
        )
    count = int(dataset.cardinality()) if rank == 3 else -1
    if rank == 4:
        dataset = dataset.unbatch()
    resize = resizer(image_size, dtype)
    if isinstance(dataset.element_spec, tuple):
        stream = dataset.map(lambda image, *rest: (resize(image), *rest), num_parallel_calls=tf.data.AUTOTUNE)
    else:
        stream = dataset.map(resize, num_parallel_calls=tf.data.AUTOTUNE)
    return (lambda order, batch_size: stream.batch(batch_size)), (count if count >= 0 else None)


def source_pass(source, labels, image_size, color_mode, on_error, dtype, argument):
    """(one_pass, number of elements or None, file paths or None, class names or None)."""
    if is_dataset(source):
        if labels is not None:
            raise ValueError(
                f"`labels` must be None when `{argument}` is a tf.data.Dataset (it yields them)."
            )
        return (*dataset_pass(source, image_size, dtype, argument), None, None)
    if is_path_input(source):
        paths, labels, class_names = file_list(source, labels, argument)
        if labels is not None and not isinstance(labels, str):
            labels = check_file_labels(labels, len(paths), argument)
        known_size = None
        if image_size is None:
            known_size, readable = common_size(paths, on_error, argument)
            if len(readable) < len(paths):
                keep = set(readable)
                labels = None if labels is None else labels[[p in keep for p in paths]]
                paths = readable
        one_pass = file_pass(paths, labels, image_size, color_mode, on_error, dtype, known_size=known_size)
        return one_pass, len(paths), paths, class_names
    if isinstance(labels, str):
        raise ValueError(f"`labels='inferred'` needs `{argument}` to be a folder; received an array.")
    x = np.asarray(source)
    if x.dtype.kind not in "biuf" or x.ndim not in (3, 4) or len(x) == 0:
        raise ValueError(
            f"`{argument}` must be a folder, a list of image paths, a tf.data.Dataset or a non-empty "
            f"array of images (N, H, W[, C]); received {type(source).__name__} with shape {x.shape}."
        )
    if x.dtype.kind == "f" and not np.isfinite(x).all():
        bad = int((~np.isfinite(x)).reshape(len(x), -1).any(axis=1).sum())
        raise ValueError(
            f"`{argument}` contains NaN or infinite pixels in {bad} of {len(x)} images. Clean or drop them first."
        )
    labels = None if labels is None else check_file_labels(labels, len(x), argument)
    return array_pass(x, labels, image_size, dtype), len(x), None, None


def shuffled_passes(build, seed, shuffle):
    """The dataset ``build(key)`` makes, with a fresh int64 ``key`` per iteration when ``shuffle``
    (0 otherwise); ``build`` draws each pass's order with `permutation`."""
    import tensorflow as tf

    if not shuffle:
        return build(tf.constant(0, tf.int64))
    draws = tf.data.Dataset.range(_KEY_RANGE).shuffle(_KEY_RANGE, seed=seed, reshuffle_each_iteration=True)
    keys = draws.take(3).batch(3).map(lambda d: (d[0] * _KEY_RANGE + d[1]) * _KEY_RANGE + d[2])
    return keys.flat_map(build)


def permutation(n, key, pass_index, shuffle):
    """Positions 0..n-1, shuffled statelessly from ``(key, pass_index)`` when ``shuffle``."""
    import tensorflow as tf

    order = tf.range(n, dtype=tf.int64)
    if not shuffle:
        return order
    seed = tf.stack([tf.cast(key, tf.int64), tf.cast(pass_index, tf.int64)])
    return tf.random.experimental.stateless_shuffle(order, seed=seed)


def finish(dataset, **attributes):
    import tensorflow as tf

    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    # a fixed read-ahead: an AUTOTUNE buffer grows while the consumer is slower than the
    # pipeline, up to tf.data's RAM budget (half the machine), which is not "bounded memory"
    dataset = dataset.with_options(options).prefetch(PREFETCH_BATCHES)
    for name, value in attributes.items():
        setattr(dataset, name, value)
    return dataset


def check_stream_arguments(
    image_size, batch_size, color_mode, shuffle, seed, on_error, dtype, full_batches=False
):
    image_size = check_image_size(image_size)
    batch_size = check_int(batch_size, "batch_size", min_value=1)
    check_choice(color_mode, COLOR_MODES, "color_mode")
    shuffle = check_bool(shuffle, "shuffle")
    seed = int(np.random.randint(2**31)) if seed is None else check_seed(seed)
    check_choice(on_error, ON_ERROR, "on_error")
    check_choice(dtype, ("float32", "uint8"), "dtype")
    check_bool(full_batches, "full_batches")
    return image_size, batch_size, shuffle, seed
