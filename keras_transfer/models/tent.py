"""`TENT` and `adapt_at_test_time`: test-time entropy minimisation of BatchNorm affine parameters."""

from __future__ import annotations

import contextlib
import dataclasses

import keras
import numpy as np
from keras import ops

from keras_transfer._validation import check_bool, check_count, check_int
from keras_transfer.adaptation import adapt_batch_norm, check_collapse, entropy, warn_if_collapsed
from keras_transfer.api_export import export
from keras_transfer.models._guards import with_loss_guard
from keras_transfer.models._source_free import check_inputs, copy_model, input_shape_of
from keras_transfer.policies.batch_norm import batch_norm_layers, walk_layers

_DROPOUT = (
    keras.layers.Dropout,
    keras.layers.SpatialDropout1D,
    keras.layers.SpatialDropout2D,
    keras.layers.SpatialDropout3D,
    keras.layers.GaussianDropout,
    keras.layers.AlphaDropout,
)


@contextlib.contextmanager
def _no_dropout(model):
    """Dropout rates at 0 during a forward pass: TENT runs the network in training mode for
    BatchNorm's batch statistics, not for dropout."""
    layers = [layer for layer in walk_layers(model) if isinstance(layer, _DROPOUT)]
    rates = [layer.rate for layer in layers]
    try:
        for layer in layers:
            layer.rate = 0.0
        yield
    finally:
        for layer, rate in zip(layers, rates):
            layer.rate = rate


BATCH_EXCESS = 0.12  # how far the median batch may be more single-class than a shuffled batch


def _median_batch_share(labels, batch_size: int, num_classes: int) -> float:
    batches = [labels[i : i + batch_size] for i in range(0, len(labels), batch_size)]
    shares = [np.bincount(b, minlength=num_classes).max() / len(b) for b in batches if len(b) >= 2]
    return float(np.median(shares)) if shares else float("nan")


def _with_batch_check(report, reference, batch_size: int):
    """Add a symptom when the test batches look single-class under the unadapted model.

    TENT normalises each batch with its own statistics, which removes what a batch's examples
    share: on a batch of one class, that is the class. Its predictions then fall towards chance
    while their overall class balance looks healthy, so `check_collapse` alone cannot see it. The
    unadapted model's predictions (moving statistics) can: when the median batch has a share of
    its most predicted class at least ``BATCH_EXCESS`` above that of the same predictions in a
    shuffled order (the batch sizes kept; mean of 5 orders), the stream is ordered by class. The
    margin is several times the spread of that median between shuffled orders (a few percent for
    batches of 16 or more), and small enough for a weak source model's class-sorted stream to be
    caught (the measured shares are in benchmarks/README.md, "Figures quoted from docstrings").
    """
    labels = reference.argmax(1)
    num_classes = reference.shape[1]
    median = _median_batch_share(labels, batch_size, num_classes)
    rng = np.random.default_rng(0)  # the shuffled baseline, averaged over 5 orders
    shuffled = float(
        np.mean([_median_batch_share(rng.permutation(labels), batch_size, num_classes) for _ in range(5)])
    )
    if not median - shuffled >= BATCH_EXCESS:  # also False for NaN (no batch of 2 or more)
        return report
    symptom = (
        f"the test batches look single-class (under the unadapted model the median batch has "
        f"{median:.0%} of its rows in one class, vs {shuffled:.0%} for the same images shuffled): "
        "TENT's per-batch statistics erase the class of such batches; shuffle the test stream or "
        "adapt on larger, mixed batches"
    )
    return dataclasses.replace(report, collapsed=True, symptoms=(*report.symptoms, symptom))


