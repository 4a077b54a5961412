"""Deep CORAL / DAN-style adaptation: source classification + weight * feature discrepancy."""

from __future__ import annotations

import keras

from keras_transfer._validation import check_float
from keras_transfer.adaptation.coral import CORALLoss
from keras_transfer.adaptation.mmd import MMDLoss
from keras_transfer.api_export import export
from keras_transfer.models import _two_domain as td
from keras_transfer.models._two_domain_model import TwoDomainModel

DISCREPANCIES = {"coral": CORALLoss, "mmd": MMDLoss}


@export
class DiscrepancyModel(TwoDomainModel):
    """Classifier trained on labelled source data while aligning source and target features.

    Loss = cross-entropy on the source + ``weight * discrepancy(source_features,
    target_features)``, with ``discrepancy`` CORAL (Sun and Saenko, "Deep CORAL", ECCV-W 2016)
    or multi-kernel MMD (Long et al., "Deep Adaptation Networks", ICML 2015) or any loss object
    called as ``loss(source_features, target_features)``.

    Same data convention as `keras_transfer.models.DANN`: ``fit(x=(source_x, target_x),
    y=source_y)`` or a dataset of ``((source_x, target_x), source_y)``; ``predict(x)`` returns
    class probabilities. History holds ``loss``, ``label_loss``, ``discrepancy`` and
    ``label_accuracy``. Runs on the TensorFlow and JAX backends.

    To add the discrepancy to a model of your own instead, compute the features of both
    domains in its ``compute_loss`` and add ``weight * keras_transfer.adaptation.CORALLoss()(
    source_features, target_features)``: this class is exactly that.

    Args:
        feature_extractor: any Keras model or layer mapping inputs to ``(batch, d)`` features.
        label_head: a Keras layer/model producing class probabilities, or an int ``num_classes``.
        discrepancy: ``"coral"``, ``"mmd"``, or a `keras.losses.Loss` taking
            ``(source_features, target_features)``.
        weight: the discrepancy weight (lambda), a float >= 0.
        **kwargs: ``bottleneck``, ``label_smoothing``, ``head_lr_multiplier`` and
            ``adapt_batch_norm`` as in `keras_transfer.models.DANN` (with a bottleneck the
            discrepancy is measured on the bottleneck features), and the arguments of
            `keras.Model` (e.g. ``name``). AdaBN is on by default when the feature extractor,
            bottleneck or label head has a trainable BatchNorm layer (the reasons and the
            measurement are in `keras_transfer.models.DANN`); the discrepancy is then measured
            between features whose BatchNorm layers normalised each domain with its own
            statistics, and the fitted model normalises with target statistics.

    Example:
        >>> import numpy as np, keras
        >>> from keras_transfer.models import DiscrepancyModel
        >>> rng = np.random.default_rng(0)
        >>> xs, ys = rng.normal(size=(64, 2)).astype("float32"), rng.integers(0, 2, 64)
        >>> xt = (2.0 * rng.normal(size=(64, 2))).astype("float32")
        >>> model = DiscrepancyModel(keras.layers.Dense(8, activation="relu"), 2, "coral")
        >>> model.compile(optimizer="adam")
        >>> history = model.fit(x=(xs, xt), y=ys, epochs=1, batch_size=32, verbose=0)
        >>> sorted(history.history)
        ['discrepancy', 'label_accuracy', 'label_loss', 'loss']
    """

    def __init__(self, feature_extractor, label_head, discrepancy="coral", weight: float = 1.0, **kwargs):
        super().__init__(feature_extractor, label_head, **kwargs)
        discrepancy, discrepancy_fn = td.resolve_loss(discrepancy, "discrepancy", DISCREPANCIES)
        weight = check_float(weight, "weight", min_value=0.0)
        self.discrepancy = discrepancy
        self.discrepancy_fn = discrepancy_fn
        self.weight = weight
        self.discrepancy_tracker = keras.metrics.Mean(name="discrepancy")

    def _domain_outputs(self, source, target, features, predictions, num_source, training):
        return {"source_features": features[:num_source], "target_features": features[num_source:]}

    @property
    def _adaptation_weight(self):
        return self.weight

    def _adaptation_term(self, y_pred):
        return self.discrepancy_fn(y_pred["source_features"], y_pred["target_features"])

    def _track_adaptation(self, y_pred, term):
        self.discrepancy_tracker.update_state(term)

    def get_config(self) -> dict:
        discrepancy = self.discrepancy
        if not isinstance(discrepancy, str):
            discrepancy = keras.saving.serialize_keras_object(discrepancy)
        return {
            **super().get_config(),
            "discrepancy": discrepancy,
            "weight": self.weight,
        }
