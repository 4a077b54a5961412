"""A label-free collapse check for adapted models: is the target output degenerate?

Adaptation can fail silently: entropy minimisation, self-training, TENT/SHOT or BatchNorm
statistics swapped under a head that never saw them can push every target image into one class,
or flatten every prediction, while the training loss looks fine. `check_collapse` looks for the
cheap symptoms of that on the target predictions (and optionally the features) alone, and
`warn_if_collapsed` turns a positive report into a `CollapseWarning` naming the method.
"""

from __future__ import annotations

import dataclasses
import math
import warnings

import numpy as np

# Thresholds (the docstring of `check_collapse` explains each one).
MIN_ROWS = 20
CHECK_ROWS = 1024  # target rows the adaptation paths predict for their check (a random subset of more)
OTHER_CLASSES_FRACTION = 0.25
EFFECTIVE_CLASSES_FRACTION = 0.25
UNIFORM_ENTROPY = 0.99
IDENTICAL_SPREAD = 1e-4
FEATURE_SPREAD = 1e-4


class CollapseWarning(UserWarning):
    """An adapted model's target predictions or features look degenerate (collapsed)."""


@dataclasses.dataclass(frozen=True)
class CollapseReport:
    """What `check_collapse` found.

    Attributes:
        collapsed: whether any symptom was found.
        symptoms: one human-readable sentence per symptom (empty when healthy).
        num_rows: number of target rows checked.
        class_shares: share of the target rows predicted as each class (argmax), per class.
        reference_shares: the reference class balance the shares were compared with (the
            source's, or uniform when none was given), per class.
        normalized_entropy: mean prediction entropy divided by ``log(num_classes)``, in [0, 1]
            (NaN when the predictions are not finite).
    """

    collapsed: bool
    symptoms: tuple[str, ...]
    num_rows: int
    class_shares: tuple[float, ...]
    reference_shares: tuple[float, ...]
    normalized_entropy: float

    def __str__(self) -> str:
        if self.collapsed:
            return "Collapsed: " + "; ".join(self.symptoms) + "."
        if not self.class_shares:
            return f"No collapse symptom on {self.num_rows} target rows."
        top = int(np.argmax(self.class_shares))
        return (
            f"No collapse symptom on {self.num_rows} target rows (most predicted class {top} at "
            f"{self.class_shares[top]:.0%}, reference share {self.reference_shares[top]:.0%}; "
            f"mean entropy {self.normalized_entropy:.2f} of the maximum)."
        )


def _reference(reference_distribution, num_classes: int) -> np.ndarray:
    if reference_distribution is None:
        return np.full(num_classes, 1.0 / num_classes)
    ref = np.asarray(reference_distribution)
    if ref.dtype.kind not in "biuf" or ref.shape != (num_classes,):
        raise ValueError(
            "`reference_distribution` must be one non-negative number per class (class shares or "
            f"counts), shape ({num_classes},); received dtype={ref.dtype}, shape={ref.shape}."
        )
    ref = ref.astype("float64")
    if not np.all(np.isfinite(ref)) or ref.min() < 0 or ref.sum() <= 0:
        raise ValueError(
            "`reference_distribution` must hold finite non-negative class shares or counts with a "
            f"positive sum; received {ref.tolist()}."
        )
    return ref / ref.sum()


def _effective_classes(shares: np.ndarray) -> float:
    """``exp`` of the entropy of a class distribution: k for k equally likely classes."""
    positive = shares[shares > 0]
    return float(np.exp(-np.sum(positive * np.log(positive))))


