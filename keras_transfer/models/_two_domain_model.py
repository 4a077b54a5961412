"""The skeleton the two-domain models share: one feature extractor (and an optional bottleneck)
over source and target, a label head, an adaptation term added to the source cross-entropy.

Subclasses define ``_domain_outputs(source, target, features, predictions, num_source,
training)`` (the extra outputs of a two-domain call; ``features`` and ``predictions`` cover every
row of the two-domain batch), ``_adaptation_term(y_pred)`` (an unweighted loss),
``_adaptation_weight``, ``_track_adaptation(y_pred, term)`` (their own metrics) and optionally
``_two_domain_batch(source, target, training)`` (the rows fed to the network, default source
then target) and ``_plan(planned_steps)``.

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

import keras
import numpy as np
from keras import ops

from keras_transfer._validation import check_finite, check_float
from keras_transfer.adaptation.batch_norm import adapt_batch_norm as _adapt_batch_norm
from keras_transfer.image_io import is_path_input
from keras_transfer.models import _two_domain as td
from keras_transfer.models._guards import with_loss_guard
from keras_transfer.models._multi_worker import MultiWorkerFit
from keras_transfer.models._resumable import SeedStateSaving, reset_initial_epoch
from keras_transfer.streaming import as_model_input, is_streaming_input, two_domain_dataset


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
    """Base of the models trained with ``fit(x=(source_x, target_x), y=source_y)``."""

    _adaptation_weight = 1.0

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
                td.has_trainable_batch_norm(layer)
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

    def _two_domain_batch(self, source, target, training):
        return ops.concatenate([source, target], axis=0)

    def call(self, inputs, training=False):
        source, target = td.split_call_inputs(inputs)
        if target is None:
            return self.label_head(self._features(source, training), training=training)
        num_source = ops.shape(source)[0]
        batch = self._two_domain_batch(source, target, training)
        if training and self.uses_adabn():  # each domain normalised with its own statistics
            features = ops.concatenate(
                [self._features(batch[:num_source], training), self._features(batch[num_source:], training)],
                axis=0,
            )
        else:
            features = self._features(batch, training)
        predictions = self.label_head(features, training=training)
        return {
            "label": predictions[:num_source],
            **self._domain_outputs(source, target, features, predictions, num_source, training),
        }

    # ----- loss and metrics ----------------------------------------------------------------------
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
        """Hook: called by ``fit`` with the number of steps it will run (None if unknown)."""

    def fit(
        self,
        x=None,
        y=None,
        batch_size=None,
        epochs=1,
        steps_per_epoch=None,
        **kwargs,
    ):
        """`keras.Model.fit` on ``x=(source_x, target_x), y=source_y`` or a
        ``((source_x, target_x), source_y)`` dataset; see the class docstring.

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
        orders than in uninterrupted training (measured: weights apart by up to 0.18 after two
        resumed epochs of a small DANN); pass ``shuffle=False`` there for an exact resume (the
        source-target pairs are still shuffled once, by the cycling). The AdaBN re-estimation
        runs at the end of the call that completes the training.

        Either domain may also be a folder, a list of image files or a `tf.data.Dataset` of
        images: ``fit(x=("photos/", "sketches/"))`` streams both with
        `keras_transfer.streaming.two_domain_dataset` (source labels: ``y``, or the source
        folder's class sub-folders when ``y`` is None; an epoch is one pass over the larger
        domain with the smaller one cycled, both reshuffled every epoch; images resized to the
        feature extractor's ``input_size`` when it has one; unreadable files skipped with a message).
        """
        if self.adapt_batch_norm is True and not td.has_trainable_batch_norm(self):
            raise ValueError(
                "`adapt_batch_norm=True` needs a trainable BatchNormalization layer in the model; "
                f"{type(self).__name__} {self.name!r} has none. Add one (e.g. bottleneck=256) or "
                "set adapt_batch_norm=False (or 'auto': on only when the model has one)."
            )
        adapt = self.uses_adabn()
        if isinstance(x, (tuple, list)) and len(x) == 2 and any(is_streaming_input(part) for part in x):
            td.check_labels_structure(y)
            x = two_domain_dataset(
                x[0],
                x[1],
                y,
                image_size=getattr(self.feature_extractor, "input_size", None),
                batch_size=batch_size or 32,
                steps_per_epoch=steps_per_epoch,
                shuffle=kwargs.pop("shuffle", True),
                seed=np.random.randint(2**31),
            )
            y = batch_size = steps_per_epoch = None  # the dataset carries them
        if td._is_dataset(x):
            kwargs.setdefault("shuffle", False)  # a dataset shuffles itself; avoids Keras' warning
            if y is not None:
                raise ValueError(
                    "`y` must be None when `x` is a tf.data.Dataset (the dataset yields the source labels)."
                )
            planned = td.check_dataset(x, epochs, steps_per_epoch)
            if adapt:  # one epoch of the dataset's target part
                target = x.map(lambda inputs, *rest: inputs[1])
                target = target.take(steps_per_epoch) if steps_per_epoch else target
            train_x, train_y = x, y
            spec = x.element_spec[0][0].shape
            input_shape = tuple(spec) if spec.rank is not None else (None, None)
        else:
            train_x, train_y, sample_weight, planned = td.prepare_arrays(
                x,
                y,
                batch_size,
                epochs,
                steps_per_epoch,
                seed=np.random.randint(2**31),
                num_classes=self._num_classes(),
                sample_weight=kwargs.get("sample_weight"),
            )
            if sample_weight is not None:
                kwargs["sample_weight"] = sample_weight
            target = np.asarray(x[1])
            input_shape = train_x[0].shape
        shape = (None, *input_shape[1:])
        if not self.built and None not in shape[1:]:  # else Keras builds it from the first batch
            # now, before the callbacks run: BackupAndRestore restores built variables
            with self._strategy_scope():  # Keras' pattern: fit called after `strategy.scope()` ends
                self.build(shape)
        self._plan(planned)
        reset_initial_epoch(self)
        kwargs["callbacks"] = with_loss_guard(kwargs.get("callbacks"))
        history = super().fit(
            x=train_x,
            y=train_y,
            batch_size=batch_size,
            epochs=epochs,
            steps_per_epoch=steps_per_epoch,
            **kwargs,
        )
        if adapt:
            _adapt_batch_norm(self, target, batch_size=batch_size or 32, verbose=0)
        return history

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
        }

    @classmethod
    def from_config(cls, config):
        return cls(**config)
