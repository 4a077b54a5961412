"""Deep CORAL: the distance between source and target feature covariances."""

from __future__ import annotations

import keras
from keras import ops

from keras_transfer._validation import check_feature_pair
from keras_transfer.api_export import export


def _covariance(x):
    n = ops.cast(ops.shape(x)[0], x.dtype)
    centred = x - ops.mean(x, axis=0, keepdims=True)
    return ops.matmul(ops.transpose(centred), centred) / ops.maximum(n - 1.0, 1.0)


def coral(source, target):
    """CORAL distance ``||C_s - C_t||_F^2 / (4 d^2)`` between two feature batches.

    Sun and Saenko, "Deep CORAL: Correlation Alignment for Deep Domain Adaptation",
    ECCV-W 2016. ``C`` is the unbiased covariance of a ``(n, d)`` batch. Written with
    `keras.ops`, so it is differentiable on every backend; numpy arrays work too.

    Args:
        source: source features, shape ``(n_source, d)``.
        target: target features, shape ``(n_target, d)``.

    Returns:
        A float32 scalar tensor, >= 0; zero when both batches have the same covariance.

    Example:
        >>> import numpy as np
        >>> from keras_transfer.adaptation import coral
        >>> rng = np.random.default_rng(0)
        >>> xs = rng.normal(size=(64, 3)).astype("float32")
        >>> float(coral(xs, xs))
        0.0
        >>> float(coral(xs, 3 * xs)) > 0
        True
    """
    check_feature_pair(source, target)
    source = ops.cast(source, "float32")
    target = ops.cast(target, "float32")
    d = ops.cast(ops.shape(source)[-1], "float32")
    diff = _covariance(source) - _covariance(target)
    return ops.sum(ops.square(diff)) / (4.0 * d * d)


@export
class CORALLoss(keras.losses.Loss):
    """`coral` as a Keras loss: ``loss(source_features, target_features)``.

    ``y_true`` is the source batch and ``y_pred`` the target batch (both ``(n, d)``). The value
    is one number per batch, scaled for `tf.distribute` replicas like any Keras loss. Use it in
    `keras_transfer.models.DiscrepancyModel` or add it to any model's loss.

    Args:
        name: loss name.
        **kwargs: passed to `keras.losses.Loss` (e.g. ``dtype``).

    Example:
        >>> import numpy as np
        >>> from keras_transfer.adaptation import CORALLoss
        >>> xs = np.random.default_rng(0).normal(size=(32, 4)).astype("float32")
        >>> float(CORALLoss()(xs, xs))
        0.0
    """

    def __init__(self, name: str = "coral", **kwargs):
        super().__init__(name=name, **kwargs)

    def call(self, y_true, y_pred):
        # shape (1,) so that Keras applies the replica scaling (it skips 0-d values)
        return ops.reshape(coral(y_true, y_pred), (1,))
