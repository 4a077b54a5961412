"""The skeleton the two-domain models share: one feature extractor (and an optional bottleneck)
over source and target, a label head, an adaptation term added to the source cross-entropy.

A method is a subclass that defines two hooks (documented on `TwoDomainModel`):
``adaptation_outputs(step)`` (what the method needs from a two-domain forward pass, given a
`TwoDomainStep`) and ``adaptation_loss(outputs)`` (the unweighted adaptation term), and
optionally ``update_adaptation_metrics(outputs)`` (its own metrics, logged beside the common
``adaptation_loss``) and ``two_domain_batch(source, target, training)`` (the rows fed to the
network; default source then target). The term is computed once per step, in ``call``, and
returned in a `TwoDomainOutputs` that ``compute_loss`` and ``compute_metrics`` both read (on JAX,
``compute_loss`` runs inside the traced gradient function and ``compute_metrics`` outside it, so
the term travels in the outputs rather than on ``self``).

Options shared by every subclass (keyword arguments of their constructors):

- ``bottleneck``: an int ``n`` inserts ``Dense(n) -> BatchNormalization -> ReLU`` between the
  feature extractor and the heads (as the Transfer-Learning-Library does for DANN, CDAN, MCC),
  or a Keras layer, or None (no bottleneck).
- ``label_smoothing``: label smoothing of the source cross-entropy, a float in [0, 1).
- ``head_lr_multiplier``: the learning rate of everything but the feature extractor
  (bottleneck, label head, domain head) relative to the optimizer's, a float > 0. ``compile``
  wraps the optimizer in a `keras.optimizers.MultiOptimizer` whose feature-extractor part keeps
  the given rate; the Transfer-Learning-Library trains new heads at 10x the backbone.
- ``adapt_batch_norm``: AdaBN, ``"auto"`` (default), True or False. When on, the feature
  extractor and bottleneck normalise each domain with its own batch statistics in training, and
  ``fit`` ends by re-estimating the BatchNorm moving statistics on the target. ``"auto"`` turns it
  on, at ``fit`` time, when a trainable BatchNormalization layer lies on the prediction path
  (feature extractor, bottleneck or label head; e.g. ``bottleneck=256`` or
  `keras_transfer.models.lenet_networks`); a model without one trains exactly as with False.
  Why it is the default: see the ``adapt_batch_norm`` argument of `keras_transfer.models.DANN`.

``fit`` builds the model from the shapes of its data before Keras' ``fit`` starts (so callbacks
that need built variables, such as `keras.callbacks.BackupAndRestore`, work on the first call),
and the saved weights include the states of the random seed generators (dropout, noise and
augmentation layers), so a resumed training draws the same random numbers as an uninterrupted one.
"""

from __future__ import annotations

import contextlib
import warnings
from typing import Any, NamedTuple

import keras
import numpy as np
from keras import ops

from keras_transfer._validation import check_bool, check_finite, check_float
from keras_transfer.adaptation.batch_norm import adapt_batch_norm as _adapt_batch_norm
from keras_transfer.adaptation.collapse import CHECK_ROWS, check_collapse, warn_if_collapsed
from keras_transfer.image_io import is_path_input
from keras_transfer.models import _two_domain as td
from keras_transfer.models._adaptation_weight import (
    ScheduledWeight,
    check_adaptation_weight,
    serialize_adaptation_weight,
)
from keras_transfer.models._guards import with_loss_guard
from keras_transfer.models._multi_worker import MultiWorkerFit
from keras_transfer.models._resumable import SeedStateSaving, reset_initial_epoch
from keras_transfer.models._two_domain_data import check_labels_structure, training_input
from keras_transfer.policies.batch_norm import batch_norm_layers
from keras_transfer.schedules.reversal_schedule import ReversalSchedule
from keras_transfer.streaming import as_model_input


class TwoDomainStep(NamedTuple):
    """A two-domain forward pass, as the ``adaptation_outputs`` hook sees it.

    Attributes:
        source: the source inputs of the batch.
        target: the target inputs of the batch.
        features: the features (after the bottleneck) of every row fed to the network
            (``two_domain_batch``: source rows first).
        predictions: the label head's class probabilities of the same rows.
        num_source: the number of source rows (a scalar tensor).
        training: whether this is a training call.
    """

    source: Any
    target: Any
    features: Any
    predictions: Any
    num_source: Any
    training: bool


