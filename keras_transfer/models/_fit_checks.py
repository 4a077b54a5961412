"""Checks of the ``fit`` arguments Keras passes through without a word (private): callbacks,
sample and class weights, the epoch count and ``validation_data``, each refused up front with an
error naming the argument, before an epoch trains."""

from __future__ import annotations

import numbers

import keras
import numpy as np

from keras_transfer._validation import ArgumentTypeError, check_images, check_labels


def check_callbacks(callbacks) -> list | None:
    """``callbacks`` as a list of `keras.callbacks.Callback` (None stays None).

    Raises:
        TypeError: an entry that is not a Keras callback (``callbacks=[print]``, ``"early"``).
    """
    if callbacks is None:
        return None
    items = list(callbacks) if isinstance(callbacks, (list, tuple)) else [callbacks]
    for i, c in enumerate(items):
        if not isinstance(c, keras.callbacks.Callback):
            where = f"[{i}]" if isinstance(callbacks, (list, tuple)) else ""
            raise ArgumentTypeError(
                f"`callbacks` must be a list of keras.callbacks.Callback objects; received "
                f"callbacks{where}={c!r} of type {type(c).__name__}. Wrap a function in "
                "keras.callbacks.LambdaCallback(on_epoch_end=...), or pass e.g. "
                "keras.callbacks.EarlyStopping() for early stopping."
            )
    return items


def check_epochs(epochs, initial_epoch=0, name: str = "epochs") -> int:
    """``epochs`` as an int above ``initial_epoch`` (Keras' count, not a number of new epochs)."""
    if (
        isinstance(epochs, bool)
        or not isinstance(epochs, numbers.Integral)
        or int(epochs) <= int(initial_epoch)
    ):
        raise ValueError(
            f"`{name}` must be an integer >= {int(initial_epoch) + 1} (the epoch to train up to"
            + (f", after initial_epoch={initial_epoch}" if initial_epoch else "")
            + f"); received {name}={epochs!r}."
        )
    return int(epochs)


def check_sample_weight(
    sample_weight,
    num_examples: int | None,
    name: str = "sample_weight",
    *,
    per: str = "example",
    rows: str = "",
    trailing_axes: bool = False,
    convert: bool = False,
):
    """Concrete sample weights: real numbers, one per example, finite, >= 0, not all zero.

    The one ``sample_weight`` check of the models (``fit`` of TransferClassifier and of the
    two-domain models); the arguments carry what differs between the callers.

    Args:
        sample_weight: the weights; None passes through.
        num_examples: the number of rows the weights belong to (None: not checked).
        name: the argument's name in the messages.
        per: what one weight belongs to, in the messages (``"source example"``).
        rows: where those rows are, appended to the count in the messages (``", the rows of x[0]"``).
        trailing_axes: accept trailing axes after the row axis (weights per output element);
            otherwise the weights must be 1-D (an ``(n, 1)`` column counts as 1-D).
        convert: read anything but a dict as an array and return that array; otherwise only numpy
            arrays, lists and tuples are checked (tensors and datasets pass through, for Keras to
            read) and ``sample_weight`` is returned as given.

    Raises:
        ArgumentTypeError: weights that are not real numbers (a ``TypeError`` and a ``ValueError``).
        ValueError: a dict, the wrong shape or count, NaN, infinite or negative weights, all zeros.
    """
    if sample_weight is None:
        return None
    if not convert and not isinstance(sample_weight, (np.ndarray, list, tuple)):
        return sample_weight
    if isinstance(sample_weight, dict):
        raise ValueError(f"`{name}` must hold one weight per {per} (an array); received a dict.")
    try:
        w = np.asarray(sample_weight)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"`{name}` must hold numbers; could not read it as numbers ({exc}).") from None
    if w.dtype.kind not in "biuf":
        raise ArgumentTypeError(f"`{name}` must hold real numbers; received dtype={w.dtype}.")
    checked = w
    if not trailing_axes:
        if w.ndim == 2 and w.shape[1] == 1:
            checked = w[:, 0]
        if checked.ndim != 1:
            raise ValueError(f"`{name}` must be 1-D, one weight per {per}; received shape={w.shape}.")
    if checked.ndim == 0 or (num_examples is not None and checked.shape[0] != num_examples):
        raise ValueError(
            f"`{name}` must hold one weight per {per} ({num_examples}{rows}); received shape={w.shape}."
        )
    finite = np.isfinite(checked)
    if not finite.all() or (checked < 0).any():
        negative = int((checked[finite] < 0).sum())
        raise ValueError(
            f"`{name}` must hold finite weights >= 0 (one per {per}); received "
            f"{int((~finite).sum())} NaN/infinite and {negative} negative"
            + (" (a negative weight rewards the loss for growing)." if negative else ".")
        )
    if checked.size and not checked.any():
        raise ValueError(
            f"`{name}` is all zeros: no {per} would count, and training would learn nothing. "
            "Give the examples to train on a positive weight."
        )
    return w if convert else sample_weight


