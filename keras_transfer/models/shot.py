"""`SHOT`: source-free domain adaptation of a trained classifier on unlabelled target data."""

from __future__ import annotations

import math

import keras
import numpy as np
from keras import ops

from keras_transfer._validation import check_bool, check_choice, check_count, check_float, check_int
from keras_transfer.adaptation import (
    adapt_batch_norm,
    centroid_pseudo_labels,
    check_collapse,
    information_maximization,
    warn_if_collapsed,
)
from keras_transfer.api_export import export
from keras_transfer.models._guards import with_loss_guard
from keras_transfer.models._source_free import (
    check_inputs,
    copy_model,
    input_shape_of,
    split_classifier,
)
from keras_transfer.policies.batch_norm import batch_norm_layers


class _PseudoLabelledTarget(keras.utils.PyDataset):
    """The target rows with SHOT's pseudo-labels, recomputed at the start of every epoch."""

    def __init__(self, model, x, batch_size, shuffle, seed):
        super().__init__()
        self.model, self.x, self.batch_size, self.shuffle = model, x, batch_size, shuffle
        self.rng = np.random.default_rng(seed)
        self.order = np.arange(len(x))
        self.labels = np.zeros(len(x), dtype="int32")

    def __len__(self):
        return math.ceil(len(self.x) / self.batch_size)

    def __getitem__(self, index):
        rows = self.order[index * self.batch_size : (index + 1) * self.batch_size]
        return self.x[rows], self.labels[rows]

    def on_epoch_begin(self):
        self.model.recalibrate_batch_norm(self.x)
        if self.model.beta > 0:
            self.labels = self.model.pseudo_labels(self.x).astype("int32")
        if self.shuffle:
            self.order = self.rng.permutation(len(self.x))


