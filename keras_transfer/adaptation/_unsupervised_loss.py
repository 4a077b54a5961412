"""Base of the losses computed from target predictions alone (entropy, MCC)."""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

from keras_transfer._validation import check_finite, concrete, shape_of


def check_predictions(predictions, name: str = "predictions", probabilities: bool = True) -> None:
    """Raise ValueError unless ``predictions`` is a non-empty ``(n, num_classes)`` batch; concrete
    values (numpy arrays, eager tensors) must also be finite, and >= 0 when ``probabilities``."""
    shape = shape_of(predictions)
    if len(shape) != 2:
        raise ValueError(
            f"`{name}` must be a 2-D batch of class probabilities (n, num_classes); received shape={shape}."
        )
    if shape[0] == 0:
        raise ValueError(f"`{name}` is empty: received shape={shape}. Pass at least one row.")
    check_finite(predictions, name)
    values = concrete(predictions) if probabilities else None
    if values is not None and values.size and np.issubdtype(values.dtype, np.number) and values.min() < 0:
        raise ValueError(
            f"`{name}` must hold class probabilities >= 0; received a minimum of {float(values.min()):.4g}. "
            "Pass softmax outputs (or logits with from_logits=True where supported)."
        )


class UnsupervisedLoss(keras.losses.Loss):
    """A `keras.losses.Loss` that reads only ``y_pred``: call it as ``loss(None, predictions)``.

    ``y_true`` is ignored and may be None (Keras' own ``Loss.__call__`` cannot convert None).
    The value is one number per batch, shaped ``(1,)`` so that Keras scales it across
    `tf.distribute` replicas like any other loss.
    """

    def __call__(self, y_true, y_pred, sample_weight=None):
        if y_true is None:
            y_true = ops.zeros((1,), "float32")
        return super().__call__(y_true, y_pred, sample_weight)
