"""The one place where arguments are checked: every error names the argument, says what was
expected and echoes what came.

Checks are declared, not hand-written: ``check_int(value, "epochs", min_value=1)`` instead of an
``isinstance`` ladder in each module. numpy scalars (``np.int64(3)``, ``np.float32(0.1)``) are
accepted wherever a Python int or float is; ``bool`` is never taken for a number; strings such as
``"no"`` are never taken for a bool.

Example:
    >>> from keras_transfer._validation import check_int, suggest
    >>> check_int(3, "epochs", min_value=1)
    3
    >>> suggest("resnet5", ["resnet50", "vgg16"])
    " Did you mean 'resnet50'?"
"""

from __future__ import annotations

import difflib
import math
import numbers
from collections.abc import Iterable, Sequence

import numpy as np


class ArgumentTypeError(TypeError, ValueError):
    """An argument of the wrong type. It is both a ``TypeError`` and a ``ValueError`` (as
    scikit-learn's ``InvalidParameterError`` is), so code that catches either keeps working."""


def suggest(value, choices: Iterable[str]) -> str:
    """Return ``" Did you mean 'x'?"`` for the closest choice, or ``""``."""
    match = difflib.get_close_matches(str(value), [str(c) for c in choices], n=1, cutoff=0.6)
    return f" Did you mean '{match[0]}'?" if match else ""


def _is_int(value) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))


