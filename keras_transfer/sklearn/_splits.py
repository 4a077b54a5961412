"""The estimators' held-out split (private): ``validation_split`` and ``method="auto"``'s source
hold-out draw their rows with this one function.

It is not the models' split (``TransferClassifier.fine_tune``'s automatic validation split,
``stratified_split`` in ``keras_transfer/models/_fine_tune_recipe.py``), and the two stay apart on
purpose. The estimators follow scikit-learn: ``random_state`` seeds ``train_test_split``, which
holds out a total count (stratified when it can). The models follow Keras: they draw from numpy's
global generator (seeded by ``keras.utils.set_random_seed``) and hold out a share of each class,
at least one row of each. Either one calling the other would change which rows are held out for a
given seed, and so the recorded benchmark results.
"""

from __future__ import annotations

import numpy as np


def held_out_split(
    codes: np.ndarray, n_held: int, seed: int | None, *, stratify: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Sorted ``(train, held)`` indices with ``n_held`` rows held out.

    scikit-learn's ``train_test_split(test_size=n_held, random_state=seed)``, stratified on
    ``codes`` (class codes 0..k-1) when ``stratify`` is set, every class has 2 rows or more and
    ``n_held`` leaves room for each class, else a plain shuffled split. With ``n_held`` of 0, or
    ``len(codes)`` or more, every row trains and none is held out.
    """
    from sklearn.model_selection import train_test_split

    index = np.arange(len(codes))
    stratify = codes if stratify and len(codes) and np.bincount(codes).min() >= 2 else None
    if stratify is not None and n_held < len(np.unique(codes)):
        stratify = None
    if n_held == 0 or n_held >= len(codes):
        return index, index[:0]
    train, held = train_test_split(index, test_size=n_held, random_state=seed, stratify=stratify)
    return np.sort(train), np.sort(held)
