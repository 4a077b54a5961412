"""`TransferClassifier`: backbone + dropout + softmax head, governed by a trainability policy."""

from __future__ import annotations

import keras
import numpy as np

from keras_transfer._validation import check_bool, check_choice, check_float, check_int
from keras_transfer.api_export import export
from keras_transfer.backbones import get_backbone
from keras_transfer.image_io import is_path_input
from keras_transfer.layers import WeightNormalizedDense
from keras_transfer.models import _fine_tune_recipe as recipe
from keras_transfer.models._fit_checks import check_callbacks, check_fit_kwargs
from keras_transfer.models._guards import check_image_batch, check_label_array, with_loss_guard
from keras_transfer.models._multi_worker import MultiWorkerFit
from keras_transfer.models._resumable import SeedStateSaving, backup_epoch, reset_initial_epoch
from keras_transfer.policies import (
    L2SP,
    FreezeAll,
    GradualUnfreezing,
    TrainabilityScheduler,
    as_policy,
    policy_chain,
)
from keras_transfer.safe_mode import check_safe_mode
from keras_transfer.streaming import as_model_input


@export
class TransferClassifier(SeedStateSaving, MultiWorkerFit, keras.Model):
    """An image classifier on a pretrained backbone whose trainability follows a policy.

    ``call``: raw images -> ``backbone`` (pooled features) -> ``Dropout`` -> ``Dense`` logits ->
    softmax. The policy is applied at construction and again on load (``from_config``), so a saved
    model comes back with the same trainable set, BN modes, learning-rate multipliers and L2-SP
    anchors (saved as weights). `compile` defaults to Adam(1e-3), sparse categorical cross-entropy
    and accuracy, and asks the policy for the optimizer (`DiscriminativeLR` turns it into a
    `MultiOptimizer`). `fine_tune` runs the two phases of the Keras transfer-learning guide.

    The model is built when it is constructed (a symbolic call at the backbone's ``input_size``),
    so callbacks that need a built model, such as `keras.callbacks.BackupAndRestore`, work on the
    first ``fit``. Saved weights include the states of the random seed generators (dropout and
    EfficientNet drop-connect), so training resumed from a `BackupAndRestore` backup draws the same
    dropout masks as uninterrupted training. Under a mixed-precision policy
    (``keras.mixed_precision.set_global_policy("mixed_float16")``) the softmax runs in float32 and
    the probabilities are float32, as the Keras mixed-precision guide recommends for the last layer.

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
        label_smoothing: label smoothing of `compile`'s default loss, in [0, 1) (0: none). SHOT's
            source recipe (Liang et al., ICML 2020) uses 0.1, which leaves target features that
            its pseudo-labels separate better; see `keras_transfer.models.SHOT`.
        weight_norm: make the classifier a `keras_transfer.layers.WeightNormalizedDense` (SHOT's
            source recipe) instead of a plain Dense layer.

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
        label_smoothing: float = 0.0,
        weight_norm: bool = False,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if isinstance(backbone, str):
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
        self.backbone = backbone
        self.num_classes = check_int(num_classes, "num_classes", min_value=2)
        self.dropout = check_float(dropout, "dropout", min_value=0, max_value=1, max_inclusive=False)
        self.policy_epoch = check_int(policy_epoch, "policy_epoch", min_value=0)
        self.dropout_layer = keras.layers.Dropout(self.dropout, name="head_dropout")
        self.label_smoothing = check_float(
            label_smoothing, "label_smoothing", min_value=0, max_value=1, max_inclusive=False
        )
        self.weight_norm = check_bool(weight_norm, "weight_norm")
        dense = WeightNormalizedDense if self.weight_norm else keras.layers.Dense
        self.classifier = dense(self.num_classes, name="head_classifier")
        # float32 whatever the global dtype policy: float16 probabilities round small ones to 0
        # and their sum away from 1 (the Keras mixed-precision guide's last layer)
        self.softmax = keras.layers.Activation("softmax", dtype="float32", name="head_softmax")
        self.classifier.build((None, backbone.num_features))
        self.policy = None
        self.set_policy(as_policy(policy, "policy"), self.policy_epoch)
        # Built now (after the policy, which may add L2-SP anchors: Keras adds no state to a built
        # model), so BackupAndRestore, which refuses unbuilt models, works on the first fit.
        symbolic = getattr(backbone, "symbolic_input", None)  # text backbones take strings
        if symbolic is not None:
            self(symbolic())
        else:
            size = tuple(getattr(backbone, "input_size", None) or (None, None))
            self(keras.KerasTensor((None, *size, 3)))

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
        return self.softmax(self.classifier(x))

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.num_classes)

    def fit(self, x=None, y=None, *args, callbacks=None, **kwargs):
        """`keras.Model.fit`, after checking numpy inputs: images (NaN/inf, empty, shape, pixel
        range) and integer labels in ``[0, num_classes)`` with one per image. Training stops, with a
        warning, at the first non-finite loss.

        ``x`` may also be a folder or a list of image files: they are streamed (decoded, resized to
        the backbone's input size, batched and shuffled every epoch in `tf.data`, by
        `keras_transfer.streaming.image_dataset` with ``full_batches=True``), with ``y`` one label
        per file or, for a folder, None for its class sub-folders; unreadable files are skipped
        with a message.
        """
        if not _takes_text(self.backbone):  # texts are checked by the tokenizer
            check_image_batch(x, "x")
        y = check_label_array(y, self.num_classes, len(x) if isinstance(x, np.ndarray) else None, "y")
        callbacks = check_callbacks(callbacks)
        check_fit_kwargs(  # weights and validation data, before an epoch trains
            kwargs,
            num_examples=len(x) if isinstance(x, np.ndarray) else None,
            num_classes=self.num_classes,
        )
        if is_path_input(x) and not _takes_text(self.backbone):  # strings are texts, not paths
            x, y = as_model_input(
                x,
                y,
                image_size=self.backbone.input_size,
                batch_size=kwargs.pop("batch_size", None),
                shuffle=kwargs.pop("shuffle", True),
                seed=np.random.randint(2**31),
                on_error="skip",
                full_batches=True,
            )
            kwargs["shuffle"] = False  # the stream reshuffles itself every epoch
        reset_initial_epoch(self)
        x = _texts(self.backbone, x)
        return super().fit(x, y, *args, callbacks=with_loss_guard(callbacks), **kwargs)

    def predict(self, x, *args, **kwargs):
        """`keras.Model.predict`, after checking a numpy ``x`` as `fit` does; a folder or a list of
        image files is streamed, resized to the backbone's input size (one row per file, sorted by
        path for a folder; an unreadable file raises an error naming it)."""
        if not _takes_text(self.backbone):  # texts are checked by the tokenizer
            check_image_batch(x, "x")
        if is_path_input(x) and not _takes_text(self.backbone):  # strings are texts, not paths
            x, _ = as_model_input(
                x,
                image_size=self.backbone.input_size,
                batch_size=kwargs.pop("batch_size", None),
                labelled=False,
            )
        return super().predict(_texts(self.backbone, x), *args, **kwargs)

    def evaluate(self, x=None, y=None, *args, **kwargs):
        """`keras.Model.evaluate`, after checking numpy inputs as `fit` does (a folder or a list of
        image files is streamed as in `predict`, labelled by ``y`` or the folder's classes)."""
        if not _takes_text(self.backbone):  # texts are checked by the tokenizer
            check_image_batch(x, "x")
        y = check_label_array(y, self.num_classes, len(x) if isinstance(x, np.ndarray) else None, "y")
        if is_path_input(x) and not _takes_text(self.backbone):  # strings are texts, not paths
            x, y = as_model_input(
                x, y, image_size=self.backbone.input_size, batch_size=kwargs.pop("batch_size", None)
            )
        return super().evaluate(_texts(self.backbone, x), y, *args, **kwargs)

    def compile(
        self, optimizer="adam", loss="sparse_categorical_crossentropy", metrics=("accuracy",), **kwargs
    ):
        """Compile with sensible defaults; the optimizer goes through ``policy.make_optimizer``."""
        optimizer = self.policy.make_optimizer(self, optimizer)
        metrics = list(metrics) if isinstance(metrics, tuple) else metrics
        self._smoothed_loss = bool(self.label_smoothing) and loss == "sparse_categorical_crossentropy"
        if self._smoothed_loss:
            loss = _smoothed_sparse_crossentropy(self.label_smoothing, self.num_classes)
        super().compile(optimizer=optimizer, loss=loss, metrics=metrics, **kwargs)

    def get_compile_config(self):
        config = super().get_compile_config()
        if config is not None and getattr(self, "_smoothed_loss", False):  # rebuilt by compile
            config = {**config, "loss": "sparse_categorical_crossentropy"}
        return config

    def compile_from_config(self, config):
        self.compile(**keras.saving.deserialize_keras_object(config))
        if self.built:
            self.optimizer.build(self.trainable_variables)

    def fine_tune(
        self,
        x,
        y=None,
        *,
        head_epochs: int | str = "auto",
        epochs: int | str = "auto",
        head_learning_rate: float = 3e-3,
        learning_rate: float | str = "auto",
        optimizer="adam",
        schedule: str = "auto",
        validation_split: float | str = "auto",
        keep_better: bool = True,
        refit: bool | str = True,
        time_budget: float | None = None,
        callbacks=None,
        **fit_kwargs,
    ):
        """Two phases (Keras transfer-learning guide): train the head, then fine-tune per policy.

        Phase ``"head"``: the backbone is frozen (`FreezeAll`, BN in inference mode) and the head
        trains at ``head_learning_rate``. Phase ``"fine_tune"``: the model's policy is applied and
        training goes on at ``learning_rate`` (`DiscriminativeLR` uses its own ``base_lr``); a
        `GradualUnfreezing` schedule is driven by its callback. Loss and metrics are this class's
        defaults.

        The defaults are the recipe chosen on validation splits of Fashion-MNIST's training
        labels (benchmarks/README.md, "Fine-tuning recipe"), where it beat the linear probe:

        - ``validation_split="auto"``: with ``epochs="auto"``, numpy inputs and no
          ``validation_data``, a stratified 20% of the labelled images is held out when every
          class has at least 5 (fewer: no split, and none of the validation-driven steps below).
          With an int ``epochs`` nothing is held out unless ``validation_split`` is a fraction.
        - ``head_epochs="auto"``: the head is the linear probe: scikit-learn's
          ``LogisticRegression(C=1)`` fitted on the frozen backbone's features (computed once)
          and copied into the Dense layer (a softmax head is multinomial logistic regression);
          with a weight-normalised head, Adam on the cached features, up to 100 epochs with
          early stopping on the validation loss (30 without a split). Given an int, the head trains on the images for that
          many epochs as before; with ``callbacks`` or streamed inputs, ``"auto"`` means 3 such
          epochs.
        - ``epochs="auto"``: 10 epochs with a validation split (the whole learning-rate schedule;
          no early stopping: on Fashion-MNIST the validation loss rose and fell by up to 0.2 from
          epoch to epoch, and stopping on it with patience 2 would have ended a run at epoch 6
          with epoch 4's weights, validation accuracy 0.825, where the schedule ended at 0.840),
          3 without a split. An int: exactly that many epochs. A
          `keras.callbacks.EarlyStopping` in ``callbacks`` still stops the phase.
        - ``learning_rate="auto"``: 3e-4 with ``epochs="auto"`` (the peak of the warm-up +
          cosine schedule; validation accuracy 0.860 against 0.815 at 1e-4), 1e-4 with an int
          ``epochs`` (a constant rate, as before) or a text backbone (transformers are usually
          fine-tuned at 1e-5 to 1e-4; 3e-4 was chosen on image backbones only).
        - ``schedule="auto"``: with ``epochs="auto"``, ``"cosine"``: one epoch of linear warm-up
          to ``learning_rate``, then cosine decay to zero over the planned epochs; with an int
          ``epochs``, ``"constant"``: a fixed rate, as before.
        - ``keep_better=True``: after fine-tuning, up to three models are scored on the
          validation split (accuracy, then loss): the head-only model (``"head"``), the
          fine-tuned model (``"fine_tune"``) and, when the head is the logistic-regression probe,
          the fine-tuned backbone under a probe refitted on its features (``"fine_tune_probe"``:
          logistic regression fitted to convergence, where the fine-tuned head ended with dropout
          and a decaying rate). The best is kept (a tie goes to the one listed first), so
          fine-tuning never ends below the linear probe it started from (on that split). Only
          when the head phase ran in this call and the validation data are in memory.
        - ``refit=True``: when the head-only model wins on the automatic split, it is fitted
          again on all the labelled images (phase ``"head_refit"``), so it is the linear probe on
          every label; when ``"fine_tune_probe"`` wins, its probe is refitted on the fine-tuned
          features of every labelled image; a fine-tuned winner is kept as validated.
          ``refit="all"`` also retrains a fine-tuned winner from the pretrained weights on all
          the labels for the epochs the split ran (phase ``"fine_tune_refit"``); it scored lower
          in our study.
        - ``time_budget``: seconds the fine-tuning phase may take; it stops before an epoch that
          would end later (``None``: no limit).

        With a `keras.callbacks.BackupAndRestore` in ``callbacks``, a call after an interruption
        resumes where the interrupted one stopped: in the head phase, or, when the backup was
        written in the fine-tuning phase, straight in that phase (the head phase is skipped and
        the backup restores the weights and the fine-tuning optimizer's state). Keras deletes the
        backup when the head phase's ``fit`` ends, so an interruption during the first
        fine-tuning epoch leaves none: the next call runs both phases again.

        Returns:
            A ``History`` covering both phases: ``history.history["phase"]`` names each epoch's
            phase and ``self.phases`` lists ``(phase, first_epoch, last_epoch)``.
            ``self.fine_tune_selection`` records the validation accuracies and which model was
            kept (``"head"``, ``"fine_tune"`` or ``"fine_tune_probe"``; ``None`` without a
            validation split).
        """
        head_learning_rate = check_float(
            head_learning_rate, "head_learning_rate", min_value=0, min_inclusive=False
        )
        head_epochs = recipe.check_epochs(head_epochs, "head_epochs")
        epochs = recipe.check_epochs(epochs, "epochs")
        learning_rate = recipe.check_learning_rate(learning_rate, epochs, text=_takes_text(self.backbone))
        schedule = check_choice(schedule, ("auto", "cosine", "constant"), "schedule")
        if schedule == "auto":
            schedule = "cosine" if epochs == "auto" else "constant"
        keep_better = check_bool(keep_better, "keep_better")
        if not (isinstance(refit, str) and refit == "all"):
            refit = check_bool(refit, "refit")
        if time_budget is not None:
            time_budget = check_float(time_budget, "time_budget", min_value=0, min_inclusive=False)
        policy = self.policy
        template = keras.optimizers.get(optimizer)

        def make(lr):  # a fresh optimizer per phase: the trainable sets differ
            return type(template).from_config({**template.get_config(), "learning_rate": lr})

        if isinstance(x, np.ndarray):
            if not _takes_text(self.backbone):  # texts are checked by the tokenizer
                check_image_batch(x, "x")
            y = check_label_array(y, self.num_classes, len(x), "y")
        everything = (x, y, {k: v for k, v in fit_kwargs.items() if k != "validation_data"})
        split_here = fit_kwargs.get("validation_data") is None
        if validation_split == "auto" and epochs != "auto":  # explicit epochs: no automatic split
            validation_split = 0.0
        x, y, fit_kwargs, validation = recipe.auto_validation_split(x, y, fit_kwargs, validation_split)
        split_here = split_here and validation is not None
        initial_weights = self.get_weights() if refit and split_here else None
        histories = []
        self.phases = []
        self.fine_tune_selection = None
        resumed = backup_epoch(callbacks)
        probe_head = False  # whether the head phase fitted the logistic-regression probe
        on_features = head_epochs == "auto" and not callbacks and isinstance(x, np.ndarray)
        if head_epochs == "auto" and not on_features:  # image epochs: a few, as before
            head_epochs = recipe.HEAD_EPOCHS_ON_IMAGES
        ran_head = bool(head_epochs) and (resumed is None or resumed < head_epochs)
        if ran_head:  # else: resume fine-tuning
            self.set_policy(FreezeAll(bn="frozen"))
            self.compile(optimizer=make(head_learning_rate))
            if on_features:
                h = recipe.train_head_on_features(
                    self,
                    x,
                    y,
                    validation,
                    epochs=head_epochs,
                    learning_rate=head_learning_rate,
                    optimizer=make,
                    fit_kwargs=fit_kwargs,
                )
                head_epochs = 0  # the fine-tuning phase's epochs count from 0 (no image epochs)
                # the logistic-regression head (one "epoch") is refitted as such on all labels
                probe_head = type(self.classifier) is keras.layers.Dense
                best_head_epochs = "auto" if probe_head else recipe.best_epochs(h)
            else:
                h = self.fit(x, y, epochs=head_epochs, callbacks=callbacks, **fit_kwargs)
            histories.append(("head", h))
        self.set_policy(policy)
        if epochs == "auto":
            epochs = recipe.EPOCHS_WITHOUT_VALIDATION if validation is None else recipe.MAX_EPOCHS
        if epochs:
            head_score = head_weights = None
            if ran_head and keep_better and isinstance(validation, tuple):
                head_score, head_weights = recipe.validation_score(self, validation), self.get_weights()
            lr = learning_rate
            if schedule == "cosine" and isinstance(x, np.ndarray):
                batch_size = fit_kwargs.get("batch_size") or 32
                lr = recipe.warmup_cosine(learning_rate, -(-len(x) // batch_size), epochs)
            self.compile(optimizer=make(lr))
            extra = list(callbacks or [])
            if any(isinstance(p, GradualUnfreezing) for p in policy_chain(policy)):
                extra.append(TrainabilityScheduler(policy, start_epoch=head_epochs))
            if time_budget is not None:
                extra.append(recipe.TimeBudget(time_budget))
            h = self.fit(
                x, y, initial_epoch=head_epochs, epochs=head_epochs + epochs, callbacks=extra, **fit_kwargs
            )
            histories.append(("fine_tune", h))
            if head_score is not None:
                tuned_score = recipe.validation_score(self, validation)
                scores = {"head": head_score, "fine_tune": tuned_score}
                weights = {"head": head_weights, "fine_tune": self.get_weights()}
                if probe_head:
                    # the linear probe again, on the fine-tuned features: the fine-tuned head
                    # was trained with dropout and a decaying rate, logistic regression fits it
                    # to convergence (on all the labels once it wins, below)
                    recipe.logistic_regression_head(
                        self,
                        recipe.features_of(self.backbone, x),
                        y,
                        None,
                        fit_kwargs,
                    )
                    scores["fine_tune_probe"] = recipe.validation_score(self, validation)
                    weights["fine_tune_probe"] = self.get_weights()
                # the best on the split; a tie goes to the simpler model (listed first)
                kept = max(scores, key=lambda k: scores[k])
                self.set_weights(weights[kept])
                selection = {
                    "kept": kept,
                    **{f"{k}_val_accuracy": v[0] for k, v in scores.items()},
                }
                if initial_weights is not None and on_features and (kept == "head" or refit == "all"):
                    # the head-only model won: refit it on every label (the probe on all of them).
                    # A fine-tuned winner is kept as validated: refitted for the chosen epochs on
                    # all labels it scored 0.783 and 0.785 test vs 0.808 for the validated one
                    # (Fashion-MNIST, 1,000 labels, seed 0; benchmarks/README.md).
                    self.set_weights(initial_weights)
                    best_epochs = 0 if kept == "head" else len(h.epoch)
                    histories += recipe.refit_on_all(
                        self,
                        *everything,
                        policy=policy,
                        head_epochs=best_head_epochs,
                        epochs=best_epochs,
                        planned_epochs=epochs,
                        head_optimizer=make(head_learning_rate),
                        optimizer=lambda n: make(
                            recipe.warmup_cosine(learning_rate, n, epochs)
                            if schedule == "cosine"
                            else learning_rate
                        ),
                    )
                    selection.update(refit_head_epochs=best_head_epochs, refit_epochs=best_epochs)
                if initial_weights is not None and kept == "fine_tune_probe":
                    # the probe on the fine-tuned features of every label (after the retraining
                    # above with refit="all"), as a head-only winner is refitted on every label
                    x_all, y_all, kwargs_all = everything
                    features = recipe.features_of(self.backbone, x_all)
                    recipe.logistic_regression_head(self, features, y_all, None, kwargs_all)
                    selection.update(refit_probe=True)
                # a plain dict, assigned once (Keras tracks dict attributes of a model)
                self.fine_tune_selection = selection
        return _merge(histories, self)

    def get_config(self):
        return {
            **super().get_config(),
            "backbone": keras.saving.serialize_keras_object(self.backbone),
            "num_classes": self.num_classes,
            "policy": keras.saving.serialize_keras_object(self.policy),
            "dropout": self.dropout,
            "policy_epoch": self.policy_epoch,
            "label_smoothing": self.label_smoothing,
            "weight_norm": self.weight_norm,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if isinstance(config.get("backbone"), str):  # get_config writes a dict; a name builds anew
            check_safe_mode(
                "TransferClassifier",
                f"builds backbone={config['backbone']!r} with its pretrained weights (a download or "
                "a file read) instead of taking the backbone from the file",
            )
        config["backbone"] = keras.saving.deserialize_keras_object(config["backbone"])
        config["policy"] = keras.saving.deserialize_keras_object(config["policy"])
        return cls(**config)


def _takes_text(backbone) -> bool:
    """Whether ``backbone`` takes strings (a `TextBackbone`): then strings are texts, not file paths."""
    return getattr(backbone, "symbolic_input", None) is not None


def _texts(backbone, x):
    """A list or numpy array of strings for a text backbone as a string tensor (Keras' data adapters
    refuse numpy string dtypes); anything else unchanged. Text backbones need TensorFlow."""
    if not _takes_text(backbone) or not isinstance(x, (np.ndarray, list, tuple)):
        return x
    import tensorflow as tf  # text backbones tokenize with TensorFlow ops

    return tf.constant(np.asarray([str(t) for t in np.asarray(x, dtype=object).ravel()], dtype=object))


def _smoothed_sparse_crossentropy(smoothing: float, num_classes: int):
    """Sparse categorical cross-entropy on probabilities with label smoothing ``smoothing``."""

    def sparse_categorical_crossentropy(y_true, y_pred):
        labels = keras.ops.cast(keras.ops.reshape(y_true, (-1,)), "int32")
        one_hot = keras.ops.one_hot(labels, num_classes, dtype=y_pred.dtype)
        return keras.losses.categorical_crossentropy(one_hot, y_pred, label_smoothing=smoothing)

    return sparse_categorical_crossentropy


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
        for values in merged.history.values():  # a metric this phase lacks (no val_* in a refit)
            values.extend([None] * (len(merged.epoch) - len(values)))
        model.phases.append((phase, h.epoch[0] if h.epoch else first, h.epoch[-1] if h.epoch else first))
    return merged
