"""Shared plumbing of the two-domain models (DANN, CDAN, DiscrepancyModel, ...).

Data convention for ``fit``: ``x=(source_x, target_x)`` and ``y=source_y`` (integer labels),
as numpy arrays, or a ``tf.data.Dataset`` of ``((source_x, target_x), source_y)`` batches.
Target labels are never allowed in ``fit``. ``predict``/``evaluate`` take one domain at a time.
"""

from __future__ import annotations

import math

import keras
import numpy as np
from keras import ops

from keras_transfer._validation import ArgumentTypeError, check_labels, suggest
from keras_transfer._validation import shape_of as _shape


def _is_dataset(x) -> bool:
    return type(x).__module__.startswith("tensorflow") and hasattr(x, "element_spec")


def _two_domain_error(name: str, received) -> ValueError:
    return ValueError(
        f"`{name}` must be a pair (source_x, target_x), e.g. fit(x=(xs, xt), y=ys) or a "
        "tf.data.Dataset of ((xs, xt), ys) batches; received "
        f"{type(received).__name__}{_describe(received)}."
    )


def _describe(x) -> str:
    if isinstance(x, (tuple, list)):
        return f" of length {len(x)}"
    shape = getattr(x, "shape", None)
    return f" with shape {tuple(shape)}" if shape is not None else ""


def _target_labels_error(received) -> ValueError:
    return ValueError(
        "Target labels are not allowed here: domain adaptation trains on labelled source and "
        "UNLABELLED target data. `y` must be the source labels only (one array); received "
        f"{type(received).__name__}{_describe(received)}. Drop the target labels (keep them for "
        "evaluate(target_x, target_y))."
    )


def check_pair_shapes(source_shape, target_shape):
    """Raise ValueError when the per-example shapes of the two domains differ."""
    s, t = tuple(source_shape)[1:], tuple(target_shape)[1:]
    if len(s) != len(t) or any(a is not None and b is not None and a != b for a, b in zip(s, t)):
        raise ValueError(
            "`x` = (source_x, target_x): source and target inputs must have the same per-example shape; received source "
            f"shape={tuple(source_shape)} and target shape={tuple(target_shape)}. Resize or "
            "project the target data to the source's shape."
        )


def check_labels_structure(y):
    """Raise the target-labels error when ``y`` is a pair/list or dict of arrays."""
    if isinstance(y, (tuple, list, dict)):
        raise _target_labels_error(y)


def prepare_arrays(x, y, batch_size, epochs, steps_per_epoch, seed, num_classes=None, sample_weight=None):
    """Validate numpy inputs, cycle the smaller domain to the larger one's length.

    Returns ``(x, y, sample_weight, steps)``: the source labels and the per-row ``sample_weight``
    (None stays None) are indexed with the source rows' own index, so a weight stays with its row
    when the source is the domain that is cycled."""
    if not isinstance(x, (tuple, list)) or len(x) != 2:
        raise _two_domain_error("x", x)
    check_labels_structure(y)
    if y is None:
        raise ValueError("`y` (the source labels) is required: fit(x=(source_x, target_x), y=source_y).")
    xs, xt = np.asarray(x[0]), np.asarray(x[1])
    for part, arr in (("source", xs), ("target", xt)):
        if arr.ndim == 0 or arr.shape[0] == 0:
            raise ValueError(
                f"`x` must hold at least one {part} example: received an empty {part} part "
                f"(x[{0 if part == 'source' else 1}] shape={arr.shape})."
            )
        if arr.dtype.kind not in "biuf":
            raise TypeError(f"`x` must hold real numbers; received a {part} part of dtype={arr.dtype}.")
        if arr.dtype.kind == "f" and not np.isfinite(arr).all():
            bad = int((~np.isfinite(arr)).reshape(len(arr), -1).any(axis=1).sum())
            raise ValueError(
                f"`x` contains NaN or infinite values in {bad} of {len(arr)} {part} examples. "
                "Clean or drop them before training."
            )
    check_pair_shapes(xs.shape, xt.shape)
    ys = check_labels(y, "y", num_classes=num_classes, num_examples=len(xs))
    weights = None if sample_weight is None else _check_sample_weight(sample_weight, len(xs))
    # one epoch = one pass over the larger domain; the smaller one is shuffled and cycled to
    # match, so every source and every target example is used. The target is always shuffled,
    # so source and target rows given in corresponding order are not paired (Keras then
    # shuffles the pairs every epoch).
    rng = np.random.default_rng(seed)
    length = max(len(xs), len(xt))

    def cycled(n):
        return np.concatenate([rng.permutation(n) for _ in range(math.ceil(length / n))])[:length]

    source_index = np.arange(length) if len(xs) == length else cycled(len(xs))
    target_index = cycled(len(xt))
    batch = batch_size or 32
    steps = steps_per_epoch or math.ceil(length / batch)
    weights = None if weights is None else weights[source_index]
    return (xs[source_index], xt[target_index]), ys[source_index], weights, steps * epochs


