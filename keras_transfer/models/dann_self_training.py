"""DANN, then FixMatch-style self-training from its weights: one model, one ``fit``."""

from __future__ import annotations

from typing import Any, NamedTuple

import keras
from keras import ops

from keras_transfer._validation import check_float
from keras_transfer.api_export import export
from keras_transfer.models.adaptation_methods import register_adaptation_method
from keras_transfer.models.dann import DANN
from keras_transfer.models.self_training import PseudoLabels, WeakStrongViews
from keras_transfer.schedules.reversal_schedule import ReversalSchedule, add_step_counters


class PhaseSwitch(keras.layers.Layer):
    """Which phase a step of `DANNSelfTraining` is in: 0.0 (DANN) before ``switch_step`` training
    steps, 1.0 (self-training) from then on. Counts its training calls in the non-trainable
    variable ``step`` (saved with the weights, so a resumed training resumes in its phase)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.step, self.switch_step = add_step_counters(self, None)

    def value(self, training: bool = False):
        """The phase of this step (a float32 scalar); a training call also counts the step."""
        phase = ops.cast(ops.cast(self.step, "float32") >= self.switch_step, "float32")
        if training:
            self.step.assign_add(ops.cast(1, "int32"))
        return phase


class DANNSelfTrainingOutputs(NamedTuple):
    """A step's outputs of `DANNSelfTraining`: DANN's domain side, the pseudo-labels, the phase."""

    domain: Any  # keras_transfer.models.dann.DomainOutputs of the weak source and target rows
    pseudo_labels: PseudoLabels
    phase: Any  # 0.0 in the DANN phase, 1.0 in the self-training phase


@export
class DANNSelfTraining(WeakStrongViews, DANN):
    """DANN for the first part of ``fit``, then self-training from its weights, in one call.

    The best recipe of the library's benchmarks on MNIST -> MNIST-M (``benchmarks/README.md``,
    "which method when"): domain-adversarial training (`keras_transfer.models.DANN`) aligns the
    domains first, so that its target predictions are good enough to pseudo-label; then
    FixMatch-style self-training (`keras_transfer.models.SelfTraining`: confident weak-view
    predictions become labels for a strongly augmented view) sharpens the classifier on the target.
    Neither alone reaches the pair's best there.

    ``fit`` plans the phases from its number of steps: the first ``switch`` share of the steps
    trains DANN (its reversal ramp, when ``adaptation_weight`` is a schedule such as the default,
    completes over these steps), the rest trains self-training (the domain head no longer
    learns nor pushes the features). A later ``fit`` call continues in the phase where the last
    one stopped. Every step runs both parts' forward passes (the strong view costs about a third
    more rows in the DANN phase) and weighs the inactive part by 0, so one compiled step serves
    both phases and a resumed training (`keras.callbacks.BackupAndRestore`) resumes in its phase.
    The optimizer (and its learning-rate schedule) runs on across the switch.

    Data convention as `keras_transfer.models.DANN`. History holds ``loss``, ``label_loss``,
    ``label_accuracy``, ``adaptation_loss`` (the active phase's unweighted term: the domain loss,
    then the pseudo-label loss), ``domain_accuracy``, ``reversal_scale``, ``mask_rate`` (the share
    of target rows confident enough to be pseudo-labelled, measured in both phases) and ``phase``
    (the epoch's share of self-training steps). AdaBN (``adapt_batch_norm="auto"``) works as in
    DANN: the source rows are normalised on their own, both target views together, and ``fit``
    ends with target statistics.

    Args:
        feature_extractor: any Keras model or layer mapping inputs to ``(batch, d)`` features.
        label_head: a Keras layer/model producing class probabilities, or an int ``num_classes``.
        domain_head: the discriminator, as in `keras_transfer.models.DANN` (default ``"small"``).
        adaptation_weight: the reversal weight of the DANN phase, as in DANN (default: the
            paper's 0 -> 1 ramp, planned over the DANN phase).
        switch: the share of ``fit``'s steps trained as DANN before self-training starts, a
            float in [0, 1] (0: self-training only; 1: DANN only). Default 0.5, as in the
            benchmark recipe.
        threshold: the confidence a weak-view prediction needs to become a pseudo-label.
        self_training_weight: the weight of the pseudo-label loss in the self-training phase.
        weak_augmentation, strong_augmentation, value_range, horizontal_flip: the views, as in
            `keras_transfer.models.SelfTraining` (defaults: image views for pixels in
            ``value_range``; pass both views for non-image inputs, ``horizontal_flip=False`` for
            digits).
        **kwargs: ``bottleneck``, ``label_smoothing``, ``head_lr_multiplier``,
            ``adapt_batch_norm`` as in DANN, and the arguments of `keras.Model`.

    Example:
        >>> import numpy as np, keras
        >>> from keras_transfer.models import DANNSelfTraining
        >>> rng = np.random.default_rng(0)
        >>> xs = rng.normal(size=(64, 2)).astype("float32")
        >>> ys = (xs[:, 0] > 0).astype("int32")
        >>> xt = (rng.normal(size=(48, 2)) + 0.5).astype("float32")
        >>> model = DANNSelfTraining(
        ...     keras.layers.Dense(8, activation="relu"), 2, threshold=0.9,
        ...     weak_augmentation=keras.layers.GaussianNoise(0.05),
        ...     strong_augmentation=keras.layers.GaussianNoise(0.3))
        >>> model.compile(optimizer=keras.optimizers.Adam(0.05))
        >>> history = model.fit(x=(xs, xt), y=ys, epochs=2, batch_size=16, verbose=0)
        >>> history.history["phase"]  # epoch 1 trains DANN, epoch 2 self-training
        [0.0, 1.0]
    """

    def __init__(
        self,
        feature_extractor,
        label_head,
        domain_head=None,
        adaptation_weight: float | ReversalSchedule | None = None,
        switch: float = 0.5,
        threshold: float = 0.95,
        self_training_weight: float = 1.0,
        weak_augmentation=None,
        strong_augmentation=None,
        value_range=(0, 255),
        horizontal_flip: bool = True,
        **kwargs,
    ):
        super().__init__(feature_extractor, label_head, domain_head, adaptation_weight, **kwargs)
        self.switch = check_float(switch, "switch", min_value=0.0, max_value=1.0)
        self.self_training_weight = check_float(self_training_weight, "self_training_weight", min_value=0.0)
        self._init_views(threshold, weak_augmentation, strong_augmentation, value_range, horizontal_flip)
        self.phase_switch = PhaseSwitch(name="phase_switch")
        self.phase_tracker = keras.metrics.Mean(name="phase")

    # ----- planning the phases -------------------------------------------------------------------
    def _plan(self, planned_steps: int | None) -> None:
        layer = self.phase_switch
        step = int(ops.convert_to_numpy(layer.step))
        planned = float(ops.convert_to_numpy(layer.switch_step))
        replan = getattr(self, "_weight_planned_by_fit", False) and step == 0
        if planned_steps is None:
            if planned == 0.0 and step == 0:
                raise ValueError(
                    "Cannot plan the switch from DANN to self-training: the dataset has unknown or "
                    "infinite length. Pass steps_per_epoch= to fit."
                )
            return super()._plan(None)
        first = int(round(self.switch * planned_steps))
        if (planned == 0.0 and step == 0) or replan:
            layer.switch_step.assign(float(step + first))
            # the reversal ramp completes over the DANN phase
            super()._plan(max(first, 1))
            self._weight_planned_by_fit = True
        else:
            super()._plan(planned_steps)

    # ----- graph -------------------------------------------------------------------------------
    def adaptation_outputs(self, step):
        rows = step.num_source + ops.shape(step.target)[0]  # weak source and target views
        weak_step = step._replace(features=step.features[:rows], predictions=step.predictions[:rows])
        return DANNSelfTrainingOutputs(
            domain=super().adaptation_outputs(weak_step),
            pseudo_labels=self._pseudo_labels(step),
            phase=self.phase_switch.value(training=step.training),
        )

    # ----- loss and metrics ----------------------------------------------------------------------
    def adaptation_loss(self, outputs):
        phase = ops.cast(outputs.phase, "float32")
        domain = ops.cast(super().adaptation_loss(outputs.domain), "float32")
        pseudo = ops.cast(self._pseudo_label_loss(outputs.pseudo_labels), "float32")
        return (1.0 - phase) * domain + phase * self.self_training_weight * pseudo

    def update_adaptation_metrics(self, outputs):
        super().update_adaptation_metrics(outputs.domain)
        self.mask_rate_tracker.update_state(ops.mean(outputs.pseudo_labels.mask))
        self.phase_tracker.update_state(outputs.phase)

    # ----- config --------------------------------------------------------------------------------
    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "switch": self.switch,
            "self_training_weight": self.self_training_weight,
        }


register_adaptation_method("dann_self_training", DANNSelfTraining, needs_rgb=True, value_range=(0, 255))