def _feature_symptoms(features, num_rows: int) -> list[str]:
    f = np.asarray(features)
    if f.dtype.kind not in "biuf" or f.ndim < 2 or f.shape[0] != num_rows:
        raise ValueError(
            "`features` must be real numbers with one row per row of `probabilities`, shape "
            f"({num_rows}, ...); received dtype={f.dtype}, shape={f.shape}."
        )
    f = f.reshape(num_rows, -1).astype("float64")
    bad = ~np.all(np.isfinite(f), axis=1)
    if bad.any():
        return [f"{bad.mean():.0%} of target feature rows hold NaN or inf"]
    if num_rows < 2:
        return []
    power = float(np.mean(np.sum(f**2, axis=1)))
    if power == 0.0:
        return ["every target feature is exactly zero"]
    spread = float(np.sum(np.var(f, axis=0))) / power
    if spread < FEATURE_SPREAD:
        return [
            f"target features are nearly identical across rows (their variance is {spread:.1e} of "
            "their mean squared norm)"
        ]
    return []


def check_collapse(probabilities, *, reference_distribution=None, features=None) -> CollapseReport:
    """Check an adapted model's target outputs for label-free symptoms of collapse.

    Symptoms and thresholds (each one alone marks the model collapsed):

    - **Non-finite output**: any NaN or inf in ``probabilities`` or ``features``.
    - **One class takes (nearly) everything**: the most predicted class takes so many rows that
      the other classes together get less than a quarter of their reference share
      (``1 - share < 0.25 * (1 - reference share)``). With 10 balanced classes that is more than
      77.5% of the rows in one class, with 2 balanced classes more than 87.5%. A real label shift
      between source and target moves class shares too, but rarely squeezes all other classes
      to a quarter of their weight at once.
    - **Too few classes used**: the effective number of predicted classes (``exp`` of the
      entropy of the predicted-class histogram: k for k equally used classes) is below a quarter
      of the reference's, e.g. fewer than 2.5 of 10 balanced classes. A target that truly holds
      only 3 of the 10 source classes does not trigger it.
    - **Uniform predictions**: mean prediction entropy above 99% of ``log(num_classes)`` (the
      model says almost nothing: for 2 classes, an average confidence below about 0.56). The
      margin leaves room for a weak but useful classifier whose entropy is close to the maximum
      (the measured case is in benchmarks/README.md, "Figures quoted from docstrings").
    - **Identical predictions**: every class probability varies across rows by less than
      1e-4 (standard deviation): the output no longer depends on the input.
    - **Degenerate features** (when ``features`` is given): all zero, or their total variance
      across rows is below 1e-4 of their mean squared norm (every row maps to nearly the same
      point). Dead units alone do not trigger it.

    The class-share and entropy checks need at least 20 rows (fewer cannot tell a collapse from
    chance) and are skipped below that; the non-finite checks always run. Measured cases are in
    the project's benchmarks/README.md.

    Args:
        probabilities: ``(n, num_classes)`` predicted class probabilities on target data
            (rows summing to 1; apply a softmax to logits first).
        reference_distribution: the class balance to compare with, usually the source's: one
            non-negative share or count per class. None: uniform.
        features: optional ``(n, ...)`` target features (e.g. the bottleneck the head reads).

    Returns:
        A `CollapseReport`.

    Raises:
        ValueError: ``probabilities`` is not 2-D with at least 2 classes, its finite rows do not
            sum to 1, or ``reference_distribution``/``features`` do not match it.

    Example:
        >>> import numpy as np
        >>> from keras_transfer.adaptation import check_collapse
        >>> rng = np.random.default_rng(0)
        >>> labels = rng.integers(0, 10, 500)
        >>> healthy = np.full((500, 10), 0.02)
        >>> healthy[np.arange(500), labels] = 0.82
        >>> check_collapse(healthy).collapsed
        False
        >>> collapsed = np.full((500, 10), 0.02)
        >>> collapsed[:, 3] = 0.82
        >>> report = check_collapse(collapsed, reference_distribution=np.full(10, 0.1))
        >>> print(report.symptoms[0])
        100% of target predictions are class 3 (reference share 10%)
    """
    p = np.asarray(probabilities)
    if p.dtype.kind not in "biuf" or p.ndim != 2 or p.shape[0] == 0 or p.shape[1] < 2:
        raise ValueError(
            "`probabilities` must be class probabilities of shape (n > 0, num_classes >= 2); "
            f"received dtype={p.dtype}, shape={p.shape}."
        )
    p = p.astype("float64")
    n, num_classes = p.shape
    ref = _reference(reference_distribution, num_classes)
    symptoms = []
    finite = np.all(np.isfinite(p), axis=1)
    if not finite.all():
        symptoms.append(f"{1 - finite.mean():.0%} of target predictions hold NaN or inf")
    q = p[finite]
    if len(q) and (q.min() < -1e-6 or np.abs(q.sum(axis=1) - 1).max() > 1e-3):
        raise ValueError(
            "`probabilities` must hold probabilities (non-negative rows that sum to 1); apply a "
            "softmax to logits first."
        )
    shares = np.bincount(q.argmax(axis=1), minlength=num_classes) / max(len(q), 1)
    entropy = (
        float(np.mean(-np.sum(q * np.log(np.clip(q, 1e-12, 1.0)), axis=1)) / math.log(num_classes))
        if len(q)
        else float("nan")
    )
    if finite.all() and n >= MIN_ROWS:
        top = int(np.argmax(shares))
        if 1.0 - shares[top] < OTHER_CLASSES_FRACTION * (1.0 - ref[top]):
            symptoms.append(
                f"{shares[top]:.0%} of target predictions are class {top} (reference share {ref[top]:.0%})"
            )
        else:
            used, expected = _effective_classes(shares), _effective_classes(ref)
            if used < EFFECTIVE_CLASSES_FRACTION * expected:
                symptoms.append(
                    f"target predictions use only {used:.1f} classes effectively (reference {expected:.1f})"
                )
        if entropy > UNIFORM_ENTROPY:
            symptoms.append(
                f"target predictions are nearly uniform (mean entropy {entropy:.1%} of the maximum)"
            )
        elif float(np.max(np.std(q, axis=0))) < IDENTICAL_SPREAD:
            symptoms.append("target predictions are identical for every row (they ignore the input)")
    if features is not None:
        symptoms.extend(_feature_symptoms(features, n))
    return CollapseReport(
        collapsed=bool(symptoms),
        symptoms=tuple(symptoms),
        num_rows=int(n),
        class_shares=tuple(float(s) for s in shares),
        reference_shares=tuple(float(r) for r in ref),
        normalized_entropy=entropy,
    )


