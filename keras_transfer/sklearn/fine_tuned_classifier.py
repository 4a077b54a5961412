"""`FineTunedClassifier`: fine-tune a pretrained backbone under a trainability policy, sklearn-style."""

from __future__ import annotations

import copy
import os

from keras_transfer._validation import check_float
from keras_transfer.backbones import DEFAULT_BACKBONE
from keras_transfer.sklearn._keras_classifier import (
    KerasImageClassifier,
    build_backbone,
    check_epochs,
    check_estimator_params,
    scoped_random_state,
)


class FineTunedClassifier(KerasImageClassifier):
    """An image classifier that fine-tunes a backbone with a `keras_transfer.policies` policy.

    ``fit`` builds a `keras_transfer.models.TransferClassifier` and runs its two-phase
    ``fine_tune``: ``head_epochs`` training only the head at ``head_learning_rate``, then
    ``epochs`` under ``policy`` at ``learning_rate``. Labels may be of any type (strings
    included); ``classes_`` holds them sorted. Images as for `FeatureExtractor`.

    Texts: with ``backbone="text:minilm"`` (or another ``"text:"`` backbone, see
    `keras_transfer.backbones.load_text_backbone`), ``X`` is a list, 1-D array or pandas Series
    of strings, the tokenizer is part of the model, and ``policy`` acts on the transformer layers
    (``UnfreezeTop(2)`` trains the top two). ``input_shape`` and ``resize`` do not apply.

    Training options follow scikeras: ``class_weight``, ``callbacks`` (copied for each fit, used
    in both phases) and ``validation_split`` are constructor parameters; ``sample_weight`` and
    ``validation_data=(X_val, y_val)`` are fit parameters (under scikit-learn's metadata routing,
    request them with ``set_fit_request(sample_weight=True, validation_data=True)``). Images with
    weight 0 are left out.

    Args:
        backbone: a name from `keras_transfer.backbones.list_backbones()`.
        weights: ``"imagenet"``, ``None`` or a weights-file path.
        input_shape: ``(height, width, 3)`` the backbone runs at; ``None`` for its native size.
        policy: a trainability policy (e.g. ``keras_transfer.policies.UnfreezeTop(2)``), a name
            such as ``"freeze_all"``, or ``None`` (unfreeze everything), resolved by
            `keras_transfer.policies.as_policy`. Deep-copied in ``fit``, never modified.
        dropout: dropout rate before the softmax head.
        head_epochs: epochs of the head-only phase; ``"auto"`` (default): the head is the
            linear probe, logistic regression fitted on cached frozen features (the recipe of
            `keras_transfer.models.TransferClassifier.fine_tune`, chosen on validation splits
            of Fashion-MNIST; benchmarks/README.md, "Fine-tuning recipe").
        epochs: epochs of the fine-tuning phase; ``"auto"`` (default): 10 (a warm-up + cosine
            schedule), then the best on the validation split is kept among the head-only model,
            the fine-tuned model and the fine-tuned backbone under a refitted probe (a probe
            head is refitted on all the images).
            Without ``validation_data`` or ``validation_split``, the split is a stratified 20%
            when every class has at least 5 images (else 3 epochs, no split).
        batch_size: images per step (training and prediction).
        learning_rate: fine-tuning learning rate; ``"auto"`` (default): 3e-4 (the schedule's
            peak) with ``epochs="auto"``, 1e-4 with an int ``epochs`` (constant) or a text
            backbone.
        head_learning_rate: head-phase learning rate.
        class_weight: ``None``, ``"balanced"`` or ``{label: weight}``, multiplied into the
            per-image weights.
        callbacks: Keras callbacks, used in both phases.
        validation_split: fraction of the images held out as Keras validation data (ignored
            when ``validation_data`` is given).
        resize: resize images of mixed sizes to the backbone's input size.
        random_state: ``None`` or an int >= 0; seeds Keras, numpy and Python's ``random`` at the start of
            ``fit``; the global numpy and Python generators are restored when ``fit`` returns.
        verbose: Keras ``fit`` verbosity.

    Attributes:
        model_: the trained `keras_transfer.models.TransferClassifier`.
        classes_: the labels seen in ``fit``.
        history_: per-epoch metrics (``history_["phase"]`` names each epoch's phase).
        input_size_: the ``(height, width)`` the backbone works at.

    Example:
        >>> import numpy as np
        >>> from keras_transfer.sklearn import FineTunedClassifier
        >>> X = np.random.default_rng(0).integers(0, 255, (8, 32, 32, 3))
        >>> y = np.array(["cat", "dog"] * 4)
        >>> clf = FineTunedClassifier(backbone="mobilenet_v3_small", weights=None,
        ...                           input_shape=(32, 32, 3), epochs=1, head_epochs=0, batch_size=4)
        >>> clf.fit(X, y).predict(X[:2]).dtype.kind
        'U'
    """

    def __init__(
        self,
        *,
        backbone: str = DEFAULT_BACKBONE,
        weights: str | os.PathLike | None = "imagenet",
        input_shape: tuple[int, int, int] | None = None,
        policy=None,
        dropout: float = 0.2,
        head_epochs: int | str = "auto",
        epochs: int | str = "auto",
        batch_size: int = 32,
        learning_rate: float | str = "auto",
        head_learning_rate: float = 3e-3,
        class_weight=None,
        callbacks=None,
        validation_split: float = 0.0,
        resize: bool = False,
        random_state: int | None = None,
        verbose: int = 0,
    ):
        self.backbone = backbone
        self.weights = weights
        self.input_shape = input_shape
        self.policy = policy
        self.dropout = dropout
        self.head_epochs = head_epochs
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.head_learning_rate = head_learning_rate
        self.class_weight = class_weight
        self.callbacks = callbacks
        self.validation_split = validation_split
        self.resize = resize
        self.random_state = random_state
        self.verbose = verbose

    @scoped_random_state
    def fit(self, X, y=None, sample_weight=None, validation_data=None):
        """Fine-tune on images ``X`` with labels ``y`` (any type); returns self.

        A folder or a list of image files is streamed (decoded, resized to the backbone's input
        size and shuffled every epoch in `tf.data`; unreadable files skipped with a message); for
        a folder, ``y=None`` takes the labels from its class sub-folders. Streamed training takes
        ``class_weight`` and ``validation_data`` (arrays or files), not ``sample_weight`` or
        ``validation_split``.
        """
        check_estimator_params(self, auto_epochs=True)
        check_epochs(self.head_epochs, "head_epochs")
        check_float(self.head_learning_rate, "head_learning_rate", min_value=0.0, min_inclusive=False)
        stream = self._is_stream(X)
        if not stream:
            y = self._check_y(y)
        from keras_transfer.models import TransferClassifier
        from keras_transfer.policies import as_policy

        policy = as_policy(copy.deepcopy(self.policy))
        self._seed()
        backbone = build_backbone(self)
        self.input_size_ = tuple(backbone.input_size)
        if stream:
            data = self._streamed_training(X, y, sample_weight, validation_data, self.input_size_)
            images, validation = data.images, data.validation
            fit_weights = {"class_weight": data.weights}
        else:
            data = self._training_data(X, y, sample_weight, validation_data, self.input_size_)
            images, validation = self._model_inputs(data.images), None
            if data.validation is not None:
                validation = (self._model_inputs(data.validation[0]), data.validation[1])
            weights = None if data.weights is None else data.weights.astype("float32")
            fit_weights = {"sample_weight": weights}
        self.model_ = TransferClassifier(
            backbone, num_classes=len(self.classes_), policy=policy, dropout=self.dropout
        )
        history = self.model_.fine_tune(
            images,
            data.codes,
            head_epochs=check_epochs(self.head_epochs, "head_epochs"),
            epochs=check_epochs(self.epochs, "epochs"),
            head_learning_rate=self.head_learning_rate,
            learning_rate=self.learning_rate,
            batch_size=int(self.batch_size),
            validation_data=validation,
            **fit_weights,
            callbacks=self._callbacks(),
            verbose=self.verbose,
        )
        self.history_ = dict(history.history)
        return self
