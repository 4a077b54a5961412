"""`DomainAdaptationClassifier`: DANN / Deep CORAL / MMD adaptation behind ``fit(X, y, X_target=...)``."""

from __future__ import annotations

import os

import numpy as np

from keras_transfer.sklearn._keras_classifier import KerasImageClassifier, build_backbone, check_common

METHODS = ("dann", "coral", "mmd")


class DomainAdaptationClassifier(KerasImageClassifier):
    """Train on labelled source images while adapting to unlabelled target images.

    The model is ``backbone -> Dense(bottleneck, relu)`` features, a softmax head, and either a
    gradient-reversal domain head (``method="dann"``, `keras_transfer.models.DANN`, Ganin et
    al., JMLR 2016) or a feature-discrepancy penalty (``"coral"``: Sun and Saenko, ECCV-W 2016;
    ``"mmd"``: Long et al., ICML 2015; `keras_transfer.models.DiscrepancyModel`).

    **Target-domain convention**: the unlabelled target images are a fit parameter,
    ``fit(X_source, y_source, X_target=X_target)``. In a ``Pipeline`` route it to this step
    with ``pipe.fit(X, y, clf__X_target=X_target)`` (the step named ``clf``); it reaches this
    step untransformed, so put this classifier first on the images (it holds its own
    backbone). In ``cross_val_score``/``GridSearchCV`` pass ``params={"X_target": X_target}``;
    sklearn slices fit params that have as many rows as ``X`` per fold, so give a target set
    of a different length (or accept that each fold sees its share). ``fit`` without
    ``X_target`` is an error. ``predict``/``score`` take target (or any) images.

    Args:
        method: ``"dann"``, ``"coral"`` or ``"mmd"``.
        backbone: a name from `keras_transfer.backbones.list_backbones()`.
        weights: ``"imagenet"``, ``None`` or a weights-file path.
        input_shape: ``(height, width, 3)``; ``None`` for the backbone's native size.
        train_backbone: also train the backbone (else only the bottleneck and heads learn).
        bottleneck: units of the adapted feature layer.
        adaptation_weight: reversal weight for DANN (``None``: the paper's ramp from 0 to 1)
            or the discrepancy weight for CORAL/MMD (``None`` means 1.0).
        epochs: passes over the source data.
        batch_size: images per domain per step.
        learning_rate: Adam learning rate.
        resize: resize images of mixed sizes to the backbone's input size.
        random_state: seeds Keras, numpy and Python's ``random`` at the start of ``fit``.
        verbose: Keras ``fit`` verbosity.

    Attributes:
        model_: the trained `keras_transfer.models.DANN` or `DiscrepancyModel`.
        classes_: the source labels seen in ``fit``.
        history_: per-epoch metrics (``label_loss``, ``domain_loss`` or ``discrepancy``, ...).
        input_size_: the ``(height, width)`` the backbone works at.

    Example:
        >>> import numpy as np
        >>> from keras_transfer.sklearn import DomainAdaptationClassifier
        >>> rng = np.random.default_rng(0)
        >>> Xs, ys = rng.integers(0, 255, (8, 32, 32, 3)), np.array(["a", "b"] * 4)
        >>> Xt = rng.integers(0, 255, (6, 32, 32, 3))
        >>> clf = DomainAdaptationClassifier(method="coral", backbone="mobilenet_v3_small",
        ...     weights=None, input_shape=(32, 32, 3), epochs=1, batch_size=4)
        >>> clf.fit(Xs, ys, X_target=Xt).predict(Xt).shape
        (6,)
    """

    def __init__(
        self,
        *,
        method: str = "dann",
        backbone: str = "efficientnet_lite0",
        weights: str | os.PathLike | None = "imagenet",
        input_shape: tuple[int, int, int] | None = None,
        train_backbone: bool = False,
        bottleneck: int = 128,
        adaptation_weight: float | None = None,
        epochs: int = 5,
        batch_size: int = 32,
        learning_rate: float = 1e-3,
        resize: bool = False,
        random_state: int | None = None,
        verbose: int = 0,
    ):
        self.method = method
        self.backbone = backbone
        self.weights = weights
        self.input_shape = input_shape
        self.train_backbone = train_backbone
        self.bottleneck = bottleneck
        self.adaptation_weight = adaptation_weight
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.resize = resize
        self.random_state = random_state
        self.verbose = verbose

    def fit(self, X, y, X_target=None):
        """Fit on labelled source ``(X, y)`` and unlabelled target images ``X_target``; returns self."""
        check_common(self)
        self._check_y(y)
        if self.method not in METHODS:
            from keras_transfer._validation import suggest

            raise ValueError(
                f"`method` must be one of {METHODS}; received method={self.method!r}."
                + suggest(str(self.method), METHODS)
            )
        if (
            isinstance(self.bottleneck, bool)
            or not isinstance(self.bottleneck, (int, np.integer))
            or self.bottleneck < 1
        ):
            raise ValueError(f"`bottleneck` must be a positive int; received bottleneck={self.bottleneck!r}.")
        if self.adaptation_weight is not None and not (
            isinstance(self.adaptation_weight, (int, float)) and self.adaptation_weight >= 0
        ):
            raise ValueError(
                f"`adaptation_weight` must be None or a number >= 0; received adaptation_weight={self.adaptation_weight!r}."
            )
        import keras

        from keras_transfer.models import DANN, DiscrepancyModel

        self._seed()
        backbone = build_backbone(self)
        backbone.trainable = bool(self.train_backbone)
        self.input_size_ = tuple(backbone.input_size)
        source = self._images(X, reset=True, size=self.input_size_).astype("float32")
        codes = self._encode(y, len(source))
        if X_target is None:
            raise ValueError(
                "DomainAdaptationClassifier.fit needs unlabelled target images: fit(X, y, X_target=...). "
                "In a Pipeline pass pipe.fit(X, y, <step>__X_target=...); in cross_val_score or "
                "GridSearchCV pass params={'X_target': ...}."
            )
        source, target = self._images_target(X_target, source)
        features = keras.Sequential(
            [backbone, keras.layers.Dense(int(self.bottleneck), activation="relu", name="bottleneck")],
            name="adapted_features",
        )
        if self.method == "dann":
            self.model_ = DANN(features, label_head=len(self.classes_), scale=self.adaptation_weight)
        else:
            weight = 1.0 if self.adaptation_weight is None else float(self.adaptation_weight)
            self.model_ = DiscrepancyModel(
                features, len(self.classes_), discrepancy=self.method, weight=weight
            )
        self.model_.compile(optimizer=keras.optimizers.Adam(self.learning_rate))
        history = self.model_.fit(
            x=(source, target),
            y=codes,
            epochs=int(self.epochs),
            batch_size=int(self.batch_size),
            verbose=self.verbose,
        )
        self.history_ = dict(history.history)
        return self

    def _images_target(self, X_target, source: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Target images as float32 at the source's size, both with the same channels."""
        from keras import ops

        from keras_transfer.image_io import to_images

        if isinstance(X_target, np.ndarray) and X_target.ndim == 2 and hasattr(self, "n_features_in_"):
            if X_target.shape[1] != self.n_features_in_:
                raise ValueError(
                    f"`X_target` has {X_target.shape[1]} features per row but X had {self.n_features_in_}."
                )
        target = to_images(X_target, resize=bool(self.resize), size=self.input_size_).astype("float32")
        if target.shape[-1] != source.shape[-1]:  # one grayscale, one RGB: both RGB
            source, target = (np.repeat(a, 3, axis=-1) if a.shape[-1] == 1 else a for a in (source, target))
        if target.shape[1:3] != source.shape[1:3]:
            target = np.asarray(ops.image.resize(target, source.shape[1:3], interpolation="bilinear"))
        return source, target
