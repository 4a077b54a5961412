"""Domain-adversarial neural network (DANN), trained with plain ``fit``."""

from __future__ import annotations

from typing import Any, NamedTuple

import keras
from keras import ops

from keras_transfer.api_export import export
from keras_transfer.layers.gradient_reversal import GradientReversal
from keras_transfer.models import _two_domain as td
from keras_transfer.models._adaptation_weight import check_adaptation_weight
from keras_transfer.models._discriminators import resolve_discriminator
from keras_transfer.models._two_domain_model import TwoDomainModel
from keras_transfer.models.adaptation_methods import register_adaptation_method
from keras_transfer.schedules.reversal_schedule import ReversalSchedule


class DomainOutputs(NamedTuple):
    """The domain classifier's side of a DANN/CDAN step."""

    logits: Any  # one domain logit per row (target = 1)
    labels: Any  # the true domain of each row: 0 source, 1 target
    weights: Any  # per-row weights of the domain loss (CDAN+E) or None
    scale: Any  # the reversal weight of this step


@export
class DANN(TwoDomainModel):
    """Domain-adversarial neural network (Ganin et al., "Domain-Adversarial Training of Neural
    Networks", JMLR 2016).

    ``feature_extractor -> label_head`` classifies; ``feature_extractor -> GradientReversal ->
    domain_head`` tells source from target, and the reversed gradient pushes the features to
    make the domains indistinguishable. The reversal weight follows a
    `keras_transfer.schedules.ReversalSchedule` evaluated in the graph (default: the paper's
    ``2 / (1 + exp(-10 p)) - 1`` ramp over the whole ``fit``).

    Data convention: ``fit(x=(source_x, target_x), y=source_y)`` with integer source labels,
    or ``fit(dataset)`` where the ``tf.data.Dataset`` yields ``((source_x, target_x),
    source_y)`` batches (e.g. ``tf.data.Dataset.zip(((src_x, tgt_x.repeat()), src_y))``
    batched). With arrays, an epoch is one pass over the larger domain, and the smaller one
    is shuffled and cycled to the same length (every source and target example is used).
    Target labels are refused. ``predict(x)`` returns class probabilities;
    ``evaluate(target_x, target_y)`` measures target accuracy (``label_accuracy``). When the
    network has a trainable BatchNorm layer, AdaBN is on by default (``adapt_batch_norm="auto"``,
    see below): per-domain BatchNorm statistics in training and target statistics after ``fit``,
    so the fitted model is a target model (its BatchNorm layers no longer suit the source).

    History holds ``loss``, ``label_loss``, ``adaptation_loss`` (the domain classifier's loss),
    ``label_accuracy``, ``domain_accuracy`` and ``reversal_scale`` (the epoch's mean reversal
    weight). Losses are
    ``keras.losses`` objects, so they are scaled correctly under ``tf.distribute``. The train
    step is Keras' own (only ``compute_loss``/``compute_metrics`` are overridden), so it runs on
    the TensorFlow and JAX backends; ``tf.data`` input needs TensorFlow installed. ``fit`` builds
    the model before training starts, so `keras.callbacks.BackupAndRestore` works, and a resumed
    training continues like the uninterrupted one (see ``fit``).

    The practices of the Transfer-Learning-Library (tllib) that make DANN work on images are
    options: ``bottleneck=256`` (Dense-BN-ReLU between features and heads),
    ``domain_head="tllib"`` (1024-1024 with BN), ``head_lr_multiplier=10`` (new layers at 10x the
    backbone's rate) and ``label_smoothing=0.1``. These are off by default, so a network without
    BatchNorm trains with the plain method of the paper; a network with BatchNorm gets AdaBN
    (``adapt_batch_norm="auto"``), the one default that departs from the paper (which has no
    BatchNorm), because BatchNorm over the mixed source + target batch breaks DANN.

    Args:
        feature_extractor: any Keras model or layer mapping inputs to ``(batch, d)`` features,
            e.g. a `keras_transfer.backbones.Backbone` or a small MLP.
        label_head: a Keras layer/model mapping features to class probabilities, or an int
            ``num_classes`` for a softmax ``Dense`` layer.
        domain_head: the discriminator, mapping features to one domain logit per row (target =
            1): ``"small"`` (default; two 64-unit ReLU layers), ``"tllib"`` (two 1024-unit
            layers with BatchNorm and ReLU), ``"paper"`` (two 1024-unit ReLU layers with dropout
            0.5), or a Keras layer/model.
        adaptation_weight: the reversal weight: a float or a `ReversalSchedule` (``total_steps``
            left as None is filled in by ``fit`` from ``epochs`` and the data size); None
            (default) is the paper's ramp ``ReversalSchedule("dann")`` from 0 to 1. The domain
            loss enters the loss with weight 1; the reversal multiplies its gradient into the
            features by ``-adaptation_weight``. ``scale``, its old name, is accepted until the
            next release (with a DeprecationWarning). The domain loss
            is the binary cross-entropy averaged over the combined source + target batch, i.e.
            half the sum of the per-domain means that ADAPT's ``DANN(lambda_=...)`` uses, so
            ``adaptation_weight = 2 * lambda_`` trains exactly like ADAPT (checked numerically in
            ``benchmarks/adapt_dann_benchmark.py``).
        bottleneck: None, an int ``n`` for ``Dense(n) -> BatchNormalization -> ReLU`` between
            the features and both heads, or a Keras layer.
        label_smoothing: label smoothing of the source cross-entropy, in [0, 1).
        head_lr_multiplier: learning rate of the bottleneck, label head and domain head relative
            to the optimizer's (10 in tllib); ``compile`` then builds a
            `keras.optimizers.MultiOptimizer` in which the feature extractor keeps the given rate
            (the saved model stores the plain optimizer and wraps it again on load).
        adapt_batch_norm: AdaBN (Li et al., "Revisiting Batch Normalization For Practical Domain
            Adaptation", 2016): in training, the feature extractor and bottleneck normalise each
            domain with its own batch statistics; ``fit`` ends by re-estimating every trainable
            BatchNorm layer's moving statistics on the target data
            (`keras_transfer.adaptation.adapt_batch_norm`), so the model then normalises target
            inputs with target statistics (and no longer suits the source). ``"auto"``
            (default): on when, at ``fit`` time, the feature extractor, bottleneck or label head
            holds a trainable BatchNormalization layer (e.g. ``bottleneck=256`` or
            `keras_transfer.models.lenet_networks`), off otherwise, silently (a BatchNorm layer
            only in the domain head, as in ``domain_head="tllib"``, does not count: AdaBN could
            not change the predictions); ``True``: on, and ``fit`` refuses a model without a
            trainable BatchNorm layer; ``False``: off, BatchNorm computed over the combined
            source + target batch as Keras does. Why on by default: on MNIST -> MNIST-M with
            the paper's LeNet, BatchNorm over the mixed source + target batch (``False``)
            destroys DANN, while per-domain BatchNorm in training and target statistics after
            ``fit`` lift it above the network without BatchNorm (benchmarks/README.md, "Domain
            adaptation", rows ``dann`` and ``dann_no_bn``).
        **kwargs: passed to `keras.Model` (e.g. ``name``).

    Example:
        >>> import numpy as np, keras
        >>> from keras_transfer.models import DANN
        >>> rng = np.random.default_rng(0)
        >>> xs, ys = rng.normal(size=(64, 2)).astype("float32"), rng.integers(0, 2, 64)
        >>> xt = (rng.normal(size=(48, 2)) + 1.0).astype("float32")
        >>> features = keras.Sequential([keras.layers.Dense(16, activation="relu")])
        >>> model = DANN(features, label_head=2, bottleneck=8, label_smoothing=0.1)
        >>> model.compile(optimizer="adam")
        >>> history = model.fit(x=(xs, xt), y=ys, epochs=2, batch_size=16, verbose=0)
        >>> model.predict(xt, verbose=0).shape
        (48, 2)
    """

    _deprecated_weight_name = "scale"

    def __init__(
        self,
        feature_extractor,
        label_head,
        domain_head=None,
        adaptation_weight: float | ReversalSchedule | None = None,
        **kwargs,
    ):
        adaptation_weight = self._renamed_weight(adaptation_weight, None, kwargs)
        super().__init__(feature_extractor, label_head, **kwargs)
        self.domain_head, self._domain_head_name = resolve_discriminator(domain_head)
        weight = ReversalSchedule("dann") if adaptation_weight is None else adaptation_weight
        self.reversal = GradientReversal(check_adaptation_weight(weight))
        self.domain_loss_fn = keras.losses.BinaryCrossentropy(from_logits=True, name="domain_loss")
        self.domain_accuracy = keras.metrics.BinaryAccuracy(name="domain_accuracy", threshold=0.0)
        self.scale_tracker = keras.metrics.Mean(name="reversal_scale")

    @property
    def adaptation_weight(self):
        """The reversal weight (a float or a `ReversalSchedule`), held by the reversal layer."""
        return self.reversal.scale

    def _weight_schedule(self):
        return self.reversal

    def _step_weight(self, training):
        return ops.ones((), "float32")  # the reversal layer weighs the gradient instead

    # ----- graph -------------------------------------------------------------------------------
    def build(self, input_shape):
        features, predictions = self._build_trunk(input_shape)
        self.domain_head(self.reversal(self._discriminator_input_spec(features, predictions)))
        self.built = True

    def _discriminator_input_spec(self, features, predictions):
        """The symbolic input of the domain head (CDAN conditions it on the predictions)."""
        return features

    def _discriminator_input(self, features, predictions):
        return features

    def _domain_weights(self, predictions, domain_labels):
        """Per-row weights of the domain loss (CDAN+E), or None."""
        return None

    def adaptation_outputs(self, step):
        scale = self.reversal.current_scale() if step.training else ops.zeros((), "float32")
        inputs = self._discriminator_input(step.features, step.predictions)
        labels = td.domain_labels(step.source, step.target)
        return DomainOutputs(
            logits=self.domain_head(self.reversal(inputs, training=step.training), training=step.training),
            labels=labels,
            weights=self._domain_weights(step.predictions, labels),
            scale=ops.cast(scale, "float32"),
        )

    # ----- loss and metrics ----------------------------------------------------------------------
    def adaptation_loss(self, outputs):
        return self.domain_loss_fn(outputs.labels, outputs.logits, outputs.weights)

    def update_adaptation_metrics(self, outputs):
        self.domain_accuracy.update_state(outputs.labels, outputs.logits)
        self.scale_tracker.update_state(outputs.scale)

    # ----- config --------------------------------------------------------------------------------
    def get_config(self) -> dict:
        domain_head = self._domain_head_name
        if domain_head is None:
            domain_head = keras.saving.serialize_keras_object(self.domain_head)
        return {**super().get_config(), "domain_head": domain_head}


register_adaptation_method("dann", DANN)
