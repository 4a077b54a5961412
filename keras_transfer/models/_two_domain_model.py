"""The skeleton `DANN` and `DiscrepancyModel` share: one feature extractor over source and target,
a label head on the source part, an adaptation term added to the source cross-entropy.

Subclasses define ``_domain_outputs(source, target, features, num_source, training)`` (the extra
outputs of a two-domain call), ``_adaptation_term(y_pred)`` (an unweighted loss), ``_adaptation_weight``,
``_track_adaptation(y_pred, term)`` (their own metrics) and optionally ``_plan(planned_steps)``.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

from keras_transfer.models import _two_domain as td


class TwoDomainModel(keras.Model):
    """Base of the models trained with ``fit(x=(source_x, target_x), y=source_y)``."""

    _adaptation_weight = 1.0

    def _set_extractor_and_head(self, feature_extractor, label_head) -> None:
        """Resolve the two networks (an int ``label_head`` means a softmax Dense layer) and
        create the label loss and metrics."""
        self.feature_extractor = td.resolve_layer(feature_extractor, "feature_extractor")
        if isinstance(label_head, (int, np.integer)) and not isinstance(label_head, bool):
            if label_head < 2:
                raise ValueError(
                    f"`label_head` as num_classes must be >= 2; received label_head={label_head}."
                )
            label_head = keras.layers.Dense(
                int(label_head), activation="softmax", dtype="float32", name="label_head"
            )
        self.label_head = td.resolve_layer(label_head, "label_head")
        self.label_loss_fn = keras.losses.SparseCategoricalCrossentropy(name="label_loss")
        self.label_accuracy = keras.metrics.SparseCategoricalAccuracy(name="label_accuracy")
        self.label_loss_tracker = keras.metrics.Mean(name="label_loss")

    def call(self, inputs, training=False):
        source, target = td.split_call_inputs(inputs)
        if target is None:
            return self.label_head(self.feature_extractor(source, training=training), training=training)
        num_source = ops.shape(source)[0]
        features = self.feature_extractor(ops.concatenate([source, target], axis=0), training=training)
        return {
            "label": self.label_head(features[:num_source], training=training),
            **self._domain_outputs(source, target, features, num_source, training),
        }

    def _task_losses(self, y, y_pred, sample_weight):
        td.check_labels_structure(y)
        if y is None:
            raise ValueError(
                f"`y` (the source labels) is required to compute the {type(self).__name__} loss."
            )
        if not isinstance(y_pred, dict):
            return self.label_loss_fn(y, y_pred, sample_weight), None
        return self.label_loss_fn(y, y_pred["label"], sample_weight), self._adaptation_term(y_pred)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        label, term = self._task_losses(y, y_pred, sample_weight)
        total = label if term is None else label + self._adaptation_weight * term
        for loss in self.losses:
            total = total + ops.cast(ops.sum(loss), total.dtype)
        return total

    def compute_metrics(self, x, y, y_pred, sample_weight=None):
        label, term = self._task_losses(y, y_pred, sample_weight)
        self.label_loss_tracker.update_state(label)
        probabilities = y_pred
        if isinstance(y_pred, dict):
            probabilities = y_pred["label"]
            self._track_adaptation(y_pred, term)
        self.label_accuracy.update_state(y, probabilities, sample_weight)
        return super().compute_metrics(x, y, probabilities, sample_weight)

    def _plan(self, planned_steps: int | None) -> None:
        """Hook: called by ``fit`` with the number of steps it will run (None if unknown)."""

    def fit(self, x=None, y=None, batch_size=None, epochs=1, steps_per_epoch=None, **kwargs):
        """`keras.Model.fit` on ``x=(source_x, target_x), y=source_y`` or a
        ``((source_x, target_x), source_y)`` dataset; see the class docstring."""
        if td._is_dataset(x):
            kwargs.setdefault("shuffle", False)  # a dataset shuffles itself; avoids Keras' warning
            if y is not None:
                raise ValueError(
                    "`y` must be None when `x` is a tf.data.Dataset (the dataset yields the source labels)."
                )
            planned = td.check_dataset(x, epochs, steps_per_epoch)
        else:
            x, y, planned = td.prepare_arrays(
                x, y, batch_size, epochs, steps_per_epoch, seed=np.random.randint(2**31)
            )
        self._plan(planned)
        return super().fit(
            x=x, y=y, batch_size=batch_size, epochs=epochs, steps_per_epoch=steps_per_epoch, **kwargs
        )
