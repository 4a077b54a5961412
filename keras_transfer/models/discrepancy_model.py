"""Deep CORAL / DAN-style adaptation: source classification + weight * feature discrepancy."""

from __future__ import annotations

from typing import Any, NamedTuple

import keras

from keras_transfer.adaptation.coral import CORALLoss
from keras_transfer.adaptation.mmd import MMDLoss
from keras_transfer.api_export import export
from keras_transfer.models import _two_domain as td
from keras_transfer.models._two_domain_model import TwoDomainModel
from keras_transfer.models.adaptation_methods import register_adaptation_method

DISCREPANCIES = {"coral": CORALLoss, "mmd": MMDLoss}


class DomainFeatures(NamedTuple):
    source: Any  # the source rows' features
    target: Any  # the target rows' features


@export
class DiscrepancyModel(TwoDomainModel):
    """Classifier trained on labelled source data while aligning source and target features.

    Loss = cross-entropy on the source + ``adaptation_weight * discrepancy(source_features,
    target_features)``, with ``discrepancy`` CORAL (Sun and Saenko, "Deep CORAL", ECCV-W 2016)
    or multi-kernel MMD (Long et al., "Deep Adaptation Networks", ICML 2015) or any loss object
    called as ``loss(source_features, target_features)``.

    Same data convention as `keras_transfer.models.DANN`: ``fit(x=(source_x, target_x),
    y=source_y)`` or a dataset of ``((source_x, target_x), source_y)``; ``predict(x)`` returns
    class probabilities. History holds ``loss``, ``label_loss``, ``adaptation_loss`` (the
    discrepancy) and ``label_accuracy``. Runs on the TensorFlow and JAX backends.

    To add the discrepancy to a model of your own instead, compute the features of both
    domains in its ``compute_loss`` and add ``adaptation_weight * keras_transfer.adaptation.CORALLoss()(
    source_features, target_features)``: this class is exactly that.

    Args:
        feature_extractor: any Keras model or layer mapping inputs to ``(batch, d)`` features.
        label_head: a Keras layer/model producing class probabilities, or an int ``num_classes``.
        discrepancy: ``"coral"``, ``"mmd"``, or a `keras.losses.Loss` taking
            ``(source_features, target_features)``.
        adaptation_weight: the discrepancy weight (lambda), a float >= 0 or a
            `keras_transfer.schedules.ReversalSchedule` (``weight``, its old name, is accepted
            until the next release).
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
        ['adaptation_loss', 'label_accuracy', 'label_loss', 'loss']
    """

    _deprecated_weight_name = "weight"

    def __init__(self, feature_extractor, label_head, discrepancy="coral", adaptation_weight=1.0, **kwargs):
        adaptation_weight = self._renamed_weight(adaptation_weight, 1.0, kwargs)
        super().__init__(feature_extractor, label_head, **kwargs)
        discrepancy, discrepancy_fn = td.resolve_loss(discrepancy, "discrepancy", DISCREPANCIES)
        self.set_adaptation_weight(adaptation_weight)
        self.discrepancy = discrepancy
        self.discrepancy_fn = discrepancy_fn

    def adaptation_outputs(self, step):
        return DomainFeatures(step.features[: step.num_source], step.features[step.num_source :])

    def adaptation_loss(self, outputs):
        return self.discrepancy_fn(outputs.source, outputs.target)

    def get_config(self) -> dict:
        discrepancy = self.discrepancy
        if not isinstance(discrepancy, str):
            discrepancy = keras.saving.serialize_keras_object(discrepancy)
        return {**super().get_config(), "discrepancy": discrepancy}


register_adaptation_method("coral", DiscrepancyModel, discrepancy="coral")
register_adaptation_method("mmd", DiscrepancyModel, discrepancy="mmd")
