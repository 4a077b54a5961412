"""Deep CORAL / DAN-style adaptation: source classification + weight * feature discrepancy."""
from __future__ import annotations

import keras
import numpy as np
from keras import ops

from keras_transfer.adaptation import _two_domain as td
from keras_transfer.adaptation.coral import CORALLoss
from keras_transfer.adaptation.mmd import MMDLoss
from keras_transfer.api_export import export

DISCREPANCIES = {"coral": CORALLoss, "mmd": MMDLoss}


@export
class DiscrepancyModel(keras.Model):
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
        **kwargs: passed to `keras.Model`.

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
        super().__init__(**kwargs)
        self.feature_extractor = td.resolve_layer(feature_extractor, "feature_extractor")
        if isinstance(label_head, (int, np.integer)) and not isinstance(label_head, bool):
            if label_head < 2:
                raise ValueError(
                    f"`label_head` as num_classes must be >= 2; received label_head={label_head}."
                )
            label_head = keras.layers.Dense(int(label_head), activation="softmax", dtype="float32")
        self.label_head = td.resolve_layer(label_head, "label_head")
        if isinstance(discrepancy, dict):
            discrepancy = keras.saving.deserialize_keras_object(discrepancy)
        if isinstance(discrepancy, str):
            if discrepancy not in DISCREPANCIES:
                raise ValueError(
                    f"`discrepancy` must be one of {sorted(DISCREPANCIES)} or a keras.losses.Loss; "
                    f"received discrepancy={discrepancy!r}."
                )
            discrepancy_fn = DISCREPANCIES[discrepancy]()
        elif isinstance(discrepancy, keras.losses.Loss):
            discrepancy_fn = discrepancy
        else:
            raise ValueError(
                "`discrepancy` must be 'coral', 'mmd' or a keras.losses.Loss; received "
                f"{type(discrepancy).__name__}."
            )
        if isinstance(weight, bool) or not isinstance(weight, (int, float)) or not weight >= 0:
            raise ValueError(f"`weight` must be a float >= 0; received weight={weight!r}.")
        self.discrepancy = discrepancy
        self.discrepancy_fn = discrepancy_fn
        self.weight = float(weight)
        self.label_loss_fn = keras.losses.SparseCategoricalCrossentropy(name="label_loss")
        self.label_accuracy = keras.metrics.SparseCategoricalAccuracy(name="label_accuracy")
        self.label_loss_tracker = keras.metrics.Mean(name="label_loss")
        self.discrepancy_tracker = keras.metrics.Mean(name="discrepancy")

    def build(self, input_shape):
        shape = td.single_input_shape(input_shape)
        self.label_head(self.feature_extractor(keras.KerasTensor(shape)))
        self.built = True

    def call(self, inputs, training=False):
        source, target = td.split_call_inputs(inputs)
        if target is None:
            return self.label_head(self.feature_extractor(source, training=training), training=training)
        num_source = ops.shape(source)[0]
        features = self.feature_extractor(ops.concatenate([source, target], axis=0), training=training)
        return {
            "label": self.label_head(features[:num_source], training=training),
            "source_features": features[:num_source],
            "target_features": features[num_source:],
        }

    def _task_losses(self, y, y_pred, sample_weight):
        td.check_labels_structure(y)
        if y is None:
            raise ValueError("`y` (the source labels) is required to compute the loss.")
        if not isinstance(y_pred, dict):
            return self.label_loss_fn(y, y_pred, sample_weight), None
        label = self.label_loss_fn(y, y_pred["label"], sample_weight)
        gap = self.discrepancy_fn(y_pred["source_features"], y_pred["target_features"])
        return label, gap

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        label, gap = self._task_losses(y, y_pred, sample_weight)
        total = label if gap is None else label + self.weight * gap
        for loss in self.losses:
            total = total + ops.cast(ops.sum(loss), total.dtype)
        return total

    def compute_metrics(self, x, y, y_pred, sample_weight=None):
        label, gap = self._task_losses(y, y_pred, sample_weight)
        self.label_loss_tracker.update_state(label)
        probabilities = y_pred
        if isinstance(y_pred, dict):
            probabilities = y_pred["label"]
            self.discrepancy_tracker.update_state(gap)
        self.label_accuracy.update_state(y, probabilities, sample_weight)
        return super().compute_metrics(x, y, probabilities, sample_weight)

    def fit(self, x=None, y=None, batch_size=None, epochs=1, steps_per_epoch=None, **kwargs):
        """`keras.Model.fit` on ``x=(source_x, target_x), y=source_y`` or a dataset of
        ``((source_x, target_x), source_y)``."""
        if td._is_dataset(x):
            kwargs.setdefault("shuffle", False)  # a dataset shuffles itself; avoids Keras' warning
            if y is not None:
                raise ValueError("`y` must be None when `x` is a tf.data.Dataset.")
            td.check_dataset(x, epochs, steps_per_epoch)
        else:
            x, y, _ = td.prepare_arrays(
                x, y, batch_size, epochs, steps_per_epoch, seed=np.random.randint(2**31)
            )
        return super().fit(
            x=x, y=y, batch_size=batch_size, epochs=epochs, steps_per_epoch=steps_per_epoch, **kwargs
        )

    def get_config(self) -> dict:
        discrepancy = self.discrepancy
        if not isinstance(discrepancy, str):
            discrepancy = keras.saving.serialize_keras_object(discrepancy)
        return {
            **super().get_config(),
            "feature_extractor": keras.saving.serialize_keras_object(self.feature_extractor),
            "label_head": keras.saving.serialize_keras_object(self.label_head),
            "discrepancy": discrepancy,
            "weight": self.weight,
        }

    @classmethod
    def from_config(cls, config):
        return cls(**config)
