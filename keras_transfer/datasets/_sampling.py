"""Class-balanced index sampling shared by the dataset loaders (private)."""

from __future__ import annotations

import numpy as np


def per_class_indices(
    y: np.ndarray, num_per_class: int, seed: int, argument: str, where: str, hint: str = ""
) -> np.ndarray:
    """Sorted indices of ``num_per_class`` examples of every class of ``y``, drawn with ``seed``.

    ``hint`` ends the too-large message (e.g. " or use source='keras'").
    """
    classes, counts = np.unique(y, return_counts=True)
    if num_per_class > counts.min():
        if not hint and "subset" in where:
            hint = " or use the full copy (source='debian' or 'keras')"
        raise ValueError(
            f"`{argument}` is too large: {where} has only {counts.min()} images of class "
            f"{classes[counts.argmin()]}; received {argument}={num_per_class}. Pass at most "
            f"{counts.min()}{hint}."
        )
    rng = np.random.default_rng(seed)
    picks = [rng.choice(np.flatnonzero(y == c), num_per_class, replace=False) for c in classes]
    return np.sort(np.concatenate(picks))


def balanced_indices(y: np.ndarray, num: int, seed: int, argument: str, where: str) -> np.ndarray:
    """Sorted indices of ``num`` examples with class counts as equal as possible (they differ by <= 1)."""
    classes, counts = np.unique(y, return_counts=True)
    if num > len(y):
        raise ValueError(
            f"`{argument}` is too large: {where} has {len(y)} images; received {argument}={num}."
        )
    base, extra = divmod(num, len(classes))
    wanted = np.full(len(classes), base) + (np.arange(len(classes)) < extra)
    if np.any(wanted > counts):
        raise ValueError(
            f"`{argument}`={num} cannot be class-balanced: {where} has only {counts.min()} images "
            f"of class {classes[counts.argmin()]}. Pass at most {counts.min() * len(classes)}."
        )
    rng = np.random.default_rng(seed)
    picks = [rng.choice(np.flatnonzero(y == c), k, replace=False) for c, k in zip(classes, wanted)]
    return np.sort(np.concatenate(picks))


def balanced_counts(available: np.ndarray, num: int, argument: str, where: str) -> np.ndarray:
    """Per-class counts that sum to ``num``, differ by at most one and fit in ``available``.

    The classes with the most examples left take the extra ones (ties: lower class first).
    """
    available = np.asarray(available, dtype=np.int64)
    most = int(available.min()) * len(available) + int(np.sum(available > available.min()))
    if num > most:
        raise ValueError(
            f"`{argument}` is too large: {where} has {available.sum()} images, of which at most "
            f"{most} can be drawn class-balanced; received {argument}={num}. Pass at most {most}."
        )
    base, extra = divmod(num, len(available))
    wanted = np.full(len(available), base, dtype=np.int64)
    wanted[np.argsort(-available, kind="stable")[:extra]] += 1
    return wanted


def disjoint_indices(y: np.ndarray, counts: list[np.ndarray], seed: int) -> list[np.ndarray]:
    """Disjoint sorted index sets; set ``k`` holds ``counts[k][i]`` examples of the ``i``-th class.

    Every class is shuffled once with ``seed`` and cut into consecutive runs, so the sets never
    share an example.
    """
    classes = np.unique(y)
    rng = np.random.default_rng(seed)
    picks = [[] for _ in counts]
    for i, c in enumerate(classes):
        members = rng.permutation(np.flatnonzero(y == c))
        start = 0
        for k, wanted in enumerate(counts):
            picks[k].append(members[start : start + wanted[i]])
            start += wanted[i]
    return [np.sort(np.concatenate(p)) for p in picks]
