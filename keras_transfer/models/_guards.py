"""Checks the task models share: numpy inputs checked before Keras sees them, and a callback that
stops training when the loss stops being finite (private)."""

from __future__ import annotations

import math
import warnings

import keras
import numpy as np

from keras_transfer._validation import check_images, check_labels, check_pixel_range


def check_image_batch(x, name: str = "x", pixels: bool = True):
    """Validate a numpy batch of images (NaN/inf, complex, empty, rank, channels); leave tensors and
    datasets alone. ``pixels`` also warns when the range does not look like raw 0-255 pixels."""
    if isinstance(x, np.ndarray):
        check_images(x, name)
        if pixels:
            check_pixel_range(x, name)
    return x


def check_label_array(y, num_classes: int, num_examples: int | None, name: str = "y"):
    """Validate numpy (or list) labels against ``num_classes``; leave tensors and None alone."""
    if y is None or not isinstance(y, (np.ndarray, list, tuple)):
        return y
    return check_labels(y, name, num_classes=num_classes, num_examples=num_examples)


class StopOnNonFiniteLoss(keras.callbacks.Callback):
    """Stop ``fit`` at the first batch whose loss is NaN or infinite, with a warning that says so.

    Unlike `keras.callbacks.TerminateOnNaN`, which only prints, this warns (so the stop shows in
    logs, notebooks and ``pytest -W error``) and names the likely causes.
    """

    def __init__(self):
        super().__init__()
        self.stopped_at = None

    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is None:
            return
        value = float(np.asarray(loss))
        if not math.isfinite(value):
            self.stopped_at = batch
            self.model.stop_training = True
            warnings.warn(
                f"Training stopped at batch {batch}: the loss became {value} (non-finite). The weights "
                "may hold NaN now. Check the inputs for NaN/inf values and extreme pixel values, or "
                "lower the learning rate.",
                RuntimeWarning,
                stacklevel=2,
            )


def with_loss_guard(callbacks):
    """``callbacks`` (None, one callback or a list) plus a `StopOnNonFiniteLoss` if none is there."""
    if callbacks is None:
        callbacks = []
    elif not isinstance(callbacks, (list, tuple)):
        callbacks = [callbacks]
    callbacks = list(callbacks)
    if not any(isinstance(c, (StopOnNonFiniteLoss, keras.callbacks.TerminateOnNaN)) for c in callbacks):
        callbacks.append(StopOnNonFiniteLoss())
    return callbacks
