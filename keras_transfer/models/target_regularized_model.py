"""Source classification + a loss on the target predictions (MCC, entropy minimization)."""

from __future__ import annotations

import keras

from keras_transfer.adaptation.entropy import EntropyLoss
from keras_transfer.adaptation.mcc import MinimumClassConfusionLoss
from keras_transfer.api_export import export
from keras_transfer.models import _two_domain as td
from keras_transfer.models._two_domain_model import TwoDomainModel
from keras_transfer.models.adaptation_methods import register_adaptation_method

REGULARIZERS = {"mcc": MinimumClassConfusionLoss, "entropy": EntropyLoss}


@export
class TargetRegularizedModel(TwoDomainModel):
    """Classifier trained on labelled source data with a loss on its unlabelled target predictions.

    Loss = cross-entropy on the source + ``adaptation_weight * regularizer(None,
    target_probabilities)``:

    - ``"mcc"``: Minimum Class Confusion (Jin, Wang, Long and Wang, "Minimum Class Confusion
      for Versatile Domain Adaptation", ECCV 2020), temperature 2.5, entropy-weighted examples,
      category normalisation (`keras_transfer.adaptation.MinimumClassConfusionLoss`). The paper
      uses ``adaptation_weight=1``.
    - ``"entropy"``: target entropy minimization (Grandvalet and Bengio, NeurIPS 2004; as in
      Long et al., "Unsupervised Domain Adaptation with Residual Transfer Networks", NeurIPS
      2016), `keras_transfer.adaptation.EntropyLoss`. Smaller weights (0.1) are safer: on a badly
      shifted target it can lock in early mistakes.
    - any `keras.losses.Loss` called as ``loss(None, target_probabilities)`` (``y_true`` is
      None), e.g. ``MinimumClassConfusionLoss(temperature=3.0)``.

    Both regularizers push the decision boundary out of dense target regions, so they help when
    the target forms class clusters that the source classifier cuts. Same data convention as
    `keras_transfer.models.DANN` (``fit(x=(source_x, target_x), y=source_y)``; AdaBN, on by
    default when the network has a trainable BatchNorm layer, ``adapt_batch_norm=False`` to turn
    it off); history holds ``loss``, ``label_loss``, ``adaptation_loss`` (the regularizer) and
    ``label_accuracy``. Runs on the TensorFlow and JAX backends.

    Args:
        feature_extractor: any Keras model or layer mapping inputs to ``(batch, d)`` features.
        label_head: a Keras layer/model producing class probabilities, or an int ``num_classes``.
        regularizer: ``"mcc"`` (default), ``"entropy"``, or a `keras.losses.Loss` as above.
        adaptation_weight: the regularizer's weight, a float >= 0 or a
            `keras_transfer.schedules.ReversalSchedule` (``weight``, its old name, is accepted
            until the next release).
        **kwargs: ``bottleneck``, ``label_smoothing``, ``head_lr_multiplier`` and
            ``adapt_batch_norm`` as in `keras_transfer.models.DANN` (AdaBN on by default when
            the feature extractor, bottleneck or label head has a trainable BatchNorm layer: the
            reasons and the measurement are there), and the arguments of `keras.Model` (e.g.
            ``name``).

    Example:
        >>> import numpy as np, keras
        >>> from keras_transfer.models import TargetRegularizedModel
        >>> rng = np.random.default_rng(0)
        >>> xs, ys = rng.normal(size=(64, 2)).astype("float32"), rng.integers(0, 2, 64)
        >>> xt = (rng.normal(size=(48, 2)) + 1.0).astype("float32")
        >>> model = TargetRegularizedModel(keras.layers.Dense(8, activation="relu"), 2, "mcc")
        >>> model.compile(optimizer="adam")
        >>> history = model.fit(x=(xs, xt), y=ys, epochs=1, batch_size=16, verbose=0)
        >>> sorted(history.history)
        ['adaptation_loss', 'label_accuracy', 'label_loss', 'loss']
    """

    _deprecated_weight_name = "weight"

    def __init__(self, feature_extractor, label_head, regularizer="mcc", adaptation_weight=1.0, **kwargs):
        adaptation_weight = self._renamed_weight(adaptation_weight, 1.0, kwargs)
        super().__init__(feature_extractor, label_head, **kwargs)
        regularizer, regularizer_fn = td.resolve_loss(regularizer, "regularizer", REGULARIZERS)
        self.regularizer = regularizer
        self.regularizer_fn = regularizer_fn
        self.set_adaptation_weight(adaptation_weight)

    def adaptation_outputs(self, step):
        return step.predictions[step.num_source :]  # the target rows' class probabilities

    def adaptation_loss(self, outputs):
        return self.regularizer_fn(None, outputs)

    def get_config(self) -> dict:
        regularizer = self.regularizer
        if not isinstance(regularizer, str):
            regularizer = keras.saving.serialize_keras_object(regularizer)
        return {**super().get_config(), "regularizer": regularizer}


register_adaptation_method("mcc", TargetRegularizedModel, regularizer="mcc")
register_adaptation_method("entropy", TargetRegularizedModel, regularizer="entropy", adaptation_weight=0.1)