@export
class SHOT(keras.Model):
    """SHOT: adapt a trained classifier to unlabelled target data, without the source data.

    Liang, Hu and Feng, "Do We Really Need to Access the Source Data? Source Hypothesis Transfer
    for Unsupervised Domain Adaptation", ICML 2020. The classifier (the source hypothesis) is
    frozen; the feature extractor is trained on the target alone to minimise

        ``mean_i H(p_i) - H(mean_i p_i) + beta * CE(pseudo_labels, p)``

    the information-maximisation loss (confident but diverse predictions,
    `keras_transfer.adaptation.information_maximization`) plus ``beta`` times the cross-entropy
    against self-supervised pseudo-labels: at the start of every epoch the whole target set is
    run through the current network (inference mode) and labelled by its nearest class centroid
    in feature space (`keras_transfer.adaptation.centroid_pseudo_labels`: centroids weighted by
    the predicted probabilities, one refinement round, cosine distance). ``fit(target_x)`` takes
    no labels. The paper uses ``beta = 0.3`` (its digits and default setting), SGD with momentum
    0.9 and a decaying learning rate (0.01 on digits); its source models are trained with label
    smoothing 0.1 and a weight-normalised classifier, which `TransferClassifier` offers
    (``label_smoothing``, ``weight_norm``). Measured numbers: benchmarks/README.md, "Source-free
    and test-time adaptation".

    BatchNorm layers of the feature extractor run in training mode during ``fit`` (batch
    statistics), as in the paper. With ``target_batch_norm`` (default) their moving statistics
    are re-estimated on the whole target set before every pseudo-label pass and at the end of
    ``fit`` (`keras_transfer.adaptation.adapt_batch_norm`), so inference uses target statistics:
    the paper's PyTorch BatchNorm (momentum 0.1) tracks the target within a few steps, while
    Keras' (momentum 0.99) would keep the source's for hundreds. Build it from two parts, or from a
    whole classifier with `SHOT.from_model` (any `keras.Model` ending in a Dense classifier, or a
    `keras_transfer.models.TransferClassifier`).

    When it fails: SHOT assumes the source classifier is already roughly right on the target
    (the pseudo-labels start from its predictions) and that target classes are roughly balanced
    (the diversity term pushes the mean prediction towards uniform; on class-imbalanced target
    data it moves examples into the wrong classes). On small target sets (a few batches) the
    diversity term estimated per batch is noisy and can collapse or scatter the predictions.
    After ``fit`` the target predictions pass through
    `keras_transfer.adaptation.check_collapse`; a collapse issues a
    `keras_transfer.adaptation.CollapseWarning` naming SHOT, and the report is kept in
    ``collapse_report``.

    Args:
        feature_extractor: a Keras layer or model mapping inputs to ``(batch, d)`` features; its
            trainable weights are what adapts.
        classifier: a Keras layer mapping the features to class probabilities (frozen here:
            ``classifier.trainable`` is set to False).
        beta: weight of the pseudo-label cross-entropy, a float >= 0 (0.3 in the paper; 0 turns
            pseudo-labelling off, leaving information maximisation only).
        distance: ``"cosine"`` (the paper's) or ``"euclidean"``, for the centroid labels.
        epsilon: added inside the logs of the entropies (1e-5, as the paper's code).
        label_batch_size: batch size of the inference passes that compute pseudo-labels.
        target_batch_norm: re-estimate BatchNorm statistics on the target (see above).
        **kwargs: arguments of `keras.Model` (e.g. ``name``).

    Attributes:
        collapse_report: the `keras_transfer.adaptation.CollapseReport` of the last ``fit``.

    Example:
        >>> import numpy as np, keras
        >>> from keras_transfer.models import SHOT
        >>> rng = np.random.default_rng(0)
        >>> source = keras.Sequential([keras.Input((2,)), keras.layers.Dense(8, activation="relu"),
        ...                            keras.layers.Dense(2, activation="softmax")])
        >>> model = SHOT.from_model(source)  # a copy: `source` is left as it is
        >>> model.compile(optimizer=keras.optimizers.SGD(0.01, momentum=0.9))
        >>> target_x = rng.normal(size=(64, 2)).astype("float32")
        >>> history = model.fit(target_x, epochs=1, batch_size=32, verbose=0)
        >>> sorted(history.history)
        ['diversity', 'entropy', 'loss', 'pseudo_label_loss']
        >>> model.predict(target_x[:3], verbose=0).shape
        (3, 2)
    """

    def __init__(
        self,
        feature_extractor,
        classifier,
        beta: float = 0.3,
        distance: str = "cosine",
        epsilon: float = 1e-5,
        label_batch_size: int = 256,
        target_batch_norm: bool = True,
        **kwargs,
    ):
        super().__init__(**kwargs)
        for name, value in (("feature_extractor", feature_extractor), ("classifier", classifier)):
            if isinstance(value, dict):
                value = keras.saving.deserialize_keras_object(value)
            if not isinstance(value, keras.layers.Layer):
                raise TypeError(f"`{name}` must be a Keras layer or model; received {type(value).__name__}.")
            setattr(self, name, value)
        self.classifier.trainable = False
        self.beta = check_float(beta, "beta", min_value=0.0)
        self.distance = check_choice(distance, ("cosine", "euclidean"), "distance")
        self.epsilon = check_float(epsilon, "epsilon", min_value=0.0)
        self.label_batch_size = check_int(label_batch_size, "label_batch_size", min_value=1)
        self.target_batch_norm = check_bool(target_batch_norm, "target_batch_norm")
        self.entropy_tracker = keras.metrics.Mean(name="entropy")
        self.diversity_tracker = keras.metrics.Mean(name="diversity")
        self.pseudo_label_tracker = keras.metrics.Mean(name="pseudo_label_loss")
        self.collapse_report = None
        shape = input_shape_of(self.feature_extractor)
        if shape is not None:  # built now, so it can be saved before it is trained
            self(keras.KerasTensor(shape))

    @classmethod
    def from_model(cls, model, *, copy: bool = True, **kwargs):
        """A `SHOT` on a whole trained classifier, split into features and classifier.

        The classifier is the model's last Dense layer (with a softmax after it when the Dense
        layer outputs logits, or the softmax activation/layer that follows it); everything before
        it is the feature extractor (for a `TransferClassifier`: the backbone; the head dropout
        is left out). Nested `keras.Sequential` models are looked into.

        Args:
            model: a built `keras.Sequential`, functional `keras.Model` or `TransferClassifier`
                whose output is the class probabilities (or logits) of a final Dense layer.
            copy: adapt a copy (default), leaving ``model`` unchanged; ``False`` shares the
                layers, so ``fit`` changes ``model``'s feature extractor in place.
            **kwargs: the other arguments of `SHOT` (``beta``, ...).

        Raises:
            ValueError: ``model`` does not end in a Dense classifier, or its feature extractor
                has no trainable weight (e.g. a `TransferClassifier` under ``FreezeAll``: give it
                a policy that unfreezes the top, ``model.set_policy(UnfreezeTop(1))``).
        """
        if copy:
            model = copy_model(model)
        features, classifier = split_classifier(model, "model")
        if not features.trainable_weights:
            raise ValueError(
                "SHOT adapts the feature extractor, but `model`'s has no trainable weight (all frozen). "
                "Unfreeze part of it first (for a TransferClassifier: model.set_policy(UnfreezeTop(1)) "
                "or 'unfreeze_all')."
            )
        return cls(features, classifier, **kwargs)

    # ----- forward ----------------------------------------------------------------------------
    def call(self, inputs, training=False):
        return self.classifier(self.feature_extractor(inputs, training=training), training=False)

    def compute_output_shape(self, input_shape):
        return self.classifier.compute_output_shape(self.feature_extractor.compute_output_shape(input_shape))

    def _batches(self, x):
        for start in range(0, len(x), self.label_batch_size):
            yield x[start : start + self.label_batch_size]

    def features_and_probabilities(self, x) -> tuple[np.ndarray, np.ndarray]:
        """Features and class probabilities of ``x`` (numpy), in inference mode."""
        features, probabilities = [], []
        for batch in self._batches(x):
            f = self.feature_extractor(batch, training=False)
            probabilities.append(ops.convert_to_numpy(self.classifier(f, training=False)))
            features.append(ops.convert_to_numpy(f))
        return np.concatenate(features), np.concatenate(probabilities)

    def recalibrate_batch_norm(self, x) -> None:
        """With ``target_batch_norm``, re-estimate the feature extractor's BatchNorm moving
        statistics on ``x`` (`keras_transfer.adaptation.adapt_batch_norm`)."""
        if self.target_batch_norm and batch_norm_layers(self.feature_extractor, trainable=True):
            adapt_batch_norm(
                self.feature_extractor, x, batch_size=self.label_batch_size, collapse_check=False
            )

    def pseudo_labels(self, x) -> np.ndarray:
        """SHOT's centroid pseudo-labels of the target rows ``x`` under the current network."""
        features, probabilities = self.features_and_probabilities(x)
        return centroid_pseudo_labels(
            features.reshape(len(features), -1), probabilities, distance=self.distance
        )

    # ----- loss and metrics -------------------------------------------------------------------
    def _terms(self, y, y_pred, sample_weight=None):
        mean_entropy, diversity = information_maximization(y_pred, self.epsilon)
        pseudo = ops.zeros(())
        if y is not None:
            labels = ops.cast(ops.reshape(y, (-1,)), "int32")
            pseudo = keras.losses.sparse_categorical_crossentropy(labels, ops.cast(y_pred, "float32"))
            pseudo = ops.mean(pseudo) if sample_weight is None else ops.mean(pseudo * sample_weight)
        return mean_entropy, diversity, pseudo

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        mean_entropy, diversity, pseudo = self._terms(y, y_pred, sample_weight)
        total = mean_entropy - diversity + self.beta * pseudo
        for loss in self.losses:
            total = total + ops.cast(ops.sum(loss), total.dtype)
        return total

    def compute_metrics(self, x, y, y_pred, sample_weight=None):
        mean_entropy, diversity, pseudo = self._terms(y, y_pred, sample_weight)
        self.entropy_tracker.update_state(mean_entropy)
        self.diversity_tracker.update_state(diversity)
        self.pseudo_label_tracker.update_state(pseudo)
        return super().compute_metrics(x, y, y_pred, sample_weight)

    @property
    def metrics(self):
        return [*super().metrics, self.entropy_tracker, self.diversity_tracker, self.pseudo_label_tracker]

    def compile(self, optimizer=None, **kwargs):
        """`keras.Model.compile`; ``optimizer=None`` is the paper's SGD (learning rate 0.01,
        momentum 0.9). The loss is SHOT's own (a ``loss`` argument is refused)."""
        if kwargs.get("loss") is not None:
            raise ValueError("SHOT computes its own loss; do not pass `loss` to compile (received one).")
        if optimizer is None:
            optimizer = keras.optimizers.SGD(0.01, momentum=0.9)
        super().compile(optimizer=optimizer, **kwargs)

    # ----- training ---------------------------------------------------------------------------
    def fit(self, x=None, y=None, batch_size=None, epochs=1, *, shuffle=True, callbacks=None, **kwargs):
        """Adapt on the unlabelled target rows ``x`` (a numpy array; no ``y``).

        Each epoch starts with an inference pass over ``x`` that recomputes the pseudo-labels;
        then one pass of batches of ``batch_size`` (default 64). Other arguments are those of
        `keras.Model.fit` (``validation_*`` is not supported: there are no labels). Training stops
        with a warning at the first non-finite loss. Afterwards the collapse check runs on the
        predictions for ``x`` (see the class docstring).
        """
        if y is not None:
            raise ValueError(
                "SHOT adapts on unlabelled target data: call fit(target_x) without `y`; received y."
            )
        if not isinstance(x, np.ndarray):
            raise TypeError(
                "`x` must be a numpy array of target inputs (SHOT's pseudo-labels need passes over "
                f"the whole set); received {type(x).__name__}."
            )
        check_inputs(x, "x")
        batch_size = check_count(batch_size, "batch_size") or 64
        if getattr(self, "optimizer", None) is None:
            self.compile()
        seed = int(np.random.randint(2**31))
        data = _PseudoLabelledTarget(self, x, batch_size, shuffle, seed)
        history = super().fit(data, epochs=epochs, callbacks=with_loss_guard(callbacks), **kwargs)
        self.recalibrate_batch_norm(x)
        _, probabilities = self.features_and_probabilities(x)
        self.collapse_report = check_collapse(probabilities)
        warn_if_collapsed(self.collapse_report, "SHOT")
        return history

    # ----- config -----------------------------------------------------------------------------
    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "feature_extractor": keras.saving.serialize_keras_object(self.feature_extractor),
            "classifier": keras.saving.serialize_keras_object(self.classifier),
            "beta": self.beta,
            "distance": self.distance,
            "epsilon": self.epsilon,
            "label_batch_size": self.label_batch_size,
            "target_batch_norm": self.target_batch_norm,
        }

    @classmethod
    def from_config(cls, config):
        return cls(**config)
