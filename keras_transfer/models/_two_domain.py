"""Shared graph and argument helpers of the two-domain models (DANN, CDAN, DiscrepancyModel, ...);
the input handling of ``fit`` is in ``_two_domain_data``."""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

from keras_transfer._validation import ArgumentTypeError, suggest
from keras_transfer._validation import shape_of as _shape
from keras_transfer.models._two_domain_data import check_pair_shapes, two_domain_error


def split_call_inputs(inputs):
    """Return (source, target) for a two-domain call, or (inputs, None) for one domain."""
    if isinstance(inputs, dict):
        raise two_domain_error("inputs", inputs)
    if isinstance(inputs, (tuple, list)):
        if len(inputs) != 2:
            raise two_domain_error("inputs", inputs)
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
