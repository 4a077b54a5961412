"""AdaBN: re-estimate BatchNorm statistics on the target domain."""

from __future__ import annotations

import contextlib

import keras
import numpy as np

from keras_transfer._validation import check_bool, check_count
from keras_transfer.adaptation.collapse import CHECK_ROWS, check_collapse, warn_if_collapsed
from keras_transfer.policies.batch_norm import batch_norm_layers, recalibrate_batch_norm
from keras_transfer.streaming import is_dataset


def adapt_batch_norm(
    model,
    target_x,
    *,
    batch_size: int = 64,
    max_batches: int | None = None,
    include_frozen: bool = False,
    verbose: int = 0,
    collapse_check: bool = True,
    reference_distribution=None,
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

    **When it is valid.** AdaBN assumes that the layers after each BatchNorm layer were trained
    on features normalised with *source* statistics, so that swapping in target statistics maps
    the target onto what they learned. That holds for a network trained from scratch or
    fine-tuned on the source (its BatchNorm statistics are the source's), and for the two-domain
    models, which normalise each domain with its own statistics in training. It does *not* hold
    for a head trained on a frozen pretrained backbone whose BatchNorm layers still hold their
    pretraining (e.g. ImageNet) statistics: the head then never saw source-normalised features,
    and swapping those frozen statistics (``include_frozen=True``) for target ones can make
    predictions worse than no adaptation, down to below chance (measured on a digit pair with a
    frozen EfficientNet-Lite0). Re-estimating the frozen statistics on the source *before* the
    head trains makes the rule hold, but the frozen layers after them were pretrained on
    ImageNet-normalised values: with a frozen Lite0 on 32x32 Fashion-MNIST, a head trained that
    way lost 13-17 points of target accuracy against one trained on the pretraining statistics,
    more than the target statistics won back. For such a model, leave the frozen layers alone:
    put a ``keras.layers.BatchNormalization`` layer on the pooled backbone features, train the
    head on the source, then call ``adapt_batch_norm(model, target_x)`` with
    ``include_frozen=False`` (default), which re-estimates only trainable BatchNorm layers (the
    new one, and the backbone's own when it trained). That is what
    `keras_transfer.sklearn.DomainAdaptationClassifier` does for ``method="adabn"``.

    **Collapse check.** Afterwards, when ``target_x`` is an array (or a ``tf.data.Dataset``) and
    the model outputs class probabilities, up to 1,024 target rows are predicted and checked with
    `keras_transfer.adaptation.check_collapse` (against ``reference_distribution``, the source's
    class balance, or a uniform one when None); a collapse raises a
    `keras_transfer.adaptation.CollapseWarning` naming AdaBN and the symptom. ``collapse_check=False``
    skips it. Models whose output is not a probability matrix (feature extractors) are not checked.

    The two-domain models (`keras_transfer.models.DANN`, ...) call this on the target data at
    the end of ``fit`` themselves: their ``adapt_batch_norm`` argument (default ``"auto"``: on
    when the network has a trainable BatchNorm layer) controls it, and ``fit`` runs its own
    collapse check against the source labels' balance.

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
        collapse_check: check the adapted model's target predictions for a collapse (above).
        reference_distribution: the source's class balance (shares or counts per class) for
            the collapse check; None compares with a uniform balance.

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
    collapse_check = check_bool(collapse_check, "collapse_check")
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
        count = recalibrate_batch_norm(
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
    if collapse_check:
        probabilities = _sample_probabilities(model, target_x)
        if probabilities is not None:
            report = check_collapse(probabilities, reference_distribution=reference_distribution)
            warn_if_collapsed(report, "AdaBN (adapt_batch_norm)")
    return count


def _sample_probabilities(model, target_x):
    """The model's outputs on up to ``CHECK_ROWS`` target rows when they are class
    probabilities (a 2-D non-negative matrix whose rows sum to 1, or holding NaN); else None."""
    if is_dataset(target_x):  # a tf.data.Dataset
        parts, count = [], 0
        for batch in target_x:
            batch = batch[0] if isinstance(batch, (tuple, list)) else batch
            parts.append(np.asarray(batch))
            count += len(parts[-1])
            if count >= CHECK_ROWS:
                break
        if not parts:
            return None
        rows = np.concatenate(parts)[:CHECK_ROWS]
    elif isinstance(target_x, np.ndarray) or hasattr(target_x, "__array__"):
        rows = np.asarray(target_x)[:CHECK_ROWS]
    else:
        return None
    outputs = []
    for start in range(0, len(rows), 256):
        out = model(keras.ops.convert_to_tensor(rows[start : start + 256]), training=False)
        if isinstance(out, (tuple, list, dict)):
            return None
        outputs.append(keras.ops.convert_to_numpy(keras.ops.cast(out, "float32")))
    probabilities = np.concatenate(outputs)
    if probabilities.ndim != 2 or probabilities.shape[1] < 2:
        return None
    if not np.isfinite(probabilities).all():
        return probabilities  # NaN / inf: a collapse symptom of its own
    if probabilities.min() < -1e-6 or not np.allclose(probabilities.sum(1), 1.0, atol=1e-3):
        return None  # logits or features, not probabilities
    return probabilities


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
        adapt_batch_norm(model, x, batch_size=batch_size, include_frozen=include_frozen, collapse_check=False)
        yield model
    finally:
        for layer, (mean, variance) in zip(layers, saved):
            layer.moving_mean.assign(mean)
            layer.moving_variance.assign(variance)