def warn_if_collapsed(report: CollapseReport, method: str) -> bool:
    """Issue a `CollapseWarning` naming ``method`` and the symptoms if ``report`` found a collapse.

    Args:
        report: a `CollapseReport` from `check_collapse`.
        method: the adaptation method that produced the model (named in the warning).

    Returns:
        ``report.collapsed``.

    Example:
        >>> import warnings
        >>> import numpy as np
        >>> from keras_transfer.adaptation import CollapseWarning, check_collapse, warn_if_collapsed
        >>> report = check_collapse(np.tile([[0.9, 0.05, 0.05]], (50, 1)))
        >>> with warnings.catch_warnings(record=True) as caught:
        ...     warnings.simplefilter("always")
        ...     warn_if_collapsed(report, "entropy")
        True
        >>> caught[0].category is CollapseWarning
        True
    """
    if not isinstance(report, CollapseReport):
        raise TypeError(
            f"`report` must be a CollapseReport from check_collapse; received {type(report).__name__}."
        )
    if report.collapsed:
        warnings.warn(
            f"method {method!r} returned a model whose target outputs look collapsed: "
            + "; ".join(report.symptoms)
            + ". Its target predictions are probably useless: compare another method, try a "
            "smaller adaptation weight, or check the target data.",
            CollapseWarning,
            stacklevel=2,
        )
    return report.collapsed
