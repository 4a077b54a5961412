"""Re-estimate BatchNorm moving statistics from data ("precise BN").

A network whose BatchNorm layers trained for a few hundred steps (training from scratch, or
fine-tuning with ``bn="train"`` on a small data set) carries moving means and variances that lag
far behind the weights: with Keras' default momentum of 0.99, a moving statistic forgets its
initial value with a time constant of 100 steps, and the error compounds through every BN layer.
Such a model can score well in training mode and predict a single class in inference mode.
`recalibrate_batch_norm` replaces each trainable BN layer's moving statistics with their average
over a pass through the data (Wu & Johnson, "Rethinking 'Batch' in BatchNorm", 2021, section 3).
"""

from __future__ import annotations

from collections.abc import Iterable

import keras
import numpy as np

from keras_transfer._validation import ArgumentTypeError, check_int


def walk_layers(layer) -> Iterable:
    """``layer`` and every layer nested in it (through ``.layers``), depth first, parents first.

    The one layer walker of the package: BatchNorm handling (recalibration, AdaBN, TENT, the
    two-domain models and the estimators) finds its layers with it.

    Example:
        >>> import keras
        >>> from keras_transfer.policies import walk_layers
        >>> inner = keras.Sequential([keras.Input((2,)), keras.layers.Dense(2, name="d")], name="inner")
        >>> outer = keras.Sequential([keras.Input((2,)), inner], name="outer")
        >>> [layer.name for layer in walk_layers(outer)]
        ['outer', 'inner', 'd']
    """
    yield layer
    for child in getattr(layer, "layers", None) or []:
        if child is not layer:
            yield from walk_layers(child)


def batch_norm_layers(layer, *, trainable: bool | None = None) -> list:
    """The `keras.layers.BatchNormalization` layers in ``layer`` (itself or nested), in
    `walk_layers` order.

    Args:
        layer: a Keras layer or model.
        trainable: ``None`` (default): every BatchNorm layer; ``True``: only trainable ones (those
            whose statistics training or `recalibrate_batch_norm` would move); ``False``: only
            frozen ones.

    Example:
        >>> import keras
        >>> from keras_transfer.policies import batch_norm_layers
        >>> model = keras.Sequential([keras.Input((2,)), keras.layers.BatchNormalization()])
        >>> len(batch_norm_layers(model)), len(batch_norm_layers(model, trainable=False))
        (1, 0)
    """
    return [
        child
        for child in walk_layers(layer)
        if isinstance(child, keras.layers.BatchNormalization)
        and (trainable is None or bool(child.trainable) == trainable)
    ]


MIN_BATCH = 2
"""The fewest examples a batch may hold for BatchNorm statistics (one example has variance 0)."""


