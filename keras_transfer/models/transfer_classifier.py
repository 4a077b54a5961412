"""`TransferClassifier`: backbone + dropout + softmax head, governed by a trainability policy."""

from __future__ import annotations

import keras

from keras_transfer.api_export import export
from keras_transfer.policies import (
    L2SP,
    FreezeAll,
    GradualUnfreezing,
    TrainabilityScheduler,
    as_policy,
    policy_chain,
)


@export
class TransferClassifier(keras.Model):
    """An image classifier on a pretrained backbone whose trainability follows a policy.

    ``call``: raw images -> ``backbone`` (pooled features) -> ``Dropout`` -> ``Dense`` softmax.
    The policy is applied at construction and again on load (``from_config``), so a saved model
    comes back with the same trainable set, BN modes, learning-rate multipliers and L2-SP anchors
    (saved as weights). `compile` defaults to Adam(1e-3), sparse categorical cross-entropy and
    accuracy, and asks the policy for the optimizer (`DiscriminativeLR` turns it into a
    `MultiOptimizer`). `fine_tune` runs the two phases of the Keras transfer-learning guide.

    Args:
        backbone: a `keras_transfer.backbones.Backbone` with pooling (or a registry name, built
            with ``get_backbone(name)`` and its default ImageNet weights).
        num_classes: number of classes (>= 2).
        policy: a `keras_transfer.policies` policy; ``"freeze_all"`` (the default: only the head
            trains) or ``"unfreeze_all"``; ``None`` means `UnfreezeAll`, as everywhere in the
            package (see `keras_transfer.policies.as_policy`).
        dropout: dropout rate before the classifier, in [0, 1).
        policy_epoch: schedule epoch the policy is applied at (kept up to date by the
            `TrainabilityScheduler` callback so a saved model reloads mid-schedule).

    Example:
        >>> import numpy as np
        >>> from keras_transfer.backbones import get_backbone
        >>> from keras_transfer.models import TransferClassifier
        >>> from keras_transfer.policies import UnfreezeTop
        >>> bb = get_backbone("resnet50", input_shape=(32, 32, 3), weights=None)
        >>> model = TransferClassifier(bb, num_classes=3, policy=UnfreezeTop(1), dropout=0.2)
        >>> x, y = np.random.randint(0, 255, (8, 32, 32, 3)), np.arange(8) % 3
        >>> history = model.fine_tune(x, y, head_epochs=1, epochs=1, batch_size=4, verbose=0)
        >>> history.history["phase"]
        ['head', 'fine_tune']
    """

    def __init__(
        self,
        backbone,
        num_classes: int,
        policy="freeze_all",
        dropout: float = 0.2,
        policy_epoch: int = 0,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if isinstance(backbone, str):
            from keras_transfer.backbones import get_backbone

            backbone = get_backbone(backbone)
        if isinstance(backbone, dict):
            backbone = keras.saving.deserialize_keras_object(backbone)
        if not isinstance(backbone, keras.layers.Layer) or not hasattr(backbone, "block_groups"):
            raise TypeError(
                "`backbone` must be a keras_transfer.backbones.Backbone (e.g. get_backbone('resnet50')); "
                f"received {type(backbone).__name__}."
            )
        if getattr(backbone, "pooling", "avg") is None:
            raise ValueError(
                "`backbone` must pool its features (pooling='avg' or 'max'); received pooling=None."
            )
        if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 2:
            raise ValueError(f"`num_classes` must be an int >= 2; received num_classes={num_classes!r}.")
        if isinstance(dropout, bool) or not isinstance(dropout, (int, float)) or not 0 <= dropout < 1:
            raise ValueError(f"`dropout` must be a number in [0, 1); received dropout={dropout!r}.")
        self.backbone = backbone
        self.num_classes = num_classes
        self.dropout = float(dropout)
        self.policy_epoch = int(policy_epoch)
        self.dropout_layer = keras.layers.Dropout(self.dropout, name="head_dropout")
        self.classifier = keras.layers.Dense(num_classes, activation="softmax", name="head_classifier")
        self.classifier.build((None, backbone.num_features))
        self.policy = None
        self.set_policy(as_policy(policy, "policy"), self.policy_epoch)

    def set_policy(self, policy, epoch: int = 0):
        """Apply ``policy`` (and record it); recompile afterwards if the model was compiled."""
        policy = as_policy(policy, "policy")
        policy.apply(self, epoch=epoch)
        self.policy = policy
        self.policy_epoch = int(epoch)
        for p in policy_chain(policy):
            anchors = list(p._anchors.values()) if isinstance(p, L2SP) else None
            if anchors and not self.built and not hasattr(self, "l2sp_anchors"):
                # tracked, so the pretrained anchors are saved with the model; Keras allows new
                # state only before the model is built, so give L2SP at construction to save them
                self.l2sp_anchors = anchors
        return self

    def call(self, inputs, training=False):
        x = self.backbone(inputs, training=training)
        x = self.dropout_layer(x, training=training)
        return self.classifier(x)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.num_classes)

    def compile(
        self, optimizer="adam", loss="sparse_categorical_crossentropy", metrics=("accuracy",), **kwargs
    ):
        """Compile with sensible defaults; the optimizer goes through ``policy.make_optimizer``."""
        optimizer = self.policy.make_optimizer(self, optimizer)
        metrics = list(metrics) if isinstance(metrics, tuple) else metrics
        super().compile(optimizer=optimizer, loss=loss, metrics=metrics, **kwargs)

    def compile_from_config(self, config):
        self.compile(**keras.saving.deserialize_keras_object(config))
        if self.built:
            self.optimizer.build(self.trainable_variables)

    def fine_tune(
        self,
        x,
        y=None,
        *,
        head_epochs: int = 1,
        epochs: int = 1,
        head_learning_rate: float = 1e-3,
        learning_rate: float = 1e-5,
        optimizer="adam",
        callbacks=None,
        **fit_kwargs,
    ):
        """Two phases (Keras transfer-learning guide): train the head, then fine-tune per policy.

        Phase ``"head"``: the backbone is frozen (`FreezeAll`, BN in inference mode) and the head
        trains for ``head_epochs`` at ``head_learning_rate``. Phase ``"fine_tune"``: the model's
        policy is applied and training goes on for ``epochs`` at the lower ``learning_rate``
        (`DiscriminativeLR` uses its own ``base_lr``); a `GradualUnfreezing` schedule is driven by
        its callback. Loss and metrics are this class's defaults.

        Returns:
            A ``History`` covering both phases: ``history.history["phase"]`` names each epoch's
            phase and ``self.phases`` lists ``(phase, first_epoch, last_epoch)``.
        """
        for arg, value in (("head_epochs", head_epochs), ("epochs", epochs)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"`{arg}` must be an int >= 0; received {arg}={value!r}.")
        policy = self.policy
        template = keras.optimizers.get(optimizer)

        def make(lr):  # a fresh optimizer per phase: the trainable sets differ
            return type(template).from_config({**template.get_config(), "learning_rate": lr})

        histories = []
        self.phases = []
        if head_epochs:
            self.set_policy(FreezeAll(bn="frozen"))
            self.compile(optimizer=make(head_learning_rate))
            h = self.fit(x, y, epochs=head_epochs, callbacks=callbacks, **fit_kwargs)
            histories.append(("head", h))
        self.set_policy(policy)
        if epochs:
            self.compile(optimizer=make(learning_rate))
            extra = list(callbacks or [])
            if any(isinstance(p, GradualUnfreezing) for p in policy_chain(policy)):
                extra.append(TrainabilityScheduler(policy, start_epoch=head_epochs))
            h = self.fit(
                x, y, initial_epoch=head_epochs, epochs=head_epochs + epochs, callbacks=extra, **fit_kwargs
            )
            histories.append(("fine_tune", h))
        return _merge(histories, self)

    def get_config(self):
        return {
            **super().get_config(),
            "backbone": keras.saving.serialize_keras_object(self.backbone),
            "num_classes": self.num_classes,
            "policy": keras.saving.serialize_keras_object(self.policy),
            "dropout": self.dropout,
            "policy_epoch": self.policy_epoch,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["backbone"] = keras.saving.deserialize_keras_object(config["backbone"])
        config["policy"] = keras.saving.deserialize_keras_object(config["policy"])
        return cls(**config)


def _merge(histories, model):
    merged = keras.callbacks.History()
    merged.set_model(model)
    merged.history = {"phase": []}
    merged.epoch = []
    for phase, h in histories:
        first = len(merged.epoch)
        merged.epoch.extend(h.epoch)
        for key, values in h.history.items():
            merged.history.setdefault(key, [None] * first).extend(values)
        merged.history["phase"].extend([phase] * len(h.epoch))
        model.phases.append((phase, h.epoch[0] if h.epoch else first, h.epoch[-1] if h.epoch else first))
    return merged
