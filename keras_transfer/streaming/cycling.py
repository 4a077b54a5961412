"""Pairing two domains of different sizes: the smaller one is cycled through shuffled passes.

An epoch of two-domain training is one pass over the larger domain; the smaller domain's rows
come back pass after pass, each pass in a new random order, so every row of both domains is used
and no row repeats before all the others have come. The two-domain models
(`keras_transfer.models.TwoDomainModel.fit` on arrays) and the estimators
(`keras_transfer.sklearn.DomainAdaptationClassifier`) draw their pairings with `cycled_index`;
`keras_transfer.streaming.two_domain_dataset` does the same inside a `tf.data` pipeline.
"""

from __future__ import annotations

import math

import numpy as np


def cycled_index(n: int, length: int, rng: np.random.Generator) -> np.ndarray:
    """``length`` positions into ``n`` rows: back-to-back shuffled passes over the ``n`` rows
    (``rng.permutation(n)`` each), cut at ``length``.

    Example:
        >>> import numpy as np
        >>> from keras_transfer.streaming import cycled_index
        >>> index = cycled_index(3, 7, np.random.default_rng(0))
        >>> len(index), sorted(index[:3].tolist()), sorted(index[3:6].tolist())
        (7, [0, 1, 2], [0, 1, 2])
    """
    return np.concatenate([rng.permutation(n) for _ in range(math.ceil(length / n))])[:length]
