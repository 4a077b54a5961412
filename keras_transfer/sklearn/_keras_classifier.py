"""Shared plumbing of the scikit-learn classifiers that train a Keras model on images."""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.preprocessing import LabelEncoder
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from keras_transfer.image_io import is_path_input, to_images


class KerasImageClassifier(ClassifierMixin, BaseEstimator):
    """Private base: images in, labels of any type out, through a fitted Keras ``model_``."""

    def _images(self, X, reset: bool, size=None) -> np.ndarray:
        table = not is_path_input(X) and (
            hasattr(X, "iloc") or hasattr(X, "tocsr") or (isinstance(X, np.ndarray) and X.ndim <= 2)
        )
        if table:
            X = validate_data(self, X, reset=reset, dtype="numeric")
        elif reset:
            for name in ("n_features_in_", "feature_names_in_"):
                if hasattr(self, name):
                    delattr(self, name)
        return to_images(X, resize=bool(getattr(self, "resize", False)), size=size or (32, 32))

    def _check_y(self, y) -> np.ndarray:
        """Validate labels before any image work, so label errors come first (sklearn's wording)."""
        if y is None:
            raise ValueError(f"{type(self).__name__} requires y to be passed, but the target y is None.")
        y = np.asarray(y)
        if y.ndim == 2 and y.shape[1] == 1:
            import warnings

            from sklearn.exceptions import DataConversionWarning

            warnings.warn(
                "A column-vector y was passed when a 1d array was expected; it was ravelled.",
                DataConversionWarning,
                stacklevel=3,
            )
            y = y.ravel()
        check_classification_targets(y)
        return y

    def _encode(self, y, n: int) -> np.ndarray:
        y = self._check_y(y)
        if len(y) != n:
            raise ValueError(f"`y` must have one label per image ({n}); received {len(y)} labels.")
        encoder = LabelEncoder().fit(y)
        self.classes_ = encoder.classes_
        if len(self.classes_) < 2:
            raise ValueError(
                f"`y` must hold at least 2 classes to train a classifier; received only 1 class: {self.classes_}."
            )
        return encoder.transform(y).astype("int32")

    def _seed(self) -> None:
        if self.random_state is not None:
            import keras

            keras.utils.set_random_seed(int(self.random_state))

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities, columns ordered as ``classes_``."""
        check_is_fitted(self, "model_")
        from keras_transfer.sklearn.feature_extractor import predict_function

        images = self._images(X, reset=False, size=self.input_size_)
        fn = predict_function(self.model_)
        bs = int(self.batch_size)
        out = [
            np.asarray(fn(np.asarray(images[i : i + bs], dtype=np.float32)))
            for i in range(0, len(images), bs)
        ]
        return np.concatenate(out).astype(np.float64)

    def predict(self, X) -> np.ndarray:
        """Predicted labels (of the same type as the ``y`` given to ``fit``)."""
        check_is_fitted(self, "model_")
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]

    def score(self, X, y, sample_weight=None) -> float:
        """Accuracy on ``(X, y)``; labels never seen in ``fit`` are an error, not a silent miss."""
        check_is_fitted(self, "model_")
        unseen = np.setdiff1d(np.unique(np.asarray(y)), self.classes_)
        if len(unseen):
            raise ValueError(
                f"`y` holds labels never seen in fit: {unseen[:10].tolist()}; classes_={self.classes_.tolist()}."
            )
        return super().score(X, y, sample_weight=sample_weight)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        tags.non_deterministic = True  # SGD on a neural network
        return tags


def check_common(est) -> None:
    """Validate the arguments every image classifier shares (raised in ``fit``)."""
    for name in ("epochs", "batch_size"):
        value = getattr(est, name)
        if (
            isinstance(value, bool)
            or not isinstance(value, (int, np.integer))
            or value < (1 if name == "batch_size" else 0)
        ):
            raise ValueError(
                f"`{name}` must be an int >= {1 if name == 'batch_size' else 0}; received {name}={value!r}."
            )
    if not (isinstance(est.learning_rate, (int, float)) and est.learning_rate > 0):
        raise ValueError(
            f"`learning_rate` must be a positive number; received learning_rate={est.learning_rate!r}."
        )
    if est.verbose not in (0, 1, 2):
        raise ValueError(f"`verbose` must be 0, 1 or 2; received verbose={est.verbose!r}.")


def build_backbone(est):
    from keras_transfer.backbones import get_backbone

    shape = None if est.input_shape is None else tuple(int(s) for s in est.input_shape)
    return get_backbone(est.backbone, input_shape=shape, weights=est.weights, pooling="avg")
