"""The estimators' scikit-learn column bookkeeping in one place.

``n_features_in_`` and ``feature_names_in_`` exist only after fitting on a table (rows of
flattened images: a 2-D array, a DataFrame or a sparse matrix), where sklearn's ``validate_data``
sets them. Image files, folders, datasets, 4-D image arrays and texts have no columns: fitting on
them removes what an earlier fit on a table left.
"""

from __future__ import annotations

import numpy as np

from keras_transfer.image_io import is_path_input

INPUT_FEATURE_ATTRIBUTES = ("n_features_in_", "feature_names_in_")


def is_table(X) -> bool:
    """Whether ``X`` is rows of flattened images (sklearn's column bookkeeping applies)."""
    return not is_path_input(X) and (
        hasattr(X, "iloc") or hasattr(X, "tocsr") or (isinstance(X, np.ndarray) and X.ndim <= 2)
    )


def forget_input_features(estimator) -> None:
    """Remove ``n_features_in_`` / ``feature_names_in_`` from ``estimator`` (fit on input without columns)."""
    for name in INPUT_FEATURE_ATTRIBUTES:
        if hasattr(estimator, name):
            delattr(estimator, name)