def check_class_weight(class_weight, num_classes: int | None, name: str = "class_weight"):
    """A ``{class index: weight}`` dict with finite weights >= 0, not all zero, keys in
    ``[0, num_classes)``."""
    if class_weight is None:
        return None
    if not isinstance(class_weight, dict):
        raise ArgumentTypeError(
            f"`{name}` must be a dict {{class index: weight}}; received {type(class_weight).__name__}."
        )
    for key, value in class_weight.items():
        if (
            isinstance(key, bool)
            or not isinstance(key, numbers.Integral)
            or key < 0
            or (num_classes is not None and key >= num_classes)
        ):
            raise ValueError(
                f"`{name}` keys must be class indices in [0, {num_classes}); received key {key!r}."
            )
        if (
            isinstance(value, bool)
            or not isinstance(value, numbers.Real)
            or not np.isfinite(value)
            or value < 0
        ):
            raise ValueError(
                f"`{name}` weights must be finite numbers >= 0; received {name}[{key!r}]={value!r} "
                "(a negative weight rewards the loss for growing)."
            )
    if class_weight and not any(class_weight.values()):
        raise ValueError(f"`{name}` is all zeros: no class would count; received {class_weight!r}.")
    return class_weight


def check_validation_data(validation_data, *, num_classes: int | None = None, images: bool = True):
    """``(x, y)`` or ``(x, y, sample_weight)`` with numpy parts checked as the training data is:
    finite (images: also shape and channels), integer labels in ``[0, num_classes)``, one per row.
    Datasets, tensors and None pass through. Errors name ``validation_data``."""
    name = "validation_data"
    if validation_data is None or not isinstance(validation_data, (tuple, list)):
        return validation_data
    if len(validation_data) not in (2, 3):
        raise ValueError(
            f"`{name}` must be a tuple (x, y) or (x, y, sample_weight); received a "
            f"{type(validation_data).__name__} of {len(validation_data)} items."
        )
    x, y = validation_data[0], validation_data[1]
    n = None
    if isinstance(x, np.ndarray) and x.dtype.kind not in "OUS":
        n = len(x)
        if images:
            check_images(x, name)
        else:
            arr = np.asarray(x)
            if arr.size == 0:
                raise ValueError(f"`{name}` is empty: x has shape {arr.shape}.")
            if np.issubdtype(arr.dtype, np.floating) and not np.isfinite(arr).all():
                bad = int((~np.isfinite(arr)).reshape(len(arr), -1).any(axis=1).sum())
                raise ValueError(
                    f"`{name}` x contains NaN or infinite values in {bad} of {len(arr)} rows; clean or "
                    "drop them (metrics computed on them would be meaningless)."
                )
    if y is not None and isinstance(y, (np.ndarray, list, tuple)):
        check_labels(y, name, num_classes=num_classes, num_examples=n)
    if len(validation_data) == 3:
        check_sample_weight(validation_data[2], n, name)
    return validation_data


def check_fit_kwargs(kwargs: dict, *, num_examples: int | None, num_classes: int | None, images: bool = True):
    """Check the ``fit`` keyword arguments ``sample_weight``, ``class_weight`` and
    ``validation_data``. Returns ``kwargs``."""
    check_sample_weight(kwargs.get("sample_weight"), num_examples)
    check_class_weight(kwargs.get("class_weight"), num_classes)
    check_validation_data(kwargs.get("validation_data"), num_classes=num_classes, images=images)
    return kwargs