@export
class TENT(keras.Model):
    """TENT: adapt a classifier at test time by minimising the entropy of its predictions.

    Wang, Shelhamer, Liu, Olshausen and Darrell, "Tent: Fully Test-Time Adaptation by Entropy
    Minimization", ICLR 2021. Only the affine parameters (``gamma``, ``beta``) of the model's
    BatchNormalization layers are trained, to minimise the mean prediction entropy of each test
    batch; BatchNorm normalises with the statistics of the test batch itself (not the moving
    statistics), in ``predict``, ``evaluate`` and ``fit`` alike. Every other weight, and the moving
    statistics, stay as they are. Dropout is off throughout.

    ``predict(x)`` adapts online, as the paper does: for each batch in order, the batch is
    predicted with the current parameters and then one optimisation step (``steps``) is taken on
    its entropy, so later batches are predicted by a model adapted on the earlier ones. With
    ``episodic=True`` the affine parameters and the optimizer state are reset before every batch
    (each batch is adapted on its own; with ``steps=1`` its predictions are then those of the
    unadapted model normalised with batch statistics). ``fit(x)`` trains on the entropy of
    unlabelled batches without predicting (offline). ``compile()`` defaults to the paper's Adam
    with learning rate 1e-3 (its CIFAR setting; for ImageNet it reports SGD, momentum 0.9,
    learning rate 2.5e-4 at batch 64).

    The wrapped model is adapted in place: its trainable flags are set (BatchNorm layers
    trainable, every other layer frozen) and its BatchNorm ``gamma``/``beta`` change. To keep the
    original, wrap a copy, or use `adapt_at_test_time`, which copies by default.

    When it fails: TENT needs batches that are large and class-balanced enough for their
    statistics and their entropy to stand for the target distribution. On small batches (a few
    examples) or batches of a single class, entropy minimisation drives the predictions to one
    class, and on batches sorted by class the per-batch statistics erase the class signal (the
    predictions fall to chance while their overall balance looks healthy). After every
    ``predict`` the predictions pass through `keras_transfer.adaptation.check_collapse`, plus a
    check that the batches are not single-class under the unadapted model (one extra inference
    pass over ``x``, before adapting); a collapse issues a
    `keras_transfer.adaptation.CollapseWarning` naming TENT, and the report is kept in
    ``collapse_report``. Measured numbers: benchmarks/README.md, "Source-free and test-time
    adaptation".

    Args:
        model: a built Keras classifier with BatchNormalization layers that outputs class
            probabilities.
        steps: optimisation steps per test batch in ``predict`` (1 in the paper).
        episodic: reset the adapted parameters before every batch in ``predict``.
        **kwargs: arguments of `keras.Model` (e.g. ``name``).

    Attributes:
        collapse_report: the `keras_transfer.adaptation.CollapseReport` of the last ``predict``.

    Example:
        >>> import numpy as np, keras
        >>> from keras_transfer.models import TENT
        >>> net = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8),
        ...                         keras.layers.BatchNormalization(), keras.layers.ReLU(),
        ...                         keras.layers.Dense(3, activation="softmax")])
        >>> model = TENT(net)
        >>> model.compile()  # Adam(1e-3)
        >>> x = np.random.default_rng(0).normal(2.0, 1.0, (128, 4)).astype("float32")
        >>> model.predict(x, batch_size=64, verbose=0).shape  # two batches, one step each
        (128, 3)
        >>> [v.name for v in model.trainable_variables]
        ['gamma', 'beta']
    """

    def __init__(self, model, steps: int = 1, episodic: bool = False, **kwargs):
        super().__init__(**kwargs)
        if isinstance(model, dict):
            model = keras.saving.deserialize_keras_object(model)
        if not isinstance(model, keras.Model) or not model.built:
            raise TypeError(
                f"`model` must be a built keras.Model (a trained classifier); received {type(model).__name__}."
            )
        self.steps = check_int(steps, "steps", min_value=1)
        self.episodic = check_bool(episodic, "episodic")
        self.batch_norm_layers = batch_norm_layers(model)
        if not self.batch_norm_layers:
            raise ValueError(
                "TENT adapts BatchNormalization layers, and `model` has none. Use a network with "
                "BatchNorm, or SHOT (keras_transfer.models.SHOT), which adapts any feature extractor."
            )
        # every layer trainable (BatchNorm then uses batch statistics in training mode), every
        # variable but the BatchNorm affine parameters frozen
        model.trainable = True
        affine = {id(v) for layer in self.batch_norm_layers for v in layer.trainable_variables}
        for variable in model.trainable_variables:
            if id(variable) not in affine:
                variable.trainable = False
        if not model.trainable_variables:
            raise ValueError(
                "TENT trains BatchNorm's gamma and beta, and `model`'s BatchNormalization layers have "
                "neither (center=False and scale=False)."
            )
        self.model = model
        self.collapse_report = None
        self._initial = None
        shape = input_shape_of(model)
        if shape is not None:  # built now, so it can be saved before it is used
            self(keras.KerasTensor(shape))

    # ----- forward and loss -------------------------------------------------------------------
    def call(self, inputs, training=False):
        # BatchNorm with test-batch statistics: training mode, dropout off (rates are read when
        # the layers are called, i.e. when this is traced)
        with _no_dropout(self.model):
            return self.model(inputs, training=True)

    def compute_output_shape(self, input_shape):
        return self.model.compute_output_shape(input_shape)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        total = ops.mean(entropy(y_pred))
        for loss in self.losses:
            total = total + ops.cast(ops.sum(loss), total.dtype)
        return total

    def compile(self, optimizer=None, **kwargs):
        """`keras.Model.compile`; ``optimizer=None`` is the paper's Adam(1e-3). The loss is the
        mean prediction entropy (a ``loss`` argument is refused)."""
        if kwargs.get("loss") is not None:
            raise ValueError("TENT minimises the prediction entropy; do not pass `loss` (received one).")
        super().compile(optimizer=keras.optimizers.Adam(1e-3) if optimizer is None else optimizer, **kwargs)

    # ----- state ------------------------------------------------------------------------------
    def _affine_and_optimizer(self):
        return [*self.trainable_variables, *(self.optimizer.variables if self.optimizer.built else [])]

    def _moving_statistics(self):
        return [v for layer in self.batch_norm_layers for v in (layer.moving_mean, layer.moving_variance)]

    def reset(self):
        """Back to the parameters (and optimizer state) of the first ``predict`` of an episode."""
        if self._initial is not None:
            for variable, value in zip(self._affine_and_optimizer(), self._initial):
                variable.assign(value)

    # ----- adaptation -------------------------------------------------------------------------
    def _ready(self):
        if getattr(self, "optimizer", None) is None:
            self.compile()
        if not self.optimizer.built:
            self.optimizer.build(self.trainable_variables)

    def predict(self, x, batch_size=None, verbose="auto", **kwargs):
        """Predict ``x`` batch by batch in order, adapting after each batch (see the class
        docstring). ``x`` is a numpy array; ``batch_size`` defaults to 64. Returns the
        probabilities, one row per example."""
        if kwargs:
            raise TypeError(f"TENT.predict takes x, batch_size and verbose; received {sorted(kwargs)}.")
        check_inputs(x, "x")
        batch_size = check_count(batch_size, "batch_size") or 64
        self._ready()
        moving = [np.array(v.numpy()) for v in self._moving_statistics()]
        if self.episodic and self._initial is None:
            self._initial = [np.array(v.numpy()) for v in self._affine_and_optimizer()]
        # the model before adaptation, with its moving (source) statistics: how each batch looks
        reference = np.asarray(self.model.predict(x, batch_size=batch_size, verbose=0))
        bar = keras.utils.Progbar(-(-len(x) // batch_size), verbose=1 if verbose == "auto" else verbose)
        outputs = []
        for start in range(0, len(x), batch_size):
            batch = x[start : start + batch_size]
            if self.episodic:
                self.reset()
            for _ in range(self.steps):
                probabilities = self.predict_on_batch(batch)
                self.train_on_batch(batch)
            outputs.append(np.asarray(probabilities))
            bar.add(1)
        for variable, value in zip(self._moving_statistics(), moving):
            variable.assign(value)  # TENT does not use (or change) the moving statistics
        predictions = np.concatenate(outputs)
        self.collapse_report = _with_batch_check(check_collapse(predictions), reference, batch_size)
        warn_if_collapsed(self.collapse_report, "TENT")
        return predictions

    def fit(self, x=None, y=None, batch_size=None, epochs=1, *, callbacks=None, **kwargs):
        """Offline TENT: minimise the entropy of unlabelled batches of ``x`` (no ``y``); other
        arguments are those of `keras.Model.fit`."""
        if y is not None:
            raise ValueError("TENT adapts on unlabelled data: call fit(x) without `y`; received y.")
        check_inputs(x, "x")
        self._ready()
        moving = [np.array(v.numpy()) for v in self._moving_statistics()]
        history = super().fit(
            x, batch_size=batch_size, epochs=epochs, callbacks=with_loss_guard(callbacks), **kwargs
        )
        for variable, value in zip(self._moving_statistics(), moving):
            variable.assign(value)
        return history

    # ----- config -----------------------------------------------------------------------------
    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "model": keras.saving.serialize_keras_object(self.model),
            "steps": self.steps,
            "episodic": self.episodic,
        }

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def adapt_at_test_time(
    model,
    x,
    *,
    batch_size: int = 64,
    epochs: int = 1,
    optimizer=None,
    copy: bool = True,
    verbose: int = 0,
):
    """TENT in one call: a copy of ``model`` adapted to the unlabelled test inputs ``x``.

    TENT, like AdaBN, assumes ``model`` trained with the statistics its BatchNorm layers hold
    (trained from scratch or fine-tuned on the source): it normalises with test statistics in
    every BatchNorm layer, frozen ones included. A head trained on a frozen pretrained backbone
    that kept its ImageNet statistics breaks that assumption (see
    `keras_transfer.adaptation.adapt_batch_norm`, "When it is valid"); the collapse check below
    is the guard against what then happens.

    Runs `TENT` offline over ``x`` (``epochs`` passes of shuffled batches of ``batch_size``, one
    entropy-minimisation step per batch on the BatchNorm affine parameters, optimizer
    ``optimizer``, default the paper's Adam(1e-3)), then re-estimates the BatchNorm moving
    statistics on ``x`` (`keras_transfer.adaptation.adapt_batch_norm`, every BatchNorm layer), so
    the returned model normalises test inputs with test statistics in ordinary inference-mode
    ``predict`` calls, as TENT does per batch. Trainable flags are those of ``model``.
    The collapse check runs on the returned model's predictions for ``x`` (a
    `keras_transfer.adaptation.CollapseWarning` when they look collapsed; the report is the
    returned model's ``collapse_report`` attribute).

    Args:
        model: a built Keras classifier with BatchNormalization layers (probabilities out).
        x: the unlabelled test inputs, a numpy array.
        batch_size: the adaptation batch size (TENT needs batches of many classes: 64 or more).
        epochs: passes over ``x``.
        optimizer: a Keras optimizer or None for Adam(1e-3).
        copy: adapt a copy (default) and leave ``model`` unchanged; ``False`` adapts ``model``
            itself (its BatchNorm parameters and statistics change) and returns it.
        verbose: 1 shows progress, 0 is silent.

    Returns:
        The adapted model (a copy unless ``copy=False``).

    Example:
        >>> import numpy as np, keras
        >>> from keras_transfer.models import adapt_at_test_time
        >>> net = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8),
        ...                         keras.layers.BatchNormalization(), keras.layers.ReLU(),
        ...                         keras.layers.Dense(3, activation="softmax")])
        >>> x = np.random.default_rng(0).normal(2.0, 1.0, (128, 4)).astype("float32")
        >>> adapted = adapt_at_test_time(net, x, batch_size=64)
        >>> adapted is net, adapted.predict(x, verbose=0).shape
        (False, (128, 3))
    """
    copy = check_bool(copy, "copy")
    batch_size = check_int(batch_size, "batch_size", min_value=1)
    check_inputs(x, "x")
    target = copy_model(model) if copy else model
    flags = [layer.trainable for layer in walk_layers(target)]
    wrapper = TENT(target)
    wrapper.compile(optimizer=optimizer)
    wrapper.fit(x, batch_size=batch_size, epochs=epochs, verbose=verbose)
    adapt_batch_norm(target, x, batch_size=batch_size, include_frozen=True, collapse_check=False)
    for layer, flag in zip(walk_layers(target), flags):
        layer.trainable = flag
    report = check_collapse(np.asarray(target.predict(x, batch_size=256, verbose=0)))
    target.collapse_report = report
    warn_if_collapsed(report, "TENT")
    return target
