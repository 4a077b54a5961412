"""`DomainAdaptationClassifier`: unsupervised domain adaptation behind ``fit(X, y, X_target=...)``."""

from __future__ import annotations

import contextlib
import os
import warnings

import numpy as np

from keras_transfer._validation import check_bool, check_choice, check_float, check_int
from keras_transfer.adaptation import warn_if_collapsed
from keras_transfer.backbones import DEFAULT_BACKBONE
from keras_transfer.image_io import resize_images
from keras_transfer.sklearn import _auto, _methods, _text
from keras_transfer.sklearn._keras_classifier import (
    KerasImageClassifier,
    build_backbone,
    check_estimator_params,
    scoped_random_state,
)

METHODS = ("auto", *_methods.METHODS)


class DomainAdaptationClassifier(KerasImageClassifier):
    """Train on labelled source images while adapting to unlabelled target images.

    The network is ``backbone -> Dense(bottleneck, relu)`` (the adapted features) ``->`` softmax,
    trained on the source labels plus the adaptation term of ``method``:

    - ``"source_only"``: no adaptation (the baseline every method must beat).
    - ``"adabn"``: source-only with a BatchNormalization layer on the pooled backbone features,
      then the statistics of every trainable BatchNorm layer are re-estimated on the target (Li
      et al., ICLR-W 2017; `keras_transfer.adaptation.adapt_batch_norm`). A frozen backbone
      keeps its pretraining statistics in both domains (the layers after them never trained on
      source-normalised values), so with the default frozen backbone the domain is carried by
      the feature layer; with ``train_backbone=True`` by the backbone's layers too.
    - ``"dann"``: gradient reversal against a domain classifier (Ganin et al., JMLR 2016;
      `keras_transfer.models.DANN`). ``"cdan"`` / ``"cdan+e"``: the classifier conditioned on the
      predictions, + entropy conditioning (Long et al., NeurIPS 2018; `keras_transfer.models.CDAN`).
    - ``"mcc"``: minimum class confusion (Jin et al., ECCV 2020); ``"entropy"``: target entropy
      minimisation (Grandvalet and Bengio, NeurIPS 2004) (`keras_transfer.models.TargetRegularizedModel`).
    - ``"self_training"``: FixMatch-style confident pseudo-labels on weak/strong views (Sohn et
      al., NeurIPS 2020; `keras_transfer.models.SelfTraining`).
    - ``"coral"``: Deep CORAL (Sun and Saenko, ECCV-W 2016); ``"mmd"``: multi-kernel MMD (Long et
      al., ICML 2015) (`keras_transfer.models.DiscrepancyModel`).
    - ``"shot"`` / ``"tent"``: source-only training, then adaptation on the target images alone,
      without the source: SHOT (Liang et al., ICML 2020; `keras_transfer.models.SHOT`, ``epochs``
      passes over the target) or TENT (Wang et al., ICLR 2021; AdaBN, then one pass of
      `keras_transfer.models.adapt_at_test_time`). For an estimator that is already fitted, use
      `keras_transfer.sklearn.adapt_source_free`. Not among ``"auto"``'s candidates.
    - ``"auto"`` (default): chooses among source-only, AdaBN, CORAL, MCC, DANN and DANN then
      self-training without target labels. It holds out 20% of the source and 25% of the target
      images and trains source-only on the rest; when a domain classifier cannot tell the
      held-out source from the held-out target (no detectable shift), source-only is chosen
      outright. Otherwise every candidate trains on the same rest; candidates whose target
      predictions look collapsed, or that lose held-out source accuracy, are refused; among the
      others (source-only included) the best mean rank over a few label-free validators wins
      (the rule and the leaderboard it was chosen from on the benchmark pairs:
      benchmarks/README.md, "Choosing among methods without target labels"). The chosen method
      is then refit on all the data; ``method_``, ``selection_scores_`` and ``domain_shift_``
      say what was chosen and why.

    **Few-label validation**: if you can label a few target images (20-100), pass them as
    ``fit(X, y, X_target=X_target, X_target_val=X_val, y_target_val=y_val)``. With ``"auto"``,
    every candidate trains on the split above (even with no detectable shift) and is also scored
    on those labels: the labels decide where they can (a candidate less accurate than the most
    accurate one by more than one standard error of the paired difference is not chosen), and
    among the candidates they cannot tell apart the label-free rule chooses (50 labels cannot
    separate methods a few points apart; see benchmarks/README.md). With any method,
    ``target_validation_`` reports the returned model's accuracy on those labels with a 95%
    Wilson interval (`keras_transfer.adaptation.wilson_interval`). The labelled images are never
    trained on, not even as unlabelled target images (add them to ``X_target`` yourself for
    that). When the same labels chose the method, that accuracy is somewhat optimistic (the
    winner of several noisy scores); the interval does not account for it. ``y_target_val`` must
    use the labels of ``y``. They are routed like ``X_target``: ``clf__X_target_val=`` in a
    ``Pipeline`` without metadata routing, requested by default with it;
    ``GridSearchCV``/``cross_val_score`` slice a fit parameter with as many rows as ``X``, so use
    a validation set of another length.

    **Texts**: with ``backbone="text:minilm"`` (or another ``"text:"`` backbone), ``X``,
    ``X_target`` and the validation inputs are lists or 1-D arrays of strings; the methods adapt
    on the frozen encoder's pooled features (extracted once and cached, as by `FeatureExtractor`):
    the network is ``features -> Dense(bottleneck) -> heads``, so ``train_backbone=True`` is
    refused (fine-tune text with `FineTunedClassifier`). ``"adabn"`` and ``"tent"`` are refused
    (transformers normalise with LayerNorm: no BatchNorm statistics to re-estimate; ``"auto"``
    skips AdaBN), as are the image-augmenting ``"self_training"`` methods.

    **Target images** are a fit parameter: ``fit(X, y, X_target=X_target)``. ``fit`` without them
    warns and trains source-only (``method_ = "source_only"``). In a ``Pipeline`` (put this
    classifier first on the images: it holds its own backbone): with scikit-learn's metadata
    routing off (the default) pass ``pipe.fit(X, y, clf__X_target=X_target)``; with
    ``sklearn.set_config(enable_metadata_routing=True)`` pass ``pipe.fit(X, y,
    X_target=X_target)`` (this estimator requests ``X_target`` by default, as skada requests
    ``sample_domain``; ``set_fit_request(X_target=False)`` turns that off), and
    ``clf__X_target=`` is refused there. ``cross_val_score``/``GridSearchCV`` take
    ``params={"X_target": X_target}``; they slice fit parameters that have as many rows as
    ``X`` per fold, so give a target set of another length to keep it whole.

    Training options follow scikeras: ``class_weight``, ``callbacks`` (copied for each
    training) and ``validation_split`` are constructor parameters; ``sample_weight`` and
    ``validation_data=(X_val, y_val)`` (labelled source images) are fit parameters, to request
    with ``set_fit_request`` under metadata routing. Images with weight 0 are left out.

    Args:
        method: one of the methods above.
        backbone: a name from `keras_transfer.backbones.list_backbones()`.
        weights: ``"imagenet"``, ``None`` or a weights-file path.
        input_shape: ``(height, width, 3)``; ``None`` for the backbone's native size.
        train_backbone: also train the backbone (else only the bottleneck and heads learn).
        bottleneck: units of the adapted feature layer.
        adaptation_weight: the adaptation term's weight; ``None`` is each method's default:
            the paper's 0 -> 1 ramp of the reversal weight for DANN/CDAN, 1.0 for CORAL, MMD,
            MCC and self-training, 0.1 for entropy (unused by source-only and AdaBN).
        epochs: passes over the larger domain.
        batch_size: images per domain per step.
        learning_rate: Adam learning rate.
        class_weight: ``None``, ``"balanced"`` or ``{label: weight}``, multiplied into the
            per-image weights.
        callbacks: Keras callbacks for the final training.
        validation_split: fraction of the source images held out as Keras validation data
            (ignored when ``validation_data`` is given).
        resize: resize images of mixed sizes to the backbone's input size.
        random_state: ``None`` or an int >= 0; seeds Keras, numpy and Python's ``random`` for
            ``fit``; the global numpy and Python generators are restored when ``fit`` returns.
        verbose: Keras ``fit`` verbosity.

    Attributes:
        model_: the trained Keras model (`keras_transfer.models.DANN`, ..., or a
            ``keras.Sequential`` for source-only and AdaBN).
        method_: the method trained (the choice of ``"auto"``).
        selection_scores_: with ``"auto"``, each candidate's held-out scores and ``status``
            (with target labels: ``target_val_accuracy``, ``target_val_interval``,
            ``target_val_log_loss``, ``num_target_labels``).
        domain_shift_: with ``"auto"``, the shift gate (domain classifier accuracy, threshold);
            ``None`` when the choice was made by target labels.
        target_validation_: with ``X_target_val``/``y_target_val``, the returned model's
            ``accuracy`` on them, its Wilson ``interval`` at ``confidence``, ``log_loss``,
            ``num_labels``, ``method`` and ``selected_by_these_labels``; otherwise ``None``.
        classes_: the source labels seen in ``fit``.
        history_: per-epoch metrics of the final training.
        input_size_: the ``(height, width)`` the backbone works at.

    Raises:
        ValueError: bad arguments, labels (continuous, 2-D, one class) or images (NaN, empty,
            wrong channels), each naming the argument (``X_target`` for target images).

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

    # text backbones ("text:..."): adaptation on the frozen encoder's pooled features (sklearn/_text.py)
    _TEXT_INPUT = "features"
    # scikit-learn's metadata routing: X_target is requested by default (no set_fit_request needed)
    # (and so are the labelled target images of few-label validation, X_target_val / y_target_val)
    __metadata_request__fit = {"X_target": True, "X_target_val": True, "y_target_val": True}
    COLLAPSE_CHECK_ROWS = 2048  # target images the collapse check looks at after fit

    def __init__(
        self,
        *,
        method: str = "auto",
        backbone: str = DEFAULT_BACKBONE,
        weights: str | os.PathLike | None = "imagenet",
        input_shape: tuple[int, int, int] | None = None,
        train_backbone: bool = False,
        bottleneck: int = 128,
        adaptation_weight: float | None = None,
        epochs: int = 5,
        batch_size: int = 32,
        learning_rate: float = 1e-3,
        class_weight=None,
        callbacks=None,
        validation_split: float = 0.0,
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
        self.class_weight = class_weight
        self.callbacks = callbacks
        self.validation_split = validation_split
        self.resize = resize
        self.random_state = random_state
        self.verbose = verbose

    @scoped_random_state
    def fit(
        self,
        X,
        y,
        X_target=None,
        sample_weight=None,
        validation_data=None,
        X_target_val=None,
        y_target_val=None,
    ):
        """Fit on labelled source ``(X, y)`` and unlabelled target images ``X_target``; returns self.

        ``X_target_val`` / ``y_target_val``: a few labelled target images (few-label validation,
        see the class docstring); never trained on.
        """
        check_estimator_params(self)
        check_int(self.epochs, "epochs", min_value=1)  # 0 epochs would adapt nothing
        method = check_choice(self.method, METHODS, "method")
        check_bool(self.train_backbone, "train_backbone")
        check_int(self.bottleneck, "bottleneck", min_value=1)
        check_float(self.adaptation_weight, "adaptation_weight", min_value=0.0, allow_none=True)
        y = self._check_y(y)
        self._seed()
        backbone = build_backbone(self)
        self.input_size_ = tuple(backbone.input_size)
        data = self._training_data(X, y, sample_weight, validation_data, self.input_size_)
        labelled = self._target_validation(X_target_val, y_target_val)
        target = None
        if X_target is None:
            warnings.warn(
                "`X_target` was not given: with no target images to adapt to, "
                f"{type(self).__name__} trains source-only (method_='source_only'). Pass "
                "fit(X, y, X_target=...); in a Pipeline clf__X_target=..., or X_target=... with "
                "metadata routing enabled.",
                UserWarning,
                stacklevel=2,
            )
            method = _methods.SOURCE_ONLY
        else:
            target = self._images(X_target, reset=False, size=self.input_size_, argument="X_target")
        rgb = _methods.needs_rgb(method) or (
            method == "auto" and any(map(_methods.needs_rgb, _auto.CANDIDATES))
        )
        channels = (
            3 if rgb or data.images.shape[-1] == 3 or (target is not None and target.shape[-1] == 3) else 1
        )
        self.image_shape_ = (*data.images.shape[1:3], channels)
        images = self._model_inputs(data.images)
        target = None if target is None else self._model_inputs(target)
        validation = (
            None if data.validation is None else (self._model_inputs(data.validation[0]), data.validation[1])
        )
        if labelled is not None:
            labelled = (self._model_inputs(labelled[0]), labelled[1])
        if method in ("adabn", "tent") and not _methods.has_batch_norm(backbone):
            raise ValueError(
                f"`method`={method!r} re-estimates BatchNormalization statistics on the target, and "
                f"backbone {self.backbone!r} has no BatchNormalization layer. Choose another method."
            )
        if method == "auto":
            method, self.selection_scores_, self.domain_shift_ = self._select(
                images, data, target, backbone, labelled
            )
            # the candidates used the backbone: the final fit starts from a fresh one, seeded as
            # fit(method=<the choice>) starts, so it trains the same model
            self._seed()
            backbone = build_backbone(self)
        self.method_ = method
        self.model_, features, history = self._fit_method(
            method, images, data.codes, data.weights, target, backbone, validation, self._callbacks()
        )
        self.history_ = dict(history.history)
        self.target_validation_ = None
        if labelled is not None:
            row = _auto.labelled_scores(self._run(self.model_, labelled[0]), labelled[1])
            self.target_validation_ = {
                "method": method,
                "accuracy": row["target_val_accuracy"],
                "interval": row["target_val_interval"],
                "confidence": _auto.TARGET_VAL_CONFIDENCE,
                "log_loss": row["target_val_log_loss"],
                "num_labels": row["num_target_labels"],
                "selected_by_these_labels": self.method == "auto" and target is not None,
            }
        self.collapse_report_ = None
        if target is not None:
            self.collapse_report_ = self._collapse_check(self.model_, features, target, data.codes)
            name = method if self.method == method else f"auto (chose {method!r})"
            warn_if_collapsed(self.collapse_report_, name)
        return self

    def _target_validation(self, X_target_val, y_target_val):
        """The checked few-label validation set: ``(images, codes)``, or ``None``."""
        if X_target_val is None and y_target_val is None:
            return None
        if X_target_val is None or y_target_val is None:
            given, missing = ("X_target_val", "y_target_val")[:: 1 if y_target_val is None else -1]
            raise ValueError(
                f"`{given}` was given without `{missing}`: few-label validation needs both the "
                "labelled target images (`X_target_val`) and their labels (`y_target_val`)."
            )
        labels = self._check_y(y_target_val, argument="y_target_val")
        codes = self._codes_of(labels, "y_target_val")
        images = self._images(X_target_val, reset=False, size=self.input_size_, argument="X_target_val")
        if len(images) != len(codes):
            raise ValueError(
                f"`y_target_val` must have one label per image of `X_target_val` ({len(images)} images); "
                f"received {len(codes)} labels."
            )
        return images, codes

    def _collapse_check(self, model, features, target: np.ndarray, codes: np.ndarray, probabilities=None):
        """`keras_transfer.adaptation.check_collapse` of ``model`` on (up to
        ``COLLAPSE_CHECK_ROWS`` of) the target images, against the source class balance."""
        from keras_transfer.adaptation import check_collapse

        rows = target[: self.COLLAPSE_CHECK_ROWS] if probabilities is None else target
        if probabilities is None:
            probabilities = self._run(model, rows)
        reference = np.bincount(codes, minlength=len(self.classes_))
        return check_collapse(
            probabilities, reference_distribution=reference, features=self._run(features, rows)
        )

    def _model_inputs(self, images: np.ndarray) -> np.ndarray:
        """``images`` at the size and channel count the model was trained on, as float32."""
        if images.ndim == 2:  # a text backbone's pooled features (`_TEXT_INPUT`)
            return np.asarray(images, dtype=np.float32)
        height, width, channels = self.image_shape_
        if images.shape[1:3] != (height, width):
            images = resize_images(images, (height, width))
        if images.shape[-1] != channels:
            images = np.repeat(images, 3, axis=-1) if channels == 3 else images.mean(axis=-1, keepdims=True)
        return np.asarray(images, dtype=np.float32)

    def _fit_method(
        self, method, images, codes, weights, target, backbone=None, validation=None, callbacks=()
    ):
        """Build and train ``method`` from a freshly seeded network; returns (model, features, history)."""
        import keras

        self._seed()
        backbone = build_backbone(self) if backbone is None else backbone
        backbone.trainable = bool(self.train_backbone)
        layers = [backbone]
        if _methods.feature_norm(method):
            layers.append(keras.layers.BatchNormalization(name="feature_norm"))
        layers.append(keras.layers.Dense(int(self.bottleneck), activation="relu", name="bottleneck"))
        features = keras.Sequential(layers, name="adapted_features")
        model = _methods.build(method, features, len(self.classes_), self.adaptation_weight)
        history = _methods.train(
            method,
            model,
            images,
            codes,
            weights,
            target,
            epochs=int(self.epochs),
            batch_size=int(self.batch_size),
            learning_rate=float(self.learning_rate),
            validation=validation,
            callbacks=callbacks,
            verbose=int(self.verbose),
            seed=self._random_state(),
        )
        return model, features, history

    def _select(self, images, data, target, backbone, labelled=None):
        """``method="auto"``: (chosen method, selection_scores_, domain_shift_); see `_auto`.

        With ``labelled`` (few-label validation: target images and codes, never trained on), each
        candidate is also scored on them, every candidate trains whatever the shift gate says,
        and `_auto.choose_with_labels` chooses.
        """
        from keras_transfer.adaptation import batch_norm_statistics

        seed = self._random_state()
        parts = _auto.split(data.codes, len(target), seed)
        if parts is None:
            reason = (
                f"selected: fewer than {_auto.MIN_HELD_OUT} held-out images per domain to compare methods"
            )
            return _methods.SOURCE_ONLY, {_methods.SOURCE_ONLY: {"status": reason}}, None
        s_train, s_held, t_train, t_held = parts
        weights = None if data.weights is None else data.weights[s_train]
        codes_held = data.codes[s_held]
        table, correct, labelled_correct = {}, {}, {}

        def evaluate(name, model, features, source_side=None):
            if source_side is None:
                # A model fitted with AdaBN holds target statistics; scored with them on the
                # source, a good adapted model loses source accuracy it has and the guard refuses
                # it. AdaBN's rule is per domain: the held-out source rows are scored with
                # statistics re-estimated on the source training rows, then the target's restored.
                # A method that re-estimates frozen BatchNorm layers too (TENT) has its source
                # side re-estimated the same way.
                context = contextlib.nullcontext()
                if _methods.fitted_with_adabn(model) or name == "adabn":
                    context = batch_norm_statistics(
                        model,
                        images[s_train],
                        batch_size=int(self.batch_size),
                        include_frozen=_methods.adapts_frozen_batch_norm(name),
                    )
                with context:
                    source_side = (self._run(model, images[s_held]), self._run(features, images[s_held]))
            probs_s, feats_s = source_side
            probs_t, feats_t = self._run(model, target[t_held]), self._run(features, target[t_held])
            table[name] = _auto.scores(
                probs_s,
                codes_held,
                feats_s,
                probs_t,
                feats_t,
                seed,
                predict=lambda x: self._run(model, x),
                target_inputs=target[t_held],
            )
            correct[name] = probs_s.argmax(1) == codes_held
            if labelled is not None:
                probs_l = self._run(model, labelled[0])
                table[name].update(_auto.labelled_scores(probs_l, labelled[1]))
                labelled_correct[name] = probs_l.argmax(1) == labelled[1]
            report = self._collapse_check(model, features, target[t_held], data.codes[s_train], probs_t)
            if report.collapsed and name != _methods.SOURCE_ONLY:
                table[name]["status"] = "refused: collapsed (" + "; ".join(report.symptoms) + ")"
            return (probs_s, feats_s), feats_t

        train = (images[s_train], data.codes[s_train], weights, target[t_train])
        model, features, _ = self._fit_method(_methods.SOURCE_ONLY, *train, backbone)
        source_side, feats_t = evaluate(_methods.SOURCE_ONLY, model, features)
        shift = _auto.domain_shift(source_side[1], feats_t, seed)
        if not shift["detected"] and labelled is None:
            table[_methods.SOURCE_ONLY]["status"] = "selected: no detectable domain shift"
            return _methods.SOURCE_ONLY, table, shift
        for name in _auto.CANDIDATES:
            if name == _methods.SOURCE_ONLY:
                continue
            if name == "adabn" and not _methods.has_batch_norm(model):
                table[name] = {"status": "skipped: no BatchNormalization layer"}
                continue
            if _methods.needs_rgb(name) and _text.is_text_backbone(self.backbone):
                table[name] = {"status": _text.IMAGE_ONLY_STATUS}
                continue
            # AdaBN is its own fit: its network has a BatchNorm layer on the pooled features (see
            # `_methods.train`)
            evaluate(name, *self._fit_method(name, *train)[:2])
        if labelled is not None:
            return _auto.choose_with_labels(table, correct, labelled_correct), table, shift
        return _auto.choose(table, correct, len(s_held)), table, shift

    def _run(self, model, x: np.ndarray) -> np.ndarray:
        """``model`` on the small held-out sets of ``"auto"``, called eagerly: tracing a graph
        for each candidate's model would cost more than it saves."""
        from keras import ops

        bs = int(self.batch_size)
        out = [ops.convert_to_numpy(model(x[i : i + bs], training=False)) for i in range(0, len(x), bs)]
        return np.concatenate(out).astype(np.float64)
