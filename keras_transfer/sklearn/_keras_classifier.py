"""Shared plumbing of the scikit-learn classifiers that train a Keras model on images.

The training options follow scikeras (``scikeras.wrappers.KerasClassifier``): ``class_weight``,
``callbacks`` and ``validation_split`` are constructor parameters; ``sample_weight`` and
``validation_data`` are data, so they are ``fit`` parameters (with scikit-learn's metadata
routing enabled, request them with ``set_fit_request(sample_weight=True)`` /
``set_fit_request(validation_data=True)``, as for any scikit-learn estimator).
"""

from __future__ import annotations

import copy
import functools
import os
import random
from typing import NamedTuple

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.preprocessing import LabelEncoder
from sklearn.utils import column_or_1d
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from keras_transfer._validation import (
    ArgumentTypeError,
    check_bool,
    check_float,
    check_input_shape,
    check_int,
    check_pixel_range,
    check_random_state,
)
from keras_transfer.image_io import is_path_input, to_images
from keras_transfer.sklearn import _text
from keras_transfer.sklearn._input_features import forget_input_features
from keras_transfer.sklearn._input_features import is_table as input_is_table
from keras_transfer.sklearn._splits import held_out_split
from keras_transfer.sklearn._streamed import image_batches, is_streaming_input, streamed


class TrainingData(NamedTuple):
    """Validated training inputs: images, integer codes, per-image weights (or None), validation."""

    images: np.ndarray
    codes: np.ndarray
    weights: np.ndarray | None
    validation: tuple | None  # (images, codes) or None


def scoped_random_state(fit):
    """Decorate an estimator's ``fit``: with an int ``random_state``, the global numpy and Python
    ``random`` generators are put back as they were when ``fit`` returns or raises.

    ``fit`` seeds them (with ``keras.utils.set_random_seed``, which also seeds the backend) so
    that training is reproducible, but the user's own random draws after ``fit`` must not depend
    on it, as with scikit-learn's estimators. Keras keeps its backend seed (TensorFlow's global
    seed cannot be read back). With ``random_state=None`` nothing is reseeded or restored.
    """

    @functools.wraps(fit)
    def wrapper(self, *args, **kwargs):
        if getattr(self, "random_state", None) is None:
            return fit(self, *args, **kwargs)
        numpy_state, python_state = np.random.get_state(), random.getstate()
        try:
            return fit(self, *args, **kwargs)
        finally:
            np.random.set_state(numpy_state)
            random.setstate(python_state)

    return wrapper


