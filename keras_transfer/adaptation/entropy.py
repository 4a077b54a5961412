"""Prediction entropy and target entropy minimization."""

from __future__ import annotations

from keras import ops

from keras_transfer._validation import check_float
from keras_transfer.adaptation._unsupervised_loss import UnsupervisedLoss, check_predictions
from keras_transfer.api_export import export


def entropy(probabilities, epsilon: float = 1e-5):
    """Shannon entropy (nats) of each row: ``H(p) = -sum_c p_c log(p_c + epsilon)``.

    The ``epsilon`` inside the log is that of the Transfer-Learning-Library (tllib), so the
    value matches its CDAN+E and MCC weights. Written with `keras.ops` (differentiable on
    every backend); numpy arrays work too.

    Args:
        probabilities: class probabilities, shape ``(n, num_classes)``.
        epsilon: added inside the log, a float >= 0.

    Returns:
        A float32 tensor of shape ``(n,)``.

    Example:
        >>> import numpy as np
        >>> from keras_transfer.adaptation import entropy
        >>> np.round(np.asarray(entropy(np.array([[0.5, 0.5], [1.0, 0.0]]), epsilon=0.0)), 4)
        array([0.6931, 0.    ], dtype=float32)
    """
    epsilon = check_float(epsilon, "epsilon", min_value=0.0)
    check_predictions(probabilities, "probabilities")
    p = ops.cast(probabilities, "float32")
    positive = p > 0  # 0 * log(0) counts as 0, with a zero gradient, even when epsilon is 0
    terms = ops.where(positive, -p * ops.log(ops.where(positive, p, 1.0) + epsilon), 0.0)
    return ops.sum(terms, axis=-1)


@export
class EntropyLoss(UnsupervisedLoss):
    """Mean prediction entropy of a target batch, for target entropy minimization.

    Minimising the entropy of the predictions on unlabelled target data pushes the decision
    boundary away from dense target regions (Grandvalet and Bengio, "Semi-supervised Learning by
    Entropy Minimization", NeurIPS 2004; used for adaptation by Long et al., "Unsupervised Domain
    Adaptation with Residual Transfer Networks", NeurIPS 2016). Call it as ``loss(None,
    target_probabilities)``: ``y_true`` is ignored. Use it as the ``regularizer`` of
    `keras_transfer.models.TargetRegularizedModel` (``regularizer="entropy"``).

    Args:
        epsilon: added inside the log (see `keras_transfer.adaptation.entropy`).
        name: loss name.
        **kwargs: passed to `keras.losses.Loss` (e.g. ``dtype``).

    Example:
        >>> import numpy as np
        >>> from keras_transfer.adaptation import EntropyLoss
        >>> p = np.array([[0.5, 0.5], [1.0, 0.0]], "float32")
        >>> round(float(EntropyLoss(epsilon=0.0)(None, p)), 4)
        0.3466
    """

    def __init__(self, epsilon: float = 1e-5, name: str = "entropy", **kwargs):
        super().__init__(name=name, **kwargs)
        self.epsilon = check_float(epsilon, "epsilon", min_value=0.0)

    def call(self, y_true, y_pred):
        return ops.reshape(ops.mean(entropy(y_pred, self.epsilon)), (1,))

    def get_config(self) -> dict:
        return {**super().get_config(), "epsilon": self.epsilon}