def _is_real(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


def _bounds_text(min_value, max_value, min_inclusive=True, max_inclusive=True) -> str:
    parts = []
    if min_value is not None:
        parts.append(f"{'>=' if min_inclusive else '>'} {min_value}")
    if max_value is not None:
        parts.append(f"{'<=' if max_inclusive else '<'} {max_value}")
    return " and ".join(parts)


def check_int(
    value, name: str, *, min_value: int | None = None, max_value: int | None = None, allow_none: bool = False
) -> int | None:
    """Return ``value`` as a Python int within ``[min_value, max_value]`` (or None if allowed).

    Raises:
        TypeError: ``value`` is not an integer (floats, bools and strings are refused).
        ValueError: ``value`` is out of range.
    """
    if value is None and allow_none:
        return None
    bounds = _bounds_text(min_value, max_value)
    expected = f"an integer{' ' + bounds if bounds else ''}{' or None' if allow_none else ''}"
    if not _is_int(value):
        raise ArgumentTypeError(
            f"`{name}` must be {expected}; received {name}={value!r} of type {type(value).__name__}."
        )
    value = int(value)
    if (min_value is not None and value < min_value) or (max_value is not None and value > max_value):
        raise ValueError(f"`{name}` must be {expected}; received {name}={value}.")
    return value


def check_float(
    value,
    name: str,
    *,
    min_value: float | None = None,
    max_value: float | None = None,
    min_inclusive: bool = True,
    max_inclusive: bool = True,
    allow_none: bool = False,
) -> float | None:
    """Return ``value`` as a finite Python float within the bounds (or None if allowed).

    NaN and infinity are always refused: no argument of this package means anything at infinity.

    Raises:
        TypeError: ``value`` is not a real number (bools and strings are refused).
        ValueError: ``value`` is NaN, infinite or out of range.
    """
    if value is None and allow_none:
        return None
    bounds = _bounds_text(min_value, max_value, min_inclusive, max_inclusive)
    expected = f"a finite number{' ' + bounds if bounds else ''}{' or None' if allow_none else ''}"
    if not _is_real(value):
        raise ArgumentTypeError(
            f"`{name}` must be {expected}; received {name}={value!r} of type {type(value).__name__}."
        )
    value = float(value)
    too_low = min_value is not None and (value < min_value or (not min_inclusive and value == min_value))
    too_high = max_value is not None and (value > max_value or (not max_inclusive and value == max_value))
    if not math.isfinite(value) or too_low or too_high:
        raise ValueError(f"`{name}` must be {expected}; received {name}={value!r}.")
    return value


def check_bool(value, name: str) -> bool:
    """Return ``value`` as a Python bool; only ``True``/``False`` (or numpy bools) are accepted."""
    if not isinstance(value, (bool, np.bool_)):
        raise ArgumentTypeError(
            f"`{name}` must be True or False; received {name}={value!r} of type {type(value).__name__}."
        )
    return bool(value)


def check_choice(value, choices: Sequence[str], name: str) -> str:
    """Return ``value`` if it is one of ``choices``; otherwise a ValueError with a close match."""
    if not isinstance(value, str) or value not in choices:
        hint = suggest(value, choices) if isinstance(value, str) else ""
        raise ValueError(f"`{name}` must be one of {list(choices)}; received {name}={value!r}.{hint}")
    return value


def check_seed(seed, name: str = "seed") -> int:
    """Return ``seed`` as a non-negative Python int (numpy integers accepted)."""
    if not _is_int(seed):
        raise ArgumentTypeError(
            f"`{name}` must be a non-negative integer; received {name}={seed!r} of type "
            f"{type(seed).__name__}. Pass e.g. {name}=0."
        )
    if seed < 0:
        raise ValueError(f"`{name}` must be a non-negative integer; received {name}={seed}.")
    return int(seed)


def check_random_state(random_state, name: str = "random_state") -> int | None:
    """Return ``random_state`` as None or a non-negative int (scikit-learn's seed argument)."""
    if random_state is None:
        return None
    return check_seed(random_state, name)


def check_count(value, name: str, allow_none: bool = True) -> int | None:
    """Return ``value`` as a positive int (or None when allowed)."""
    if value is None and allow_none:
        return None
    if not _is_int(value) or value < 1:
        raise ValueError(
            f"`{name}` must be a positive integer{' or None' if allow_none else ''}; received {name}={value!r}."
        )
    return int(value)


def check_image_size(image_size, name: str = "image_size") -> tuple[int, int] | None:
    """Return ``image_size`` as an ``(height, width)`` tuple of positive ints (or None)."""
    if image_size is None:
        return None
    if _is_int(image_size):
        image_size = (image_size, image_size)
    ok = (
        isinstance(image_size, (tuple, list))
        and len(image_size) == 2
        and all(_is_int(s) and s > 0 for s in image_size)
    )
    if not ok:
        raise ValueError(
            f"`{name}` must be a (height, width) pair of positive integers, one integer or None; "
            f"received {name}={image_size!r}."
        )
    return int(image_size[0]), int(image_size[1])


def check_input_shape(value, name: str = "input_shape") -> tuple[int, int, int] | None:
    """Return ``value`` as a ``(height, width, channels)`` tuple of positive Python ints (numpy
    integers accepted), or None."""
    if value is None:
        return None
    shape = tuple(value) if isinstance(value, (tuple, list)) else ()
    if len(shape) != 3 or not all(_is_int(s) and s > 0 for s in shape):
        raise ValueError(
            f"`{name}` must be (height, width, channels) of positive ints or None; received {name}={value!r}."
        )
    return tuple(int(s) for s in shape)


def shape_of(x) -> tuple:
    """The shape of an array, tensor or nested list, as a tuple."""
    shape = getattr(x, "shape", None)
    if shape is None:
        shape = np.shape(x)
    return tuple(shape)


def concrete(x) -> np.ndarray | None:
    """``x`` as a numpy array when its values are known now (a numpy array, a list, an eager
    tensor), else None (a symbolic tensor inside a traced function, a tracer)."""
    if isinstance(x, np.ndarray):
        return x
    try:
        arr = np.asarray(x)
    except Exception:  # symbolic tensors refuse to become arrays: nothing to check yet
        return None
    return None if arr.dtype == object else arr


def check_finite(x, name: str, what: str = "values") -> None:
    """Raise ValueError naming ``name`` if a concrete float array holds NaN or infinity; symbolic
    tensors (inside a compiled train step) pass unchecked."""
    arr = concrete(x)
    if arr is None or not np.issubdtype(arr.dtype, np.floating) or arr.size == 0:
        return
    finite = np.isfinite(arr)
    if not finite.all():
        rows = len(arr) if arr.ndim else 1
        bad = int((~finite).reshape(rows, -1).any(axis=1).sum())
        raise ValueError(
            f"`{name}` contains NaN or infinite {what} in {bad} of {rows} rows. Clean or drop them first."
        )


def check_feature_pair(source, target, source_name: str = "source", target_name: str = "target") -> None:
    """Raise ValueError unless both are non-empty ``(n, d)`` batches with the same ``d`` (and,
    when their values are concrete, finite)."""
    s_shape, t_shape = shape_of(source), shape_of(target)
    for name, shape in ((source_name, s_shape), (target_name, t_shape)):
        if len(shape) != 2:
            raise ValueError(
                f"`{name}` must be a 2-D feature batch (n, d); received shape={shape}. "
                "Flatten or pool the features first."
            )
        if shape[0] == 0:
            raise ValueError(f"`{name}` is empty: received shape={shape}. Pass at least one row.")
    if s_shape[1] is not None and t_shape[1] is not None and s_shape[1] != t_shape[1]:
        raise ValueError(
            f"`{source_name}` and `{target_name}` must have the same feature size; received "
            f"{source_name} shape={s_shape} and {target_name} shape={t_shape}."
        )
    check_finite(source, source_name)
    check_finite(target, target_name)


def check_images(x, argument: str = "x", allow_nan: bool = False) -> np.ndarray:
    """Validate a batch of images and return it as a numpy array.

    Accepts (N, H, W), treated as one channel, or (N, H, W, C) with C in {1, 3}, of any integer
    or float dtype. Raises ``ValueError`` naming ``argument`` on the wrong rank, channel count,
    an empty batch or NaN/inf pixels, and ``TypeError`` on non-numeric or complex data.

    Example:
        >>> import numpy as np
        >>> from keras_transfer._validation import check_images
        >>> check_images(np.zeros((2, 8, 8), "uint8")).shape
        (2, 8, 8, 1)
    """
    try:
        arr = np.asarray(x)
    except Exception as exc:  # ragged lists of images
        raise ValueError(
            f"`{argument}` must be a batch of equally sized images; could not stack it "
            f"({exc}). Resize the images first or pass a `resize` option."
        ) from exc
    if arr.dtype == object:
        raise ValueError(
            f"`{argument}` must be a batch of equally sized images; received images of mixed "
            "sizes (a ragged array). Resize them to one size first."
        )
    if np.issubdtype(arr.dtype, np.complexfloating) or not (
        np.issubdtype(arr.dtype, np.number) or arr.dtype == bool
    ):
        raise TypeError(
            f"`{argument}` must hold real numeric pixels (integer or float); received dtype={arr.dtype}."
        )
    if arr.ndim == 3:
        arr = arr[..., None]
    if arr.ndim != 4:
        raise ValueError(
            f"`{argument}` must have shape (batch, height, width) or (batch, height, width, "
            f"channels); received shape={arr.shape}."
        )
    if arr.shape[0] == 0:
        raise ValueError(f"`{argument}` is empty: received shape={arr.shape}. Pass at least one image.")
    if arr.shape[-1] not in (1, 3):
        raise ValueError(
            f"`{argument}` must have 1 (grayscale) or 3 (RGB) channels; received "
            f"{arr.shape[-1]} channels in shape={arr.shape}."
        )
    if not allow_nan and np.issubdtype(arr.dtype, np.floating) and not np.isfinite(arr).all():
        bad = int((~np.isfinite(arr)).reshape(len(arr), -1).any(axis=1).sum())
        raise ValueError(
            f"`{argument}` contains NaN or infinite pixels in {bad} of {len(arr)} images. "
            "Clean or drop them before extracting features."
        )
    return arr


def check_labels(
    y, name: str = "y", num_classes: int | None = None, num_examples: int | None = None
) -> np.ndarray:
    """Return integer class labels ``y`` as a 1-D int64 array, or raise an error that says what
    is expected.

    Accepted: a 1-D array (or ``(n, 1)`` column) of integers, or of floats that are whole
    numbers, in ``[0, num_classes)``. Refused with a hint: strings (encode them, e.g. with
    ``sklearn.preprocessing.LabelEncoder``, or use the scikit-learn estimators, which do), one-hot
    rows (pass ``y.argmax(axis=1)``), fractional or non-finite floats, negative or too large labels,
    and a length different from ``num_examples``.

    Example:
        >>> import numpy as np
        >>> from keras_transfer._validation import check_labels
        >>> check_labels(np.array([0.0, 2.0, 1.0]), num_classes=3).tolist()
        [0, 2, 1]
    """
    arr = np.asarray(y)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim == 2 and arr.shape[1] > 1:
        raise ValueError(
            f"`{name}` must hold one integer class label per example (shape (n,)); received shape="
            f"{arr.shape}, which looks one-hot encoded. Pass {name}.argmax(axis=1) instead."
        )
    if arr.ndim != 1:
        raise ValueError(f"`{name}` must be a 1-D array of integer class labels; received shape={arr.shape}.")
    if arr.dtype.kind in "USO":
        raise ArgumentTypeError(
            f"`{name}` must hold integer class labels 0..num_classes-1; received {'objects' if arr.dtype.kind == 'O' else 'strings'} "
            f"such as {arr[:3].tolist()}. Encode them first (sklearn.preprocessing.LabelEncoder), or use the "
            "scikit-learn estimators in keras_transfer.sklearn, which accept any labels."
        )
    if arr.dtype.kind == "b" or not np.issubdtype(arr.dtype, np.number) or np.iscomplexobj(arr):
        raise ArgumentTypeError(f"`{name}` must hold integer class labels; received dtype={arr.dtype}.")
    if arr.dtype.kind == "f":
        if not np.isfinite(arr).all() or not np.all(arr == np.round(arr)):
            bad = arr[~np.isfinite(arr) | (arr != np.round(arr))][:3].tolist()
            raise ValueError(
                f"`{name}` must hold integer class labels; received non-integer values such as {bad}. "
                "Soft or continuous targets are not class labels."
            )
    if num_examples is not None and len(arr) != num_examples:
        raise ValueError(
            f"`{name}` must have one label per example: received {len(arr)} labels for {num_examples} examples."
        )
    labels = arr.astype(np.int64)
    if len(labels) and labels.min() < 0:
        raise ValueError(f"`{name}` must hold class labels >= 0; received {int(labels.min())}.")
    if num_classes is not None and len(labels) and labels.max() >= num_classes:
        raise ValueError(
            f"`{name}` must hold class labels in [0, {num_classes - 1}] for a model with num_classes="
            f"{num_classes}; received {int(labels.max())}."
        )
    return labels


def check_pixel_range(x, name: str = "inputs", expected: tuple[float, float] = (0.0, 255.0)) -> None:
    """Warn when the pixels of a numpy batch do not look like the range a backbone expects.

    Backbones take raw 0-255 images and apply their own preprocessing. Two mistakes are common
    and silently cost accuracy: images already scaled to [0, 1] (the features of
    EfficientNet-Lite0 then differ by up to ~3 in absolute value) and pixels far outside 0-255.
    Integer images with a small range (scikit-learn's digits hold 0-16) and boolean masks are the
    integer forms of the same mistake. Only concrete numpy arrays are checked (a batch inside
    ``fit`` is a tensor and is not).
    """
    import warnings

    arr = np.asarray(x)
    if arr.size == 0:
        return
    if arr.dtype == np.bool_ and expected == (0.0, 255.0):
        warnings.warn(
            f"`{name}` holds boolean pixels (True/False), but the backbone expects raw 0-255 pixels: "
            f"pass {name}.astype('uint8') * 255.",
            UserWarning,
            stacklevel=3,
        )
        return
    if np.issubdtype(arr.dtype, np.integer) and expected == (0.0, 255.0) and arr.size > 16:
        low, high = int(arr.min()), int(arr.max())
        if 0 <= low and 1 <= high <= 16:  # (an all-zero batch carries no range to judge)
            warnings.warn(
                f"`{name}` has integer pixels in [{low}, {high}], a small range (scikit-learn's digits "
                "hold 0-16), but the backbone expects raw 0-255 pixels. Rescale them, e.g. "
                f"({name} * (255 / {max(high, 1)})).astype('uint8').",
                UserWarning,
                stacklevel=3,
            )
            return
    if not np.issubdtype(arr.dtype, np.floating):
        return  # integers: the small-range case above; far outside 0-255 is left to float input
    low, high = float(np.nanmin(arr)), float(np.nanmax(arr))
    span = expected[1] - expected[0]
    if low < expected[0] - 0.5 * span or high > expected[1] + 0.5 * span:
        warnings.warn(
            f"`{name}` has pixels in [{low:.4g}, {high:.4g}], far outside the expected "
            f"{expected[0]:g}-{expected[1]:g}; the backbone's preprocessing assumes raw pixels in that range.",
            UserWarning,
            stacklevel=3,
        )
    elif expected == (0.0, 255.0) and high <= 1.0 and low >= 0.0 and arr.size > 16:
        warnings.warn(
            f"`{name}` has pixels in [{low:.3g}, {high:.3g}]: it looks scaled to 0-1, but the backbone expects "
            "raw 0-255 pixels (it applies its own preprocessing). Multiply by 255, or pass the raw images.",
            UserWarning,
            stacklevel=3,
        )