class TwoDomainOutputs(NamedTuple):
    """What a two-domain call returns; Keras hands it to ``compute_loss`` and ``compute_metrics``.

    Attributes:
        label: the class probabilities of the source rows.
        adaptation_loss: the unweighted adaptation term of this batch (a scalar).
        adaptation_weight: its weight in the loss this step (a scalar).
        extras: what the method's ``adaptation_outputs`` returned (for its own metrics).
    """

    label: Any
    adaptation_loss: Any
    adaptation_weight: Any
    extras: Any


class SmoothedSparseCrossentropy(keras.losses.Loss):
    """Sparse categorical cross-entropy on probabilities with label smoothing."""

    def __init__(self, label_smoothing: float, name: str = "label_loss", **kwargs):
        super().__init__(name=name, **kwargs)
        self.label_smoothing = label_smoothing

    def call(self, y_true, y_pred):
        labels = ops.cast(ops.reshape(y_true, (-1,)), "int32")
        one_hot = ops.one_hot(labels, y_pred.shape[-1], dtype=y_pred.dtype)
        return keras.losses.categorical_crossentropy(one_hot, y_pred, label_smoothing=self.label_smoothing)


def _bottleneck_layer(units: int):
    return keras.Sequential(
        [keras.layers.Dense(units), keras.layers.BatchNormalization(), keras.layers.ReLU()],
        name="bottleneck",
    )


def _scaled_learning_rate(learning_rate, factor: float):
    if isinstance(learning_rate, (int, float, np.floating, np.integer)):
        return float(learning_rate) * factor
    schedule = learning_rate
    if isinstance(schedule, dict):
        schedule = keras.saving.deserialize_keras_object(schedule)
    config = schedule.get_config() if hasattr(schedule, "get_config") else {}
    if "initial_learning_rate" not in config:
        raise ValueError(
            "`head_lr_multiplier` needs the optimizer's learning rate to be a float or a "
            "schedule with an `initial_learning_rate` (e.g. DANNLearningRate, CosineDecay); "
            f"received {type(schedule).__name__}. Build a keras.optimizers.MultiOptimizer yourself "
            "and pass it to compile (it is used as given)."
        )
    return type(schedule).from_config(
        {**config, "initial_learning_rate": config["initial_learning_rate"] * factor}
    )


class _HeadSelector:
    """Picks the optimizer of a variable: ``base`` for the feature extractor's, ``heads`` for the
    rest (bottleneck, label head, domain head). Matched by identity, so it does not depend on
    variable paths (which differ between a model built in ``fit`` and one loaded from a file)."""

    def __init__(self, model, base, heads):
        self.model, self.base, self.heads = model, base, heads

    def __call__(self, variable):
        extractor = {id(v) for v in self.model.feature_extractor.weights}
        return self.base if id(variable) in extractor else self.heads


