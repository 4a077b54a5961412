"""AdaBN: re-estimate BatchNorm statistics on the target domain."""

from __future__ import annotations

import contextlib

import keras

from keras_transfer._validation import check_bool, check_count
from keras_transfer.policies.batch_norm import batch_norm_layers, recalibrate_batch_norm


def adapt_batch_norm(
    model,
    target_x,
    *,
    batch_size: int = 64,
    max_batches: int | None = None,
    include_frozen: bool = False,
    verbose: int = 0,
) -> int:
    """AdaBN: replace every BatchNorm layer's moving statistics by their value on target data.

    Li, Wang, Shi, Liu and Hou, "Revisiting Batch Normalization For Practical Domain
    Adaptation", ICLR workshop 2017 (arXiv 2016). Only the moving means and variances change;
    every other weight stays as it is. After the call the model normalises target inputs with
    target statistics (so it no longer suits the source domain). Each batch runs through
    ``model`` in training mode with dropout off, and each moving statistic becomes the mean of
    its per-batch values (`keras_transfer.policies.recalibrate_batch_norm` pointed at the
    target), so a moving mean equals the target mean of that layer's input when ``batch_size``
    divides the number of examples.

    The two-domain models (`keras_transfer.models.DANN`, ...) call this on the target data at
    the end of ``fit`` themselves: their ``adapt_batch_norm`` argument (default ``"auto"``: on
    when the network has a trainable BatchNorm layer) controls it.

    Args:
        model: a built Keras model; a two-domain model is called on one domain at a time.
        target_x: unlabelled target inputs: an array, or an iterable of batches (a
            ``tf.data.Dataset``; ``(x, y)`` tuples have their labels ignored). Not a
            ``(source_x, target_x)`` pair.
        batch_size: batch size when ``target_x`` is an array; larger gives better variances.
        max_batches: stop after this many batches (None: all of ``target_x``).
        include_frozen: also re-estimate BatchNorm layers with ``trainable=False`` (e.g. a frozen
            pretrained backbone), which are otherwise left as they are.
        verbose: 1 shows a progress bar, 0 is silent.

    Returns:
        The number of BatchNorm layers whose statistics were re-estimated.

    Raises:
        ValueError: ``model`` has no (trainable) BatchNorm layer, ``target_x`` is a pair or
            empty, or ``batch_size``/``max_batches`` is not a positive integer.

    Example:
        >>> import numpy as np, keras
        >>> from keras_transfer.adaptation import adapt_batch_norm
        >>> model = keras.Sequential([keras.Input((2,)), keras.layers.BatchNormalization()])
        >>> target_x = np.random.default_rng(0).normal(5.0, 1.0, (128, 2)).astype("float32")
        >>> adapt_batch_norm(model, target_x, batch_size=64)
        1
        >>> bool(np.allclose(model.layers[0].moving_mean.numpy(), target_x.mean(0), atol=1e-4))
        True
    """
    check_count(batch_size, "batch_size", allow_none=False)
    check_count(max_batches, "max_batches")
    include_frozen = check_bool(include_frozen, "include_frozen")
    if isinstance(target_x, (tuple, list)):
        raise ValueError(
            "`target_x` must be the target inputs only (an array or a dataset of target "
            f"batches); received a {type(target_x).__name__} of length {len(target_x)}. Pass "
            "target_x, not (source_x, target_x)."
        )
    frozen = []
    if include_frozen:
        frozen = batch_norm_layers(model, trainable=False)
    try:
        for layer in frozen:
            layer.trainable = True
        return recalibrate_batch_norm(
            model,
            target_x,
            batch_size=batch_size,
            max_batches=max_batches,
            verbose=verbose,
            argument="target_x",
        )
    finally:
        for layer in frozen:
            layer.trainable = False


@contextlib.contextmanager
def batch_norm_statistics(model, x, *, batch_size: int = 64, include_frozen: bool = False):
    """Temporarily normalise ``model`` with BatchNorm statistics re-estimated on ``x``.

    AdaBN normalises each domain with its own statistics. A model adapted that way (after
    ``fit(..., adapt_batch_norm=...)`` or `adapt_batch_norm`) holds the *target* statistics, so
    scoring it on source data, as label-free model selection does (held-out source accuracy,
    reverse validation), would normalise source inputs with target statistics and understate the
    model. Inside this context every BatchNorm layer's moving mean and variance are
    re-estimated on ``x`` (`adapt_batch_norm`); on exit, even after an error, the previous
    values are restored exactly. Nothing else changes.

    Args:
        model: a built Keras model with BatchNorm layers.
        x: inputs whose statistics to use (an array or a dataset of batches), e.g. source images.
        batch_size: batch size of the re-estimation when ``x`` is an array.
        include_frozen: also re-estimate BatchNorm layers with ``trainable=False``.

    Yields:
        ``model``.

    Example:
        >>> import numpy as np, keras
        >>> from keras_transfer.adaptation import adapt_batch_norm, batch_norm_statistics
        >>> model = keras.Sequential([keras.Input((2,)), keras.layers.BatchNormalization()])
        >>> rng = np.random.default_rng(0)
        >>> source = rng.normal(0.0, 1.0, (128, 2)).astype("float32")
        >>> target = rng.normal(5.0, 1.0, (128, 2)).astype("float32")
        >>> adapt_batch_norm(model, target)  # the model now holds target statistics
        1
        >>> with batch_norm_statistics(model, source):
        ...     inside = model.layers[0].moving_mean.numpy()
        >>> bool(np.allclose(inside, source.mean(0), atol=1e-4))
        True
        >>> bool(np.allclose(model.layers[0].moving_mean.numpy(), target.mean(0), atol=1e-4))
        True
    """
    layers = [layer for layer in batch_norm_layers(model) if layer.built]
    saved = [
        (keras.ops.convert_to_numpy(layer.moving_mean), keras.ops.convert_to_numpy(layer.moving_variance))
        for layer in layers
    ]
    try:
        adapt_batch_norm(model, x, batch_size=batch_size, include_frozen=include_frozen)
        yield model
    finally:
        for layer, (mean, variance) in zip(layers, saved):
            layer.moving_mean.assign(mean)
            layer.moving_variance.assign(variance)