class KerasImageClassifier(ClassifierMixin, BaseEstimator):
    """Private base: images in, labels of any type out, through a fitted Keras ``model_``.

    With a text backbone (``backbone="text:..."``) the "images" are texts: ``"texts"`` (the
    strings go into the model, whose backbone tokenizes them) or, for a subclass that sets
    ``_TEXT_INPUT = "features"``, the frozen encoder's pooled features (see `_text`).
    """

    _TEXT_INPUT = "texts"

    def _is_stream(self, X) -> bool:
        """Whether ``X`` is streamed from files or a dataset (never with a text backbone: strings
        are texts there, not file paths)."""
        return not _text.is_text_backbone(self.backbone) and is_streaming_input(X)

    # ----- inputs ------------------------------------------------------------------------------
    def _images(self, X, reset: bool, size=None, argument: str = "X") -> np.ndarray:
        if _text.is_text_backbone(self.backbone):
            if reset:
                forget_input_features(self)
            texts = _text.check_texts(X, argument, self.backbone)
            return text_features(self, texts) if self._TEXT_INPUT == "features" else texts
        table = input_is_table(X)
        if table and argument == "X":  # rows of flattened images: sklearn's feature bookkeeping
            X = validate_data(self, X, reset=reset, dtype="numeric")
        elif table and hasattr(self, "n_features_in_") and np.ndim(X) == 2:
            if np.shape(X)[1] != self.n_features_in_:
                raise ValueError(
                    f"`{argument}` has {np.shape(X)[1]} features per row, but X had "
                    f"n_features_in_={self.n_features_in_} in fit; pass images of the same size."
                )
        elif reset:
            forget_input_features(self)
        images = to_images(X, resize=bool(self.resize), size=size or (32, 32), argument=argument)
        check_pixel_range(images, argument)
        return images

    def _model_inputs(self, images: np.ndarray) -> np.ndarray:
        """Hook: the array the Keras model sees for ``images`` (float32; texts stay strings)."""
        if images.dtype == object:
            return images
        return np.asarray(images, dtype=np.float32)

    def _check_y(self, y, argument: str = "y") -> np.ndarray:
        """1-D class labels, checked before any image work (so label errors come first)."""
        if y is None:  # sklearn's wording (its estimator checks look for it), naming `y`
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y is None (`{argument}`)."
            )
        y = np.asarray(y)
        if y.ndim == 2 and y.shape[1] > 1:
            one_hot = y.dtype.kind in "biuf" and np.isin(y, (0, 1)).all() and (y.sum(axis=1) == 1).all()
            hint = (
                " It looks one-hot: pass the class indices y.argmax(axis=1) or the class names."
                if one_hot
                else " Multi-label and multi-output targets are not supported."
            )
            raise ValueError(
                f"`{argument}` must be 1-D class labels, one per image; received a 2-D array of "
                f"shape {y.shape}.{hint}"
            )
        y = column_or_1d(y, warn=True)  # (n, 1) is ravelled with a DataConversionWarning
        if len(y) == 0:
            raise ValueError(f"`{argument}` is empty: pass at least one labelled image per class.")
        try:
            check_classification_targets(y)  # continuous targets (e.g. 0.5) are refused
        except ValueError as exc:  # keep sklearn's "Unknown label type: ..." and name the argument
            raise ValueError(f"`{argument}` must hold class labels: {exc}") from None
        return y

    def _encode(self, y) -> np.ndarray:
        encoder = LabelEncoder().fit(y)
        self.classes_ = encoder.classes_
        if len(self.classes_) < 2:
            raise ValueError(
                f"`y` must hold at least 2 classes to train a classifier; received only 1 class: {self.classes_}."
            )
        return encoder.transform(y).astype("int32")

    def _codes_of(self, y, argument: str) -> np.ndarray:
        """Integer codes of labels seen in fit; unseen labels are an error naming ``argument``."""
        unseen = np.setdiff1d(np.unique(y), self.classes_)
        if len(unseen):
            raise ValueError(
                f"`{argument}` holds labels never seen in fit: {unseen[:10].tolist()}; "
                f"classes_={self.classes_.tolist()}."
            )
        return np.searchsorted(self.classes_, y).astype("int32")

    def _weights(self, sample_weight, codes: np.ndarray) -> np.ndarray | None:
        """``sample_weight`` times the ``class_weight`` of each image's class (None: all ones)."""
        n = len(codes)
        weights = None
        if sample_weight is not None:
            weights = np.asarray(sample_weight)
            if weights.dtype.kind not in "biuf":
                raise ArgumentTypeError(
                    f"`sample_weight` must hold real numbers, one weight per image; received dtype={weights.dtype}."
                )
            weights = weights.astype(np.float64)
            if weights.ndim == 0:
                weights = np.full(n, float(weights))
            if weights.shape != (n,):
                raise ValueError(
                    f"`sample_weight` must hold one weight per image ({n},); received shape {weights.shape}."
                )
            if not np.isfinite(weights).all() or (weights < 0).any():
                raise ValueError("`sample_weight` must hold finite weights >= 0.")
        class_weight = self.class_weight
        if class_weight is not None:
            if isinstance(class_weight, str) and class_weight == "balanced":
                counts = np.bincount(codes, minlength=len(self.classes_))
                per_class = n / (len(self.classes_) * np.maximum(counts, 1))
            elif isinstance(class_weight, dict):
                per_class = np.ones(len(self.classes_))
                for label, value in class_weight.items():
                    if label not in set(self.classes_.tolist()):
                        raise ValueError(
                            f"`class_weight` names the class {label!r}, which is not in y; "
                            f"classes_={self.classes_.tolist()}."
                        )
                    per_class[self._codes_of(np.asarray([label]), "class_weight")[0]] = check_float(
                        value, f"class_weight[{label!r}]", min_value=0.0
                    )
            else:
                raise ValueError(
                    "`class_weight` must be None, 'balanced' or a dict {class label: weight}; "
                    f"received class_weight={class_weight!r}."
                )
            weights = per_class[codes] if weights is None else weights * per_class[codes]
        if weights is not None and not (weights > 0).any():
            raise ValueError(
                "`sample_weight` (times `class_weight`) is zero for every image: nothing to train on."
            )
        return weights

    def _validation(self, validation_data, size) -> tuple | None:
        if validation_data is None:
            return None
        if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
            raise ValueError(
                "`validation_data` must be a pair (X_val, y_val) of images and labels; received "
                f"{type(validation_data).__name__}"
                + (
                    f" of length {len(validation_data)}."
                    if isinstance(validation_data, (tuple, list))
                    else "."
                )
            )
        images = self._images(validation_data[0], reset=False, size=size, argument="validation_data")
        labels = self._check_y(validation_data[1], argument="validation_data")
        if len(labels) != len(images):
            raise ValueError(
                f"`validation_data` must have one label per image ({len(images)}); received {len(labels)}."
            )
        return images, self._codes_of(labels, "validation_data")

    def _training_data(self, X, y, sample_weight, validation_data, size) -> TrainingData:
        """Validate ``y``, the weights, ``X`` and the validation set; apply ``validation_split``.

        Labels and weights come first, so their errors do not wait for image decoding.
        """
        codes = self._encode(y)
        weights = self._weights(sample_weight, codes)
        keep = None
        if weights is not None and (weights == 0).any():  # as scikeras: zero weight = not trained on
            keep = weights > 0
            if len(np.unique(codes[keep])) < 2:
                raise ValueError(
                    "`sample_weight` leaves images of only 1 class with a weight > 0; a classifier "
                    "needs at least 2 classes to train on."
                )
        images = self._images(X, reset=True, size=size)
        if len(images) != len(codes):
            raise ValueError(
                f"`y` must have one label per image ({len(images)}); received {len(codes)} labels."
            )
        validation = self._validation(validation_data, size)
        if keep is not None:
            images, codes, weights = images[keep], codes[keep], weights[keep]
        split = check_float(
            self.validation_split, "validation_split", min_value=0.0, max_value=1.0, max_inclusive=False
        )
        if validation is None and split > 0:
            # not stratified: the earlier check (``np.bincount(codes).min(initial=0) >= 2``) was
            # always false, so validation_split has always held out a plain shuffled share;
            # kept, so that the same random_state holds out the same images.
            n_held = int(np.ceil(split * len(codes)))
            train, held = held_out_split(codes, n_held, self._random_state(), stratify=False)
            if len(train) == 0 or len(held) == 0:
                raise ValueError(
                    f"`validation_split`={split} leaves no image to train on or to validate with "
                    f"({len(codes)} labelled images); lower it or pass validation_data."
                )
            validation = (images[held], codes[held])
            images, codes = images[train], codes[train]
            weights = None if weights is None else weights[train]
        return TrainingData(images, codes, weights, validation)

    def _streamed_training(self, X, y, sample_weight, validation_data, size) -> TrainingData:
        """`_training_data` for a folder or a list of image files: file paths instead of images
        (the Keras model streams them), ``class_weight`` as one weight per class code (``weights``),
        and ``validation_data`` as a labelled dataset when it is streamed too."""
        from keras_transfer.streaming import image_dataset, labelled_files

        if sample_weight is not None or self.validation_split:
            raise ValueError(
                "`sample_weight` and `validation_split` need images in memory; with a folder or a "
                "list of image files as X, use class_weight and validation_data=(X_val, y_val)."
            )
        if not is_path_input(X):
            raise ValueError(
                "`X` as a tf.data.Dataset is not accepted by fit (the labels must be known up "
                "front); pass a folder (labels from its class sub-folders) or a list of image files and y."
            )
        if y is None and isinstance(X, (str, os.PathLike)):
            X, y = labelled_files(X)
        paths = list(X) if not isinstance(X, (str, os.PathLike)) else labelled_files(X)[0]
        y = self._check_y(y)
        if len(y) != len(paths):
            raise ValueError(
                f"`y` must have one label per image file ({len(paths)}); received {len(y)} labels."
            )
        forget_input_features(self)
        codes = self._encode(y)
        weights = self._weights(None, codes)
        per_class = (
            None if weights is None else {int(c): float(weights[codes == c][0]) for c in np.unique(codes)}
        )
        validation = None
        if validation_data is not None and is_path_input(validation_data[0]):
            labels = self._codes_of(self._check_y(validation_data[1], "validation_data"), "validation_data")
            validation = image_dataset(validation_data[0], size, int(self.batch_size), labels=labels)
        elif validation_data is not None:
            images, labels = self._validation(validation_data, size)
            validation = (self._model_inputs(images), labels)
        return TrainingData(paths, codes, per_class, validation)

    # ----- options ----------------------------------------------------------------------------
    def _random_state(self) -> int | None:
        return check_random_state(self.random_state)

    def _seed(self) -> None:
        seed = self._random_state()
        if seed is not None:
            import keras

            keras.utils.set_random_seed(seed)

    def _callbacks(self) -> list:
        """Copies of ``callbacks`` for one training (the estimator's parameter is never modified)."""
        import keras

        if self.callbacks is None:
            return []
        callbacks = self.callbacks
        if isinstance(callbacks, keras.callbacks.Callback):
            callbacks = [callbacks]
        callbacks = list(callbacks)
        for cb in callbacks:
            if not isinstance(cb, keras.callbacks.Callback):
                raise TypeError(
                    "`callbacks` must be a list of keras.callbacks.Callback instances; received an "
                    f"entry of type {type(cb).__name__}."
                )
        return copy.deepcopy(callbacks)

    # ----- predicting -------------------------------------------------------------------------
    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities, columns ordered as ``classes_``."""
        check_is_fitted(self, "model_")
        from keras_transfer.sklearn.feature_extractor import predict_function

        fn = predict_function(self.model_)
        bs = int(self.batch_size)
        if self._is_stream(X):  # a folder, a list of files or a dataset: batch by batch
            dataset, _ = streamed(X, self.input_size_ if self.resize else None, bs)
            out = [np.asarray(fn(self._model_inputs(batch))) for batch in image_batches(dataset)]
            return np.concatenate(out).astype(np.float64)
        images = self._model_inputs(self._images(X, reset=False, size=self.input_size_))
        out = [np.asarray(fn(images[i : i + bs])) for i in range(0, len(images), bs)]
        return np.concatenate(out).astype(np.float64)

    def predict(self, X) -> np.ndarray:
        """Predicted labels (of the same type as the ``y`` given to ``fit``)."""
        check_is_fitted(self, "model_")
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]

    def score(self, X, y, sample_weight=None) -> float:
        """Accuracy on ``(X, y)``; labels never seen in ``fit`` are an error, not a silent miss."""
        check_is_fitted(self, "model_")
        self._codes_of(np.asarray(y), "y")
        return super().score(X, y, sample_weight=sample_weight)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        tags.non_deterministic = True  # SGD on a neural network
        return tags


def check_estimator_params(est, auto_epochs: bool = False) -> None:
    """Validate the arguments every image classifier shares (raised in ``fit``); ``auto_epochs``:
    ``epochs="auto"`` is accepted too."""
    if auto_epochs:
        check_epochs(est.epochs, "epochs")
    else:
        check_int(est.epochs, "epochs", min_value=0)
    check_int(est.batch_size, "batch_size", min_value=1)
    if not (auto_epochs and isinstance(est.learning_rate, str) and est.learning_rate == "auto"):
        check_float(est.learning_rate, "learning_rate", min_value=0.0, min_inclusive=False)
    check_int(est.verbose, "verbose", min_value=0, max_value=2)
    check_bool(est.resize, "resize")
    check_random_state(est.random_state)
    check_float(est.validation_split, "validation_split", min_value=0.0, max_value=1.0, max_inclusive=False)


def check_epochs(value, argument: str):
    """``"auto"`` or an int >= 0 (returned as an int)."""
    if isinstance(value, str) and value == "auto":
        return value
    return int(check_int(value, argument, min_value=0))


def build_backbone(est):
    """The estimator's backbone: a registry name, a ``hub:``/``kerashub:`` handle, or a text
    backbone (``text:``: the `TextBackbone` itself, or for ``_TEXT_INPUT = "features"`` an identity
    network on its pooled features; see `_text`)."""
    from keras_transfer.backbones import check_backbone_name, get_backbone

    if _text.is_text_backbone(est.backbone):
        _text.check_text_params(est)
        if est._TEXT_INPUT == "features":
            _text.check_text_method(est)
            return feature_network(est)
        return get_backbone(est.backbone)
    shape = check_input_shape(est.input_shape)
    check_backbone_name(est.backbone)
    return get_backbone(est.backbone, input_shape=shape, weights=est.weights, pooling="avg")


def text_features(est, texts: np.ndarray) -> np.ndarray:
    """Pooled features of the frozen text backbone ``est.backbone`` for ``texts`` (float32),
    through `FeatureExtractor` (so they are cached process-wide, keyed by the texts)."""
    from keras_transfer.sklearn.feature_extractor import FeatureExtractor

    extractor = FeatureExtractor(backbone=est.backbone, batch_size=int(est.batch_size), verbose=0)
    return extractor.transform(texts)


def feature_network(est):
    """The "backbone" of `DomainAdaptationClassifier` for a text backbone: an identity network
    on the frozen encoder's pooled features (their size from the cached backbone)."""
    import keras

    from keras_transfer.sklearn.feature_extractor import FeatureExtractor

    extractor = FeatureExtractor(backbone=est.backbone, batch_size=int(est.batch_size), verbose=0)
    extractor._ensure_backbone()
    size = int(extractor.backbone_.num_features)
    network = keras.Sequential(
        [keras.Input((size,)), keras.layers.Identity(name="text_features")], name="text_features"
    )
    network.input_size = ()  # no image size: the estimator stores it as input_size_
    return network