class TwoDomainModel(SeedStateSaving, MultiWorkerFit, keras.Model):
    """Base of the models trained with ``fit(x=(source_x, target_x), y=source_y)``.

    A domain-adaptation method subclasses it, takes ``adaptation_weight`` (a float or a
    `keras_transfer.schedules.ReversalSchedule`; stored with `set_adaptation_weight`), defines
    the hooks ``adaptation_outputs`` and ``adaptation_loss`` (and, if it logs more,
    ``update_adaptation_metrics``), and registers itself with
    `keras_transfer.models.register_adaptation_method`. The loss is the source cross-entropy plus
    ``adaptation_weight * adaptation_loss``; history holds ``loss``, ``label_loss``,
    ``label_accuracy`` and ``adaptation_loss`` (the unweighted term), and the method's extras.
    The options every subclass shares (``bottleneck``, ``label_smoothing``,
    ``head_lr_multiplier``, ``adapt_batch_norm``) are described in the module docstring and in
    `keras_transfer.models.DANN`.

    Example:
        >>> import keras
        >>> from keras_transfer.models import TwoDomainModel
        >>> class MeanDifference(TwoDomainModel):  # align the feature means of the domains
        ...     def __init__(self, feature_extractor, label_head, adaptation_weight=1.0, **kwargs):
        ...         super().__init__(feature_extractor, label_head, **kwargs)
        ...         self.set_adaptation_weight(adaptation_weight)
        ...     def adaptation_outputs(self, step):
        ...         return step.features[: step.num_source], step.features[step.num_source :]
        ...     def adaptation_loss(self, outputs):
        ...         source, target = outputs
        ...         difference = keras.ops.mean(source, 0) - keras.ops.mean(target, 0)
        ...         return keras.ops.sum(difference**2)
        >>> import numpy as np
        >>> rng = np.random.default_rng(0)
        >>> xs, ys, xt = rng.normal(size=(32, 2)), rng.integers(0, 2, 32), rng.normal(size=(32, 2)) + 1
        >>> model = MeanDifference(keras.layers.Dense(4), 2, adaptation_weight=0.5)
        >>> model.compile(optimizer="adam")
        >>> sorted(model.fit(x=(xs, xt), y=ys, epochs=1, verbose=0).history)
        ['adaptation_loss', 'label_accuracy', 'label_loss', 'loss']
    """

    _deprecated_weight_name: str | None = None
    """The old name of ``adaptation_weight`` in this class (accepted for one release)."""

    def __init__(
        self,
        feature_extractor,
        label_head,
        *,
        bottleneck=None,
        label_smoothing: float = 0.0,
        head_lr_multiplier: float = 1.0,
        adapt_batch_norm: bool | str = "auto",
        **kwargs,
    ):
        super().__init__(**kwargs)
        self._weight_planned_by_fit = False  # set by fit when it fills in a schedule's total_steps
        self.feature_extractor = td.resolve_layer(feature_extractor, "feature_extractor")
        if isinstance(label_head, (int, np.integer)) and not isinstance(label_head, (bool, np.bool_)):
            if label_head < 2:
                raise ValueError(
                    f"`label_head` as num_classes must be >= 2; received label_head={label_head}."
                )
            label_head = keras.layers.Dense(
                int(label_head), activation="softmax", dtype="float32", name="label_head"
            )
        self.label_head = td.resolve_layer(label_head, "label_head")
        self._bottleneck_units = None
        if bottleneck is None:
            self.bottleneck = None
        elif isinstance(bottleneck, (int, np.integer)) and not isinstance(bottleneck, (bool, np.bool_)):
            if bottleneck < 1:
                raise ValueError(
                    "`bottleneck` must be a positive number of units, a Keras layer or None; "
                    f"received bottleneck={bottleneck}."
                )
            self._bottleneck_units = int(bottleneck)
            self.bottleneck = _bottleneck_layer(int(bottleneck))
        else:
            self.bottleneck = td.resolve_layer(bottleneck, "bottleneck")
        self.label_smoothing = check_float(
            label_smoothing, "label_smoothing", min_value=0.0, max_value=1.0, max_inclusive=False
        )
        self.head_lr_multiplier = check_float(
            head_lr_multiplier, "head_lr_multiplier", min_value=0.0, min_inclusive=False
        )
        self.adapt_batch_norm = td.check_adapt_batch_norm(adapt_batch_norm)
        if self.label_smoothing:
            self.label_loss_fn = SmoothedSparseCrossentropy(self.label_smoothing)
        else:
            self.label_loss_fn = keras.losses.SparseCategoricalCrossentropy(name="label_loss")
        self.label_accuracy = keras.metrics.SparseCategoricalAccuracy(name="label_accuracy")
        self.label_loss_tracker = keras.metrics.Mean(name="label_loss")
        self.adaptation_loss_tracker = keras.metrics.Mean(name="adaptation_loss")

    # ----- the adaptation weight -----------------------------------------------------------------
    @classmethod
    def _renamed_weight(cls, adaptation_weight, default, kwargs: dict):
        """``adaptation_weight``, or the value given under the class's deprecated name (popped
        from ``kwargs``, with a DeprecationWarning)."""
        old = cls._deprecated_weight_name
        if old is None or old not in kwargs:
            return adaptation_weight
        value = kwargs.pop(old)
        if adaptation_weight is not default:
            raise TypeError(
                f"{cls.__name__} received both `adaptation_weight` and `{old}` (its deprecated "
                "name); pass only adaptation_weight."
            )
        warnings.warn(
            f"`{old}` of {cls.__name__} is deprecated and will be removed in the next release; "
            f"pass adaptation_weight={value!r} instead.",
            DeprecationWarning,
            stacklevel=3,
        )
        try:
            return check_adaptation_weight(value)
        except (TypeError, ValueError) as exc:  # name the argument the caller used
            raise type(exc)(
                f"{exc} (received as `{old}`, the deprecated name of adaptation_weight)"
            ) from None

    def set_adaptation_weight(self, adaptation_weight) -> None:
        """Store ``adaptation_weight`` (a float >= 0 or a `ReversalSchedule`, whose steps the
        model counts and whose ``total_steps``, when None, ``fit`` fills in) as the weight of the
        adaptation term. Subclasses call it from their constructor."""
        self.adaptation_weight = check_adaptation_weight(adaptation_weight)
        if isinstance(self.adaptation_weight, ReversalSchedule):
            self.scheduled_weight = ScheduledWeight(self.adaptation_weight, name="scheduled_weight")

    def _weight_schedule(self):
        """The layer that evaluates a scheduled weight and counts its steps (None for a float)."""
        layer = getattr(self, "scheduled_weight", None)
        return layer if isinstance(layer, ScheduledWeight) else None

    def _step_weight(self, training):
        """The weight of the adaptation term in this step's loss (a float32 scalar)."""
        layer = self._weight_schedule()
        if layer is None:
            return ops.convert_to_tensor(getattr(self, "adaptation_weight", 1.0), "float32")
        return layer.value(training)

    # ----- graph -------------------------------------------------------------------------------
    def uses_adabn(self) -> bool:
        """Whether AdaBN is on: ``adapt_batch_norm`` resolved (``"auto"``: a trainable BatchNorm
        layer in the feature extractor, bottleneck or label head, the layers predictions pass
        through; a BatchNorm layer only in the domain head does not count). When True, ``fit``
        ends with target BatchNorm statistics: score the model on source data inside
        `keras_transfer.adaptation.batch_norm_statistics` (each domain with its own statistics).

        Example:
            >>> import keras
            >>> from keras_transfer.models import DANN
            >>> features = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8), keras.layers.BatchNormalization()])
            >>> DANN(features, 2).uses_adabn(), DANN(features, 2, adapt_batch_norm=False).uses_adabn()
            (True, False)
        """
        if self.adapt_batch_norm == "auto":
            return any(
                batch_norm_layers(layer, trainable=True)
                for layer in (self.feature_extractor, self.bottleneck, self.label_head)
                if layer is not None
            )
        return bool(self.adapt_batch_norm)

    def _features(self, x, training=False):
        features = self.feature_extractor(x, training=training)
        if self.bottleneck is not None:
            features = self.bottleneck(features, training=training)
        return features

    def _build_trunk(self, input_shape):
        """Build the extractor, bottleneck and label head; return symbolic (features, predictions)."""
        features = self._features(keras.KerasTensor(td.single_input_shape(input_shape)))
        return features, self.label_head(features)

    def build(self, input_shape):
        self._build_trunk(input_shape)
        self.built = True

    # ----- hooks of a method -----------------------------------------------------------------
    def two_domain_batch(self, source, target, training):
        """The rows fed to the network for a two-domain batch, source rows first (default:
        source then target; `keras_transfer.models.SelfTraining` adds augmented views)."""
        return ops.concatenate([source, target], axis=0)

    def adaptation_outputs(self, step: TwoDomainStep):
        """What the method needs from a two-domain forward pass (any structure of tensors, e.g.
        a NamedTuple), handed to ``adaptation_loss`` and ``update_adaptation_metrics``.

        Args:
            step: the `TwoDomainStep` (inputs, features and predictions of every row).
        """
        raise NotImplementedError(
            f"{type(self).__name__} must define adaptation_outputs(self, step) -> outputs, the "
            "tensors its adaptation loss needs from a two-domain forward pass (see TwoDomainModel)."
        )

    def adaptation_loss(self, outputs):
        """The unweighted adaptation term (a scalar) from ``adaptation_outputs``' return value."""
        raise NotImplementedError(
            f"{type(self).__name__} must define adaptation_loss(self, outputs) -> scalar, the "
            "unweighted adaptation term (see TwoDomainModel)."
        )

    def update_adaptation_metrics(self, outputs) -> None:
        """Update the method's own metrics (logged beside ``adaptation_loss``); default: none."""

    def call(self, inputs, training=False):
        source, target = td.split_call_inputs(inputs)
        if target is None:
            return self.label_head(self._features(source, training), training=training)
        num_source = ops.shape(source)[0]
        batch = self.two_domain_batch(source, target, training)
        if training and self.uses_adabn():  # each domain normalised with its own statistics
            features = ops.concatenate(
                [self._features(batch[:num_source], training), self._features(batch[num_source:], training)],
                axis=0,
            )
        else:
            features = self._features(batch, training)
        predictions = self.label_head(features, training=training)
        extras = self.adaptation_outputs(
            TwoDomainStep(source, target, features, predictions, num_source, training)
        )
        return TwoDomainOutputs(
            label=predictions[:num_source],
            adaptation_loss=self.adaptation_loss(extras),
            adaptation_weight=self._step_weight(training),
            extras=extras,
        )

    # ----- loss and metrics: read from the outputs of call ---------------------------------------
    def _label_loss(self, y, y_pred, sample_weight):
        check_labels_structure(y)
        if y is None:
            raise ValueError(
                f"`y` (the source labels) is required to compute the {type(self).__name__} loss."
            )
        probabilities = y_pred.label if isinstance(y_pred, TwoDomainOutputs) else y_pred
        return self.label_loss_fn(y, probabilities, sample_weight)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        total = self._label_loss(y, y_pred, sample_weight)
        if isinstance(y_pred, TwoDomainOutputs):
            weight = ops.cast(y_pred.adaptation_weight, total.dtype)
            total = total + weight * ops.cast(y_pred.adaptation_loss, total.dtype)
        for loss in self.losses:
            total = total + ops.cast(ops.sum(loss), total.dtype)
        return total

    def compute_metrics(self, x, y, y_pred, sample_weight=None):
        self.label_loss_tracker.update_state(self._label_loss(y, y_pred, sample_weight))
        probabilities = y_pred
        if isinstance(y_pred, TwoDomainOutputs):
            probabilities = y_pred.label
            self.adaptation_loss_tracker.update_state(y_pred.adaptation_loss)
            self.update_adaptation_metrics(y_pred.extras)
        self.label_accuracy.update_state(y, probabilities, sample_weight)
        return super().compute_metrics(x, y, probabilities, sample_weight)

    # ----- compile: new layers at head_lr_multiplier x the learning rate -------------------------
    def compile(self, optimizer="rmsprop", **kwargs):
        """`keras.Model.compile`; with ``head_lr_multiplier != 1`` the optimizer becomes a
        `keras.optimizers.MultiOptimizer` (a given MultiOptimizer is used as it is)."""
        self._head_lr_compile_config = None
        if self.head_lr_multiplier != 1.0:
            base = keras.optimizers.get(optimizer)
            if not isinstance(base, keras.optimizers.MultiOptimizer):
                optimizer = self._head_lr_optimizer(base)
                # saved with the plain optimizer; compile_from_config wraps it again
                self._head_lr_compile_config = {"optimizer": base, **kwargs}
        super().compile(optimizer=optimizer, **kwargs)

    def get_compile_config(self):
        if getattr(self, "_head_lr_compile_config", None) is not None:
            return keras.saving.serialize_keras_object(self._head_lr_compile_config)
        return super().get_compile_config()

    def compile_from_config(self, config):
        # Keras skips this for models that override compile
        config = keras.saving.deserialize_keras_object(config)
        self.compile(**config)
        if getattr(self, "optimizer", None) is not None and self.built:
            self.optimizer.build(self.trainable_variables)

    def _head_lr_optimizer(self, base):
        if isinstance(base, keras.optimizers.LossScaleOptimizer):
            raise ValueError(
                "`head_lr_multiplier` cannot wrap a LossScaleOptimizer; pass the plain optimizer "
                "(compile adds loss scaling under mixed precision)."
            )
        config = base.get_config()
        name = config.get("name") or "optimizer"
        heads = type(base).from_config(
            {
                **config,
                "learning_rate": _scaled_learning_rate(config["learning_rate"], self.head_lr_multiplier),
                "name": f"{name}_heads",
            }
        )
        return keras.optimizers.MultiOptimizer(_HeadSelector(self, base, heads), name=f"head_lr_{name}")

    # ----- fit -----------------------------------------------------------------------------------
    def _plan(self, planned_steps: int | None) -> None:
        """Called by ``fit`` with the number of steps it will run (None if unknown): fills in
        the ``total_steps`` of a scheduled ``adaptation_weight`` left as None."""
        layer = self._weight_schedule()
        schedule = None if layer is None else layer.schedule
        if schedule is None or not schedule.needs_total_steps:
            return
        step = int(ops.convert_to_numpy(layer.step))
        # a total filled in by an earlier fit is planned again when no step of it was taken (a
        # clone, `keras.models.clone_model` or from_config, starts its ramp from the beginning)
        replan = getattr(self, "_weight_planned_by_fit", False) and step == 0
        if schedule.total_steps is not None and not replan:
            return
        if planned_steps is None:
            raise ValueError(
                "Cannot plan the adaptation_weight schedule: the dataset has unknown or infinite "
                "length. Pass steps_per_epoch= to fit, or adaptation_weight=ReversalSchedule(..., "
                f"total_steps=N) to {type(self).__name__}."
            )
        layer.set_total_steps(step + planned_steps)
        self._weight_planned_by_fit = True
        if layer is self._weight_schedule() and isinstance(layer, ScheduledWeight):
            self.adaptation_weight = layer.schedule  # the planned schedule, for get_config

    def fit(
        self,
        x=None,
        y=None,
        batch_size=None,
        epochs=1,
        steps_per_epoch=None,
        collapse_check: bool = True,
        **kwargs,
    ):
        """`keras.Model.fit` on ``x=(source_x, target_x), y=source_y`` or a
        ``((source_x, target_x), source_y)`` dataset; see the class docstring.

        After training (and AdaBN), ``fit`` checks the fitted model for a collapse on the target
        (`keras_transfer.adaptation.check_collapse` on up to ``CHECK_ROWS`` target rows:
        their predictions against the source labels' class balance, and their features): the
        report is kept in ``collapse_report`` and a positive one raises a
        `keras_transfer.adaptation.CollapseWarning` naming the model's class and the symptom
        (e.g. "97% of target predictions are class 3 (reference share 10%)"), so an adaptation
        that pushed every target image into one class never passes silently.
        ``collapse_check=False`` skips it (``collapse_report`` is then None).

        With arrays, ``sample_weight`` holds one weight per source row; when the source is the
        smaller domain it is cycled with the source rows (same index), so each weight stays with
        its row.

        When AdaBN is on (``adapt_batch_norm=True``, or ``"auto"``, the default, with a trainable
        BatchNorm layer in the feature extractor, bottleneck or label head), ``fit`` ends by
        re-estimating every trainable BatchNorm layer's statistics on the target data
        (`keras_transfer.adaptation.adapt_batch_norm`) in batches of ``batch_size`` (32 if None);
        with a dataset, over one epoch of its target part. The model then normalises inputs with
        target statistics: evaluate it on the target (source accuracy measured afterwards is
        that of the target-normalised model).

        The model is built from the data's shapes before Keras' ``fit`` starts, so
        `keras.callbacks.BackupAndRestore` works. Its backup holds the weights (BatchNorm
        statistics and the reversal schedule's step included), the optimizer's state and the
        states of the random seed generators; the cycling of the smaller domain is drawn from
        numpy's global generator when ``fit`` starts. So a call that resumes from the backup,
        seeded as the interrupted call was (``keras.utils.set_random_seed`` before each),
        continues exactly like uninterrupted training: on the TensorFlow backend the tests find
        the same history and the same weights (difference 0, checked to 1e-6), whether or not
        Keras shuffles (seeded, its TensorFlow pipeline draws the same permutation every epoch).
        One thing is not restored: on the JAX backend Keras draws each epoch's permutation of the
        rows from numpy's global generator, so the resumed epochs see their batches in other
        orders than in uninterrupted training, and the weights end apart (the measured gap is in
        benchmarks/README.md, "Figures quoted from docstrings"); pass ``shuffle=False`` there for
        an exact resume (the source-target pairs are still shuffled once, by the cycling). The
        AdaBN re-estimation runs at the end of the call that completes the training.

        Either domain may also be a folder, a list of image files or a `tf.data.Dataset` of
        images: ``fit(x=("photos/", "sketches/"))`` streams both with
        `keras_transfer.streaming.two_domain_dataset` (source labels: ``y``, or the source
        folder's class sub-folders when ``y`` is None; an epoch is one pass over the larger
        domain with the smaller one cycled, both reshuffled every epoch; images resized to the
        feature extractor's ``input_size`` when it has one; unreadable files skipped with a message).
        """
        if self.adapt_batch_norm is True and not batch_norm_layers(self, trainable=True):
            raise ValueError(
                "`adapt_batch_norm=True` needs a trainable BatchNormalization layer in the model; "
                f"{type(self).__name__} {self.name!r} has none. Add one (e.g. bottleneck=256) or "
                "set adapt_batch_norm=False (or 'auto': on only when the model has one)."
            )
        collapse_check = check_bool(collapse_check, "collapse_check")
        adapt = self.uses_adabn()  # decided before training changes what is trainable
        data = training_input(
            x,
            y,
            batch_size,
            epochs,
            steps_per_epoch,
            kwargs,
            image_size=getattr(self.feature_extractor, "input_size", None),
            num_classes=self._num_classes(),
        )
        if not self.built and None not in data.input_shape[1:]:  # else Keras builds it from the first batch
            # now, before the callbacks run: BackupAndRestore restores built variables
            with self._strategy_scope():  # Keras' pattern: fit called after `strategy.scope()` ends
                self.build(data.input_shape)
        self._plan(data.planned_steps)
        reset_initial_epoch(self)
        fit_kwargs = {**data.fit_kwargs, "callbacks": with_loss_guard(data.fit_kwargs.get("callbacks"))}
        history = super().fit(
            x=data.x,
            y=data.y,
            batch_size=data.batch_size,
            epochs=epochs,
            steps_per_epoch=data.steps_per_epoch,
            **fit_kwargs,
        )
        if adapt:
            _adapt_batch_norm(self, data.target, batch_size=batch_size or 32, verbose=0, collapse_check=False)
        self.collapse_report = None
        if collapse_check:
            self.collapse_report = self._check_collapse(data)
            warn_if_collapsed(self.collapse_report, type(self).__name__)
        return history

    def _check_collapse(self, data):
        """`check_collapse` on up to ``CHECK_ROWS`` target rows of the training input."""
        if data.y is not None:  # arrays: the target, and the (cycled) source labels
            target, labels = np.asarray(data.target), np.asarray(data.y)
            if len(target) > CHECK_ROWS:
                rows = np.random.default_rng(0).choice(len(target), CHECK_ROWS, replace=False)
                target = target[np.sort(rows)]
        else:  # a dataset of ((source_x, target_x), source_y) batches: its first batches
            targets, label_parts, count = [], [], 0
            for (_, target_batch), label_batch, *_ in data.x:
                targets.append(np.asarray(target_batch))
                label_parts.append(np.asarray(label_batch))
                count += len(targets[-1])
                if count >= CHECK_ROWS:
                    break
            target, labels = np.concatenate(targets)[:CHECK_ROWS], np.concatenate(label_parts)
        extractor = self.feature_extractor
        if isinstance(extractor, keras.Model):  # its compiled predict: the costly part, e.g. a backbone
            extracted = [extractor.predict(target, batch_size=256, verbose=0)]
        else:
            extracted = [
                extractor(ops.convert_to_tensor(target[i : i + 256])) for i in range(0, len(target), 256)
            ]
        features, probabilities = [], []
        for batch in extracted:  # the bottleneck and the head, small layers, eagerly
            batch = ops.convert_to_tensor(batch)
            if self.bottleneck is not None:
                batch = self.bottleneck(batch, training=False)
            features.append(ops.convert_to_numpy(ops.cast(batch, "float32")))
            probabilities.append(
                ops.convert_to_numpy(ops.cast(self.label_head(batch, training=False), "float32"))
            )
        probabilities = np.concatenate(probabilities)
        labels = labels.reshape(-1).astype("int64")
        reference = np.bincount(labels[labels >= 0], minlength=probabilities.shape[-1])[
            : probabilities.shape[-1]
        ]
        return check_collapse(
            probabilities, reference_distribution=reference, features=np.concatenate(features)
        )

    def _strategy_scope(self):
        """The scope of the `tf.distribute` strategy the model was created under (TensorFlow), in
        which Keras' ``fit`` creates variables; a null context elsewhere."""
        strategy = getattr(self, "distribute_strategy", None)
        return strategy.scope() if strategy is not None else contextlib.nullcontext()

    def _num_classes(self) -> int | None:
        """The label head's output size when it is known (a Dense head), for checking labels."""
        units = getattr(self.label_head, "units", None)
        return int(units) if isinstance(units, (int, np.integer)) else None

    # ----- one domain at a time: arrays, or a folder / list of image files streamed ------------------
    def predict(self, x, *args, **kwargs):
        """`keras.Model.predict` on one domain; a folder or a list of image files is streamed (one
        row per file, sorted by path for a folder; an unreadable file raises an error naming it)."""
        if is_path_input(x):
            x, _ = as_model_input(
                x,
                image_size=getattr(self.feature_extractor, "input_size", None),
                batch_size=kwargs.pop("batch_size", None),
                labelled=False,
            )
        elif isinstance(x, np.ndarray):
            check_finite(x, "x", "values")  # NaN rows would be predicted as if they were data
        elif isinstance(x, (tuple, list)) and len(x) == 2:
            raise ValueError(
                f"`x` must be one domain's inputs: {type(self).__name__}.predict predicts one domain "
                "at a time (the label head's class probabilities); received a pair of "
                f"{len(x)} parts. Call predict(source_x) and predict(target_x) separately."
            )
        return super().predict(x, *args, **kwargs)

    def evaluate(self, x=None, y=None, *args, **kwargs):
        """`keras.Model.evaluate` on one domain; a folder or a list of image files is streamed,
        labelled by ``y`` or the folder's class sub-folders."""
        if is_path_input(x):
            x, y = as_model_input(
                x,
                y,
                image_size=getattr(self.feature_extractor, "input_size", None),
                batch_size=kwargs.pop("batch_size", None),
            )
        return super().evaluate(x, y, *args, **kwargs)

    # ----- config --------------------------------------------------------------------------------
    def get_config(self) -> dict:
        bottleneck = self._bottleneck_units
        if bottleneck is None and self.bottleneck is not None:
            bottleneck = keras.saving.serialize_keras_object(self.bottleneck)
        return {
            **super().get_config(),
            "feature_extractor": keras.saving.serialize_keras_object(self.feature_extractor),
            "label_head": keras.saving.serialize_keras_object(self.label_head),
            "bottleneck": bottleneck,
            "label_smoothing": self.label_smoothing,
            "head_lr_multiplier": self.head_lr_multiplier,
            "adapt_batch_norm": self.adapt_batch_norm,
            "adaptation_weight": serialize_adaptation_weight(getattr(self, "adaptation_weight", 1.0)),
            # True when `fit` filled in the schedule's total_steps (re-planned by a fresh copy's fit)
            "adaptation_weight_planned": bool(getattr(self, "_weight_planned_by_fit", False)),
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        old = cls._deprecated_weight_name
        if old in config and "adaptation_weight" not in config:  # saved before the rename
            config["adaptation_weight"] = config.pop(old)
        if isinstance(config.get("adaptation_weight"), dict):
            config["adaptation_weight"] = keras.saving.deserialize_keras_object(config["adaptation_weight"])
        planned = bool(config.pop("adaptation_weight_planned", False))
        model = cls(**config)
        model._weight_planned_by_fit = planned
        return model
