"""Confidence-thresholded pseudo-label self-training with weak and strong views (FixMatch)."""

from __future__ import annotations

import numbers
from typing import Any, NamedTuple

import keras
import numpy as np
from keras import ops

from keras_transfer._validation import check_bool, check_float
from keras_transfer.api_export import export
from keras_transfer.models import _two_domain as td
from keras_transfer.models._two_domain_model import TwoDomainModel
from keras_transfer.models.adaptation_methods import register_adaptation_method


class PseudoLabels(NamedTuple):
    labels: Any  # the argmax of each weak-view target prediction
    mask: Any  # 1 where its confidence reaches the threshold, else 0
    strong_predictions: Any  # the strong view's class probabilities


def _check_value_range(value_range):
    ok = (
        isinstance(value_range, (tuple, list))
        and len(value_range) == 2
        and all(isinstance(v, numbers.Real) and not isinstance(v, (bool, np.bool_)) for v in value_range)
        and value_range[0] < value_range[1]
    )
    if not ok:
        raise ValueError(
            "`value_range` must be a (low, high) pair of numbers with low < high, the range of the "
            f"input pixels (e.g. (0, 255) or (0, 1)); received value_range={value_range!r}."
        )
    return (float(value_range[0]), float(value_range[1]))


def _augmentation(value, name: str):
    if value is None:
        return None
    return td.resolve_layer(value, name)


class WeakStrongViews:
    """The FixMatch parts of a two-domain model (mixed in before its `TwoDomainModel` base):
    weak and strong views of the target in the batch, confident weak-view pseudo-labels and the
    strong view's cross-entropy against them, the ``mask_rate`` metric and the views' config.

    The model's ``__init__`` calls ``_init_views``; the rows of a training batch are the weak
    views of source and target, then the strong view of the target.
    """

    def _init_views(self, threshold, weak_augmentation, strong_augmentation, value_range, horizontal_flip):
        self.threshold = check_float(threshold, "threshold", min_value=0.0, max_value=1.0)
        self.value_range = _check_value_range(value_range)
        self.horizontal_flip = check_bool(horizontal_flip, "horizontal_flip")
        self._default_views = (weak_augmentation is None, strong_augmentation is None)
        weak = _augmentation(weak_augmentation, "weak_augmentation")
        strong = _augmentation(strong_augmentation, "strong_augmentation")
        self.weak_augmentation = weak if weak is not None else self._default_view(strong=False)
        self.strong_augmentation = strong if strong is not None else self._default_view(strong=True)
        self.pseudo_label_loss_fn = keras.losses.SparseCategoricalCrossentropy(name="pseudo_label_loss")
        self.mask_rate_tracker = keras.metrics.Mean(name="mask_rate")

    def _default_view(self, strong: bool):
        layers = [keras.layers.RandomFlip("horizontal")] if self.horizontal_flip else []
        layers.append(keras.layers.RandomTranslation(0.125, 0.125, fill_mode="reflect"))
        if strong:
            layers += [
                keras.layers.RandAugment(value_range=self.value_range),
                keras.layers.RandomErasing(value_range=self.value_range),
            ]
        return keras.Sequential(layers, name="strong_augmentation" if strong else "weak_augmentation")

    def build(self, input_shape):
        shape = td.single_input_shape(input_shape)
        if any(self._default_views) and len(shape) != 4:
            raise ValueError(
                "The default `weak_augmentation`/`strong_augmentation` views are image "
                f"augmentations for inputs of shape (batch, height, width, channels); received "
                f"input shape {shape}. Pass both views, e.g. weak_augmentation="
                "keras.layers.GaussianNoise(0.05), strong_augmentation=keras.layers.GaussianNoise(0.3)."
            )
        super().build(input_shape)

    def two_domain_batch(self, source, target, training):
        if not training:
            return ops.concatenate([source, target, target], axis=0)
        weak = self.weak_augmentation(ops.concatenate([source, target], axis=0), training=True)
        strong = self.strong_augmentation(target, training=True)
        return ops.concatenate([ops.cast(weak, "float32"), ops.cast(strong, "float32")], axis=0)

    def _pseudo_labels(self, step) -> PseudoLabels:
        num_source, num_target = step.num_source, ops.shape(step.target)[0]
        weak = ops.stop_gradient(step.predictions[num_source : num_source + num_target])
        confidence = ops.max(weak, axis=-1)
        return PseudoLabels(
            labels=ops.argmax(weak, axis=-1),
            mask=ops.cast(confidence >= self.threshold, "float32"),
            strong_predictions=step.predictions[num_source + num_target :],
        )

    def _pseudo_label_loss(self, outputs: PseudoLabels):
        return self.pseudo_label_loss_fn(outputs.labels, outputs.strong_predictions, outputs.mask)

    def get_config(self) -> dict:
        weak, strong = (
            None if default else keras.saving.serialize_keras_object(layer)
            for default, layer in zip(self._default_views, (self.weak_augmentation, self.strong_augmentation))
        )
        return {
            **super().get_config(),
            "threshold": self.threshold,
            "weak_augmentation": weak,
            "strong_augmentation": strong,
            "value_range": list(self.value_range),
            "horizontal_flip": self.horizontal_flip,
        }