def _check_sample_weight(sample_weight, num_source: int) -> np.ndarray:
    """``sample_weight`` as an array with one finite weight per source row (any trailing axes kept)."""
    if isinstance(sample_weight, dict):
        raise ValueError(
            "`sample_weight` must hold one weight per source example (an array); received a dict."
        )
    weights = np.asarray(sample_weight)
    if weights.ndim == 0 or weights.shape[0] != num_source:
        raise ValueError(
            f"`sample_weight` must hold one weight per source example ({num_source}, the rows of "
            f"x[0]); received shape={weights.shape}."
        )
    if weights.dtype.kind not in "biuf":
        raise TypeError(f"`sample_weight` must hold real numbers; received dtype={weights.dtype}.")
    if not np.isfinite(weights).all() or (weights < 0).any():
        raise ValueError(
            "`sample_weight` must hold finite weights >= 0 (one per source example); received "
            f"{int((~np.isfinite(weights)).sum())} NaN/infinite and {int((weights < 0).sum())} negative."
        )
    return weights


def check_dataset(dataset, epochs, steps_per_epoch):
    """Validate a tf.data.Dataset of ((xs, xt), ys); return the planned number of steps or None."""
    spec = dataset.element_spec
    if not isinstance(spec, tuple) or len(spec) not in (2, 3):
        raise ValueError(
            f"The dataset must yield ((source_x, target_x), source_y) batches; received element_spec={spec}."
        )
    xspec, yspec = spec[0], spec[1]
    if not isinstance(xspec, tuple) or len(xspec) != 2:
        raise _two_domain_error("x", xspec)
    check_labels_structure(yspec)
    check_pair_shapes(xspec[0].shape, xspec[1].shape)
    if steps_per_epoch:
        return steps_per_epoch * epochs
    cardinality = int(dataset.cardinality())
    if cardinality == 0:
        raise ValueError("The dataset is empty (cardinality 0): it has no source/target batches.")
    if cardinality < 0:
        return None
    return cardinality * epochs


def split_call_inputs(inputs):
    """Return (source, target) for a two-domain call, or (inputs, None) for one domain."""
    if isinstance(inputs, dict):
        raise _two_domain_error("inputs", inputs)
    if isinstance(inputs, (tuple, list)):
        if len(inputs) != 2:
            raise _two_domain_error("inputs", inputs)
        xs, xt = inputs
        check_pair_shapes(_shape(xs), _shape(xt))
        return xs, xt
    return inputs, None


def domain_labels(source, target, dtype="float32"):
    """0 for each source row, 1 for each target row, shape (n_s + n_t, 1)."""
    return ops.concatenate(
        [
            ops.zeros((ops.shape(source)[0], 1), dtype),
            ops.ones((ops.shape(target)[0], 1), dtype),
        ],
        axis=0,
    )


def single_input_shape(input_shape):
    """The per-domain input shape from a build shape (one shape or a pair of shapes)."""
    if isinstance(input_shape, (tuple, list)) and input_shape and isinstance(input_shape[0], (tuple, list)):
        return tuple(input_shape[0])
    return tuple(input_shape)


def has_trainable_batch_norm(layer) -> bool:
    """Whether ``layer`` or a layer nested in it (through ``.layers``) is a trainable BatchNorm."""
    if isinstance(layer, keras.layers.BatchNormalization) and layer.trainable:
        return True
    return any(
        has_trainable_batch_norm(child)
        for child in getattr(layer, "layers", None) or []
        if child is not layer
    )


def resolve_loss(value, name: str, registry: dict):
    """``(value, loss)`` for an adaptation loss given as a name in ``registry`` (name -> Loss
    class), a `keras.losses.Loss` or its serialized config; ``value`` is what ``get_config``
    saves (the name, or the loss object)."""
    if isinstance(value, dict):
        value = keras.saving.deserialize_keras_object(value)
    if isinstance(value, str):
        if value not in registry:
            raise ValueError(
                f"`{name}` must be one of {sorted(registry)} or a keras.losses.Loss; "
                f"received {name}={value!r}.{suggest(value, registry)}"
            )
        return value, registry[value]()
    if isinstance(value, keras.losses.Loss):
        return value, value
    names = ", ".join(repr(key) for key in registry)
    raise ValueError(f"`{name}` must be {names} or a keras.losses.Loss; received {type(value).__name__}.")


def check_adapt_batch_norm(value):
    """``value`` as True, False or "auto" (numpy bools accepted); anything else is refused."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, str) and value == "auto":
        return "auto"
    hint = suggest(value, ["auto"]) if isinstance(value, str) else ""
    raise ArgumentTypeError(
        "`adapt_batch_norm` must be True, False or 'auto'; received "
        f"adapt_batch_norm={value!r} of type {type(value).__name__}.{hint}"
    )


def resolve_layer(value, name: str):
    """Deserialize a nested layer config (from get_config) or check it is a Keras layer."""
    if isinstance(value, dict):
        value = keras.saving.deserialize_keras_object(value)
    if not isinstance(value, keras.layers.Layer):
        raise ValueError(f"`{name}` must be a Keras model or layer; received {type(value).__name__}.")
    return value