def _batches(x, batch_size: int, argument: str = "x"):
    if isinstance(x, np.ndarray) or hasattr(x, "shape") and hasattr(x, "__array__"):
        x = np.asarray(x)
        if x.ndim == 0 or len(x) == 0:
            raise ValueError(f"`{argument}` must hold at least one image; received an empty array.")
        if np.issubdtype(x.dtype, np.complexfloating) or not (
            np.issubdtype(x.dtype, np.number) or x.dtype == bool
        ):
            raise ArgumentTypeError(f"`{argument}` must hold real numbers; received dtype={x.dtype}.")
        if np.issubdtype(x.dtype, np.floating) and not np.isfinite(x).all():
            bad = int((~np.isfinite(x)).reshape(len(x), -1).any(axis=1).sum())
            raise ValueError(
                f"`{argument}` contains NaN or infinite values in {bad} of {len(x)} examples; the "
                "BatchNorm statistics would become NaN. Clean or drop them first."
            )
        if len(x) < MIN_BATCH:
            raise ValueError(
                f"`{argument}` holds {len(x)} example; BatchNorm statistics need at least "
                f"{MIN_BATCH} per batch (the variance of one example is 0, and every prediction "
                "would saturate). Pass more examples."
            )
        if batch_size < MIN_BATCH:
            raise ValueError(
                f"`batch_size` must be at least {MIN_BATCH} to estimate BatchNorm statistics (the "
                f"variance of one example is 0); received batch_size={batch_size}."
            )
        # equal batches (sizes differ by at most one): a short last batch, down to one example,
        # would count as much as a full one in the average of the batch statistics
        yield from np.array_split(x, -(-len(x) // batch_size))
        return
    skipped = 0
    for batch in x:  # tf.data.Dataset, a generator or a list of batches; (x, y[, w]) tuples allowed
        batch = batch[0] if isinstance(batch, (tuple, list)) else batch
        if len(batch) < MIN_BATCH:
            skipped += 1
            continue
        yield batch
    if skipped:
        import warnings

        warnings.warn(
            f"`{argument}`: skipped {skipped} batch(es) of fewer than {MIN_BATCH} examples when "
            "estimating BatchNorm statistics (their variance is 0).",
            UserWarning,
            stacklevel=3,
        )


def recalibrate_batch_norm(
    model: keras.Model,
    x,
    *,
    batch_size: int = 64,
    max_batches: int | None = None,
    verbose: int = 1,
    argument: str = "x",
) -> int:
    """Set every trainable BatchNorm layer's moving statistics to their average over ``x``.

    Each batch goes through ``model`` in training mode with the BN momentum of the ``k``-th batch
    set to ``(k - 1) / k``, so after the pass a moving statistic is the plain mean of its batch
    statistics. Dropout is switched off during the pass (its inference-time behaviour), and BN
    layers that are frozen (``trainable=False``, e.g. under a policy's ``bn="frozen"``) are left
    as they are. Weights, momenta and dropout rates are restored afterwards.

    Call it after training and before evaluating, on the training images (no labels needed).

    Args:
        model: a built Keras model (a `TransferClassifier`, a `Backbone`, any functional model).
        x: images as an array, or an iterable of batches (a ``tf.data.Dataset``; ``(x, y)``
            tuples are accepted and their labels ignored).
        batch_size: batch size when ``x`` is an array. Larger batches give better estimates.
        max_batches: stop after this many batches (``None``: the whole of ``x``).
        verbose: 1 shows a progress bar, 0 is silent.
        argument: the name of ``x`` in error messages (callers that take it under another name).

    Returns:
        The number of BatchNorm layers whose statistics were re-estimated.

    Raises:
        ValueError: ``model`` has no trainable BatchNorm layer, ``x`` is empty, or ``batch_size``
            is not a positive integer.

    Example:
        >>> import numpy as np, keras
        >>> from keras_transfer.policies import recalibrate_batch_norm
        >>> model = keras.Sequential([keras.Input((4,)), keras.layers.BatchNormalization()])
        >>> x = np.random.default_rng(0).normal(3.0, 2.0, size=(256, 4)).astype("float32")
        >>> recalibrate_batch_norm(model, x, batch_size=64, verbose=0)
        1
        >>> bool(np.allclose(model.layers[0].moving_mean.numpy(), x.mean(0), atol=1e-4))
        True
    """
    batch_size = check_int(batch_size, "batch_size", min_value=1)
    max_batches = check_int(max_batches, "max_batches", min_value=1, allow_none=True)
    if not isinstance(model, keras.layers.Layer):
        raise ArgumentTypeError(
            f"`model` must be a built Keras model or layer; received {type(model).__name__}."
        )
    layers = list(walk_layers(model))
    norms = [layer for layer in batch_norm_layers(model, trainable=True) if not layer.renorm]
    if not norms:
        raise ValueError(
            f"`model` {model.name!r} has no trainable BatchNormalization layer to recalibrate "
            "(frozen BN layers, as under a policy's bn='frozen', keep their statistics)."
        )
    dropouts = [layer for layer in layers if isinstance(layer, keras.layers.Dropout)]
    momenta = [layer.momentum for layer in norms]
    rates = [layer.rate for layer in dropouts]
    total = None
    if hasattr(x, "__len__") and not isinstance(x, (tuple, list)) and hasattr(x, "shape"):
        total = -(-len(x) // batch_size)
        total = min(total, max_batches) if max_batches else total
    bar = keras.utils.Progbar(total, verbose=verbose, unit_name="batch") if verbose else None
    seen = 0
    try:
        for layer in dropouts:
            layer.rate = 0.0
        for batch in _batches(x, batch_size, argument):
            seen += 1
            for layer in norms:
                layer.momentum = (seen - 1) / seen
            model(batch, training=True)
            if bar is not None:
                bar.update(seen)
            if max_batches is not None and seen >= max_batches:
                break
    finally:
        for layer, momentum in zip(norms, momenta):
            layer.momentum = momentum
        for layer, rate in zip(dropouts, rates):
            layer.rate = rate
    if seen == 0:
        raise ValueError(f"`{argument}` yielded no batch; pass at least one image.")
    return len(norms)
