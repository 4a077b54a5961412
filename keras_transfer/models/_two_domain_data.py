"""Input handling of the two-domain models' ``fit``: one function, `training_input`, turns what
``fit`` received into what Keras' ``fit`` trains on.

Data convention: ``x=(source_x, target_x)`` and ``y=source_y`` (integer labels) as arrays, or a
``tf.data.Dataset`` of ``((source_x, target_x), source_y)`` batches, or either domain as a folder,
a list of image files or a dataset of images (streamed with
`keras_transfer.streaming.two_domain_dataset`). Target labels are never allowed in ``fit``.
``predict``/``evaluate`` take one domain at a time.

With arrays, an epoch is one pass over the larger domain; the smaller one is shuffled and cycled
to the same length (`prepare_arrays`), so that every source and target example is used.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np

from keras_transfer._validation import check_float, check_labels
from keras_transfer.models._fit_checks import (
    check_callbacks,
    check_epochs,
    check_sample_weight,
    check_validation_data,
)
from keras_transfer.streaming import cycled_index, is_dataset, is_streaming_input, two_domain_dataset


@dataclasses.dataclass
class TrainingInput:
    """What ``fit`` hands to Keras, and what it needs around it.

    Attributes:
        x: the two-domain training input (a pair of arrays or a dataset).
        y: the source labels (None with a dataset: it yields them).
        batch_size: Keras' ``batch_size`` (None with a dataset).
        steps_per_epoch: Keras' ``steps_per_epoch`` (None when a streamed dataset carries it).
        fit_kwargs: the other keyword arguments of Keras' ``fit`` (``sample_weight`` cycled with
            the source rows; ``shuffle=False`` for a dataset, which shuffles itself).
        input_shape: the per-domain input shape ``(None, ...)``, for building the model.
        planned_steps: the number of optimizer steps ``fit`` will run, None when unknown.
        target: the target inputs for AdaBN's re-estimation (an array, or a dataset of target
            batches covering one epoch).
    """

    x: Any
    y: Any
    batch_size: int | None
    steps_per_epoch: int | None
    fit_kwargs: dict
    input_shape: tuple
    planned_steps: int | None
    target: Any


def training_input(
    x, y, batch_size, epochs, steps_per_epoch, fit_kwargs, *, image_size, num_classes
) -> TrainingInput:
    """Validate and prepare ``fit``'s input (see the module docstring).

    Args:
        x, y, batch_size, epochs, steps_per_epoch: as given to ``fit``.
        fit_kwargs: the rest of ``fit``'s keyword arguments (not modified).
        image_size: the ``(height, width)`` streamed images are resized to, or None.
        num_classes: the label head's number of classes when known, for checking labels.
    """
    fit_kwargs = dict(fit_kwargs)
    check_epochs(epochs, fit_kwargs.get("initial_epoch") or 0)
    if "callbacks" in fit_kwargs:
        fit_kwargs["callbacks"] = check_callbacks(fit_kwargs["callbacks"])
    check_validation_data(fit_kwargs.get("validation_data"), num_classes=num_classes, images=False)
    if isinstance(x, (tuple, list)) and len(x) == 2 and any(is_streaming_input(part) for part in x):
        check_labels_structure(y)
        x = two_domain_dataset(
            x[0],
            x[1],
            y,
            image_size=image_size,
            batch_size=batch_size or 32,
            steps_per_epoch=steps_per_epoch,
            shuffle=fit_kwargs.pop("shuffle", True),
            seed=np.random.randint(2**31),
        )
        y = batch_size = steps_per_epoch = None  # the dataset carries them
    if is_dataset(x):
        fit_kwargs.setdefault("shuffle", False)  # a dataset shuffles itself; avoids Keras' warning
        if y is not None:
            raise ValueError(
                "`y` must be None when `x` is a tf.data.Dataset (the dataset yields the source labels)."
            )
        planned = check_dataset(x, epochs, steps_per_epoch)
        target = x.map(lambda inputs, *rest: inputs[1])  # one epoch of the target part
        target = target.take(steps_per_epoch) if steps_per_epoch else target
        spec = x.element_spec[0][0].shape
        shape = tuple(spec) if spec.rank is not None else (None, None)
        return TrainingInput(
            x, None, batch_size, steps_per_epoch, fit_kwargs, (None, *shape[1:]), planned, target
        )
    x, y, fit_kwargs = _split_source_for_validation(x, y, fit_kwargs)
    train_x, train_y, sample_weight, planned = prepare_arrays(
        x,
        y,
        batch_size,
        epochs,
        steps_per_epoch,
        seed=np.random.randint(2**31),
        num_classes=num_classes,
        sample_weight=fit_kwargs.get("sample_weight"),
    )
    if sample_weight is not None:
        fit_kwargs["sample_weight"] = sample_weight
    shape = (None, *train_x[0].shape[1:])
    return TrainingInput(
        train_x, train_y, batch_size, steps_per_epoch, fit_kwargs, shape, planned, np.asarray(x[1])
    )


def _split_source_for_validation(x, y, fit_kwargs):
    """``validation_split`` on arrays: the last fraction of the SOURCE rows (as Keras takes the
    last rows) becomes ``validation_data``, before the smaller domain is cycled. Keras' own split
    would run after the cycling, so cycled copies of validation rows would also be trained on."""
    split = fit_kwargs.pop("validation_split", None)
    if not split or fit_kwargs.get("validation_data") is not None:
        return x, y, fit_kwargs
    split = check_float(split, "validation_split", min_value=0.0, max_value=1.0, max_inclusive=False)
    if not isinstance(x, (tuple, list)) or len(x) != 2 or y is None:
        return x, y, fit_kwargs  # prepare_arrays names what is wrong
    xs, ys = np.asarray(x[0]), np.asarray(y)
    keep = int(np.floor(len(xs) * (1.0 - split)))
    if keep < 1 or keep >= len(xs) or len(ys) != len(xs):
        raise ValueError(
            f"`validation_split`={split} leaves {keep} of {len(xs)} source examples for training "
            "and the rest for validation: both parts must hold at least one example."
        )
    validation = [xs[keep:], ys[keep:]]
    weights = fit_kwargs.get("sample_weight")
    if weights is not None and np.ndim(weights) > 0 and len(weights) == len(xs):
        weights = np.asarray(weights)
        fit_kwargs["sample_weight"], validation = weights[:keep], [*validation, weights[keep:]]
    fit_kwargs["validation_data"] = tuple(validation)
    return (xs[:keep], x[1]), ys[:keep], fit_kwargs


def two_domain_error(name: str, received) -> ValueError:
    return ValueError(
        f"`{name}` must be a pair (source_x, target_x), e.g. fit(x=(xs, xt), y=ys) or a "
        "tf.data.Dataset of ((xs, xt), ys) batches; received "
        f"{type(received).__name__}{_describe(received)}."
    )


def _describe(x) -> str:
    if isinstance(x, (tuple, list)):
        return f" of length {len(x)}"
    shape = getattr(x, "shape", None)
    return f" with shape {tuple(shape)}" if shape is not None else ""


def _target_labels_error(received) -> ValueError:
    return ValueError(
        "Target labels are not allowed here: domain adaptation trains on labelled source and "
        "UNLABELLED target data. `y` must be the source labels only (one array); received "
        f"{type(received).__name__}{_describe(received)}. Drop the target labels (keep them for "
        "evaluate(target_x, target_y))."
    )


def check_pair_shapes(source_shape, target_shape):
    """Raise ValueError when the per-example shapes of the two domains differ."""
    s, t = tuple(source_shape)[1:], tuple(target_shape)[1:]
    if len(s) != len(t) or any(a is not None and b is not None and a != b for a, b in zip(s, t)):
        raise ValueError(
            "`x` = (source_x, target_x): source and target inputs must have the same per-example shape; received source "
            f"shape={tuple(source_shape)} and target shape={tuple(target_shape)}. Resize or "
            "project the target data to the source's shape."
        )


def check_labels_structure(y):
    """Raise the target-labels error when ``y`` is a pair/list or dict of arrays."""
    if isinstance(y, (tuple, list, dict)):
        raise _target_labels_error(y)


def prepare_arrays(x, y, batch_size, epochs, steps_per_epoch, seed, num_classes=None, sample_weight=None):
    """Validate numpy inputs, cycle the smaller domain to the larger one's length.

    Returns ``(x, y, sample_weight, steps)``: the source labels and the per-row ``sample_weight``
    (None stays None) are indexed with the source rows' own index, so a weight stays with its row
    when the source is the domain that is cycled."""
    if not isinstance(x, (tuple, list)) or len(x) != 2:
        raise two_domain_error("x", x)
    check_labels_structure(y)
    if y is None:
        raise ValueError("`y` (the source labels) is required: fit(x=(source_x, target_x), y=source_y).")
    xs, xt = np.asarray(x[0]), np.asarray(x[1])
    for part, arr in (("source", xs), ("target", xt)):
        if arr.ndim == 0 or arr.shape[0] == 0:
            raise ValueError(
                f"`x` must hold at least one {part} example: received an empty {part} part "
                f"(x[{0 if part == 'source' else 1}] shape={arr.shape})."
            )
        if arr.dtype.kind not in "biuf":
            raise TypeError(f"`x` must hold real numbers; received a {part} part of dtype={arr.dtype}.")
        if arr.dtype.kind == "f" and not np.isfinite(arr).all():
            bad = int((~np.isfinite(arr)).reshape(len(arr), -1).any(axis=1).sum())
            raise ValueError(
                f"`x` contains NaN or infinite values in {bad} of {len(arr)} {part} examples. "
                "Clean or drop them before training."
            )
    check_pair_shapes(xs.shape, xt.shape)
    ys = check_labels(y, "y", num_classes=num_classes, num_examples=len(xs))
    weights = check_sample_weight(
        sample_weight,
        len(xs),
        per="source example",
        rows=", the rows of x[0]",
        trailing_axes=True,
        convert=True,
    )
    # one epoch = one pass over the larger domain; the smaller one is shuffled and cycled to
    # match, so every source and every target example is used. The target is always shuffled,
    # so source and target rows given in corresponding order are not paired (Keras then
    # shuffles the pairs every epoch).
    rng = np.random.default_rng(seed)
    length = max(len(xs), len(xt))
    source_index = np.arange(length) if len(xs) == length else cycled_index(len(xs), length, rng)
    target_index = cycled_index(len(xt), length, rng)
    batch = batch_size or 32
    steps = steps_per_epoch or math.ceil(length / batch)
    weights = None if weights is None else weights[source_index]
    return (xs[source_index], xt[target_index]), ys[source_index], weights, steps * epochs


def check_dataset(dataset, epochs, steps_per_epoch):
    """Validate a tf.data.Dataset of ((xs, xt), ys); return the planned number of steps or None."""
    spec = dataset.element_spec
    if not isinstance(spec, tuple) or len(spec) not in (2, 3):
        raise ValueError(
            f"The dataset must yield ((source_x, target_x), source_y) batches; received element_spec={spec}."
        )
    xspec, yspec = spec[0], spec[1]
    if not isinstance(xspec, tuple) or len(xspec) != 2:
        raise two_domain_error("x", xspec)
    check_labels_structure(yspec)
    check_pair_shapes(xspec[0].shape, xspec[1].shape)
    if steps_per_epoch:
        return steps_per_epoch * epochs
    cardinality = int(dataset.cardinality())
    if cardinality == 0:
        raise ValueError("The dataset is empty (cardinality 0): it has no source/target batches.")
    if cardinality < 0:
        return None
    return cardinality * epochs