@export
class SelfTraining(WeakStrongViews, TwoDomainModel):
    """Self-training on the target with confident pseudo-labels and weak/strong views.

    FixMatch (Sohn et al., "FixMatch: Simplifying Semi-Supervised Learning with Consistency and
    Confidence", NeurIPS 2020) applied to domain adaptation: each step classifies a weakly
    augmented view of every target example; where the top probability is at least
    ``threshold``, its argmax becomes a pseudo-label, and the cross-entropy of a strongly
    augmented view against that label is added to the source cross-entropy (averaged over the
    whole target batch, so examples below the threshold count as zero). The weak predictions
    carry no gradient. The source batch goes through the weak view. All three views share one
    forward pass; with ``adapt_batch_norm=False`` BatchNorm normalises them together, as in
    FixMatch. With AdaBN (``adapt_batch_norm="auto"``, the default, turns it on when the feature
    extractor, bottleneck or label head has a trainable BatchNorm layer) the source rows are
    normalised on their own and both target views together, and ``fit`` ends with target
    statistics (see `keras_transfer.models.DANN` for why it is the default).

    The views are Keras preprocessing layers (active only in training; ``predict`` and
    ``evaluate`` see the inputs as they are). Defaults, for images ``(batch, h, w, c)`` whose
    pixels lie in ``value_range``: weak = ``RandomFlip("horizontal")`` (if ``horizontal_flip``)
    + ``RandomTranslation(0.125, 0.125, fill_mode="reflect")``; strong = the same + ``
    keras.layers.RandAugment(value_range)`` + ``keras.layers.RandomErasing(value_range)`` (the
    cutout of FixMatch). RandAugment's colour operations expect 3 channels. For digits pass
    ``horizontal_flip=False``; for non-image inputs pass both views (e.g.
    ``keras.layers.GaussianNoise``).

    Same data convention as `keras_transfer.models.DANN`; history holds ``loss``,
    ``label_loss``, ``adaptation_loss`` (the pseudo-label loss), ``mask_rate`` (the share of target examples above the
    threshold) and ``label_accuracy``. Runs on the TensorFlow and JAX backends (the default
    strong view takes long to compile under JAX).

    Args:
        feature_extractor: any Keras model or layer mapping inputs to ``(batch, d)`` features.
        label_head: a Keras layer/model producing class probabilities, or an int ``num_classes``.
        threshold: ``tau``, the confidence a weak-view prediction needs to become a
            pseudo-label, in [0, 1] (0.95 in FixMatch).
        adaptation_weight: the weight of the pseudo-label loss, a float >= 0 (1 in FixMatch) or
            a `keras_transfer.schedules.ReversalSchedule` (``weight``, its old name, is accepted
            until the next release).
        weak_augmentation: a Keras layer (e.g. a ``keras.Sequential`` of preprocessing layers)
            or None for the default image view.
        strong_augmentation: a Keras layer or None for the default image view.
        value_range: the ``(low, high)`` range of the input pixels, for the default views.
        horizontal_flip: whether the default views flip images horizontally.
        **kwargs: ``bottleneck``, ``label_smoothing``, ``head_lr_multiplier`` and
            ``adapt_batch_norm`` as in `keras_transfer.models.DANN`, and the arguments of
            `keras.Model` (e.g. ``name``).

    Example:
        >>> import numpy as np, keras
        >>> from keras_transfer.models import SelfTraining
        >>> rng = np.random.default_rng(0)
        >>> xs = rng.normal(size=(64, 2)).astype("float32")
        >>> ys = (xs[:, 0] > 0).astype("int32")
        >>> xt = (rng.normal(size=(48, 2)) + 0.5).astype("float32")
        >>> model = SelfTraining(
        ...     keras.layers.Dense(8, activation="relu"), 2, threshold=0.9,
        ...     weak_augmentation=keras.layers.GaussianNoise(0.05),
        ...     strong_augmentation=keras.layers.GaussianNoise(0.3))
        >>> model.compile(optimizer=keras.optimizers.Adam(0.05))
        >>> history = model.fit(x=(xs, xt), y=ys, epochs=1, batch_size=16, verbose=0)
        >>> sorted(history.history)
        ['adaptation_loss', 'label_accuracy', 'label_loss', 'loss', 'mask_rate']
    """

    _deprecated_weight_name = "weight"

    def __init__(
        self,
        feature_extractor,
        label_head,
        threshold: float = 0.95,
        adaptation_weight=1.0,
        weak_augmentation=None,
        strong_augmentation=None,
        value_range=(0, 255),
        horizontal_flip: bool = True,
        **kwargs,
    ):
        adaptation_weight = self._renamed_weight(adaptation_weight, 1.0, kwargs)
        super().__init__(feature_extractor, label_head, **kwargs)
        self.set_adaptation_weight(adaptation_weight)
        self._init_views(threshold, weak_augmentation, strong_augmentation, value_range, horizontal_flip)

    # ----- graph -------------------------------------------------------------------------------
    def adaptation_outputs(self, step):
        return self._pseudo_labels(step)

    # ----- loss and metrics ----------------------------------------------------------------------
    def adaptation_loss(self, outputs):
        return self._pseudo_label_loss(outputs)

    def update_adaptation_metrics(self, outputs):
        self.mask_rate_tracker.update_state(ops.mean(outputs.mask))


register_adaptation_method("self_training", SelfTraining, needs_rgb=True, value_range=(0, 255))
