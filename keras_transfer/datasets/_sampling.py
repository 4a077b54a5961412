"""Class-balanced index sampling shared by the dataset loaders (private)."""

from __future__ import annotations

import numpy as np


def per_class_indices(y: np.ndarray, num_per_class: int, seed: int, argument: str, where: str) -> np.ndarray:
    """Sorted indices of ``num_per_class`` examples of every class of ``y``, drawn with ``seed``."""
    classes, counts = np.unique(y, return_counts=True)
    if num_per_class > counts.min():
        hint = " or use the full copy (source='debian' or 'keras')" if "subset" in where else ""
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
