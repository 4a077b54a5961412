"""Minimum Class Confusion (MCC) on target predictions."""

from __future__ import annotations

from keras import ops

from keras_transfer._validation import check_bool, check_float
from keras_transfer.adaptation._unsupervised_loss import UnsupervisedLoss, check_predictions
from keras_transfer.adaptation.entropy import entropy
from keras_transfer.api_export import export


def mcc_loss(predictions, temperature: float = 2.5, from_logits: bool = False):
    """Minimum class confusion of a batch of target predictions (Jin et al., ECCV 2020).

    Jin, Wang, Long and Wang, "Minimum Class Confusion for Versatile Domain Adaptation", ECCV
    2020, as implemented in the Transfer-Learning-Library: rescale the logits by
    ``temperature`` (``p = softmax(z / T)``), weight each example by ``1 + exp(-H(p))``
    normalised to sum to the batch size, form the class-confusion matrix ``C = p^T diag(w) p``,
    divide each column of ``C`` by its sum (category normalisation) and return the
    off-diagonal mass divided by the number of classes. Lower means fewer target examples are
    torn between two classes.

    Args:
        predictions: ``(n, num_classes)`` class probabilities (or logits with ``from_logits``).
            Probabilities are turned back into logits with ``log`` (exact up to a constant
            per row, which the softmax ignores).
        temperature: ``T``, a float > 0 (2.5 in the paper).
        from_logits: whether ``predictions`` are logits.

    Returns:
        A float32 scalar tensor in ``[0, (num_classes - 1) / num_classes]``.

    Example:
        >>> import numpy as np
        >>> from keras_transfer.adaptation import mcc_loss
        >>> confident = np.array([[9.0, 0.0], [0.0, 9.0]], "float32")
        >>> unsure = np.zeros((2, 2), "float32")
        >>> float(mcc_loss(confident, from_logits=True)) < float(mcc_loss(unsure, from_logits=True))
        True
        >>> round(float(mcc_loss(unsure, from_logits=True)), 4)
        0.5
    """
    temperature = check_float(temperature, "temperature", min_value=0.0, min_inclusive=False)
    from_logits = check_bool(from_logits, "from_logits")
    check_predictions(predictions, probabilities=not from_logits)
    x = ops.cast(predictions, "float32")
    logits = x if from_logits else ops.log(ops.clip(x, 1e-7, 1.0))
    p = ops.softmax(logits / temperature, axis=-1)
    n = ops.cast(ops.shape(p)[0], "float32")
    num_classes = ops.cast(ops.shape(p)[1], "float32")
    weight = 1.0 + ops.exp(-ops.stop_gradient(entropy(p)))
    weight = n * weight / ops.sum(weight)
    confusion = ops.matmul(ops.transpose(p * weight[:, None]), p)
    confusion = confusion / ops.sum(confusion, axis=1)  # broadcast: column j over sum j, as tllib
    return (ops.sum(confusion) - ops.trace(confusion)) / num_classes


@export
class MinimumClassConfusionLoss(UnsupervisedLoss):
    """`mcc_loss` as a Keras loss: ``loss(None, target_probabilities)`` (``y_true`` is ignored).

    Use it as the ``regularizer`` of `keras_transfer.models.TargetRegularizedModel`
    (``regularizer="mcc"`` is this loss with ``temperature=2.5``), or add
    ``weight * loss(None, target_predictions)`` to any model's loss.

    Args:
        temperature: a float > 0 (2.5 in the paper).
        from_logits: whether ``y_pred`` holds logits instead of probabilities.
        name: loss name.
        **kwargs: passed to `keras.losses.Loss` (e.g. ``dtype``).

    Example:
        >>> import numpy as np
        >>> from keras_transfer.adaptation import MinimumClassConfusionLoss
        >>> loss = MinimumClassConfusionLoss(temperature=2.5)
        >>> round(float(loss(None, np.full((4, 2), 0.5, "float32"))), 4)
        0.5
    """

    def __init__(self, temperature: float = 2.5, from_logits: bool = False, name: str = "mcc", **kwargs):
        super().__init__(name=name, **kwargs)
        self.temperature = check_float(temperature, "temperature", min_value=0.0, min_inclusive=False)
        self.from_logits = check_bool(from_logits, "from_logits")

    def call(self, y_true, y_pred):
        return ops.reshape(mcc_loss(y_pred, self.temperature, self.from_logits), (1,))

    def get_config(self) -> dict:
        return {**super().get_config(), "temperature": self.temperature, "from_logits": self.from_logits}
