"""Deprecated name of `keras_transfer.atomic_files` (atomic file writes); removed in the next release.

The module was renamed because ``io_utils`` beside ``image_io`` read as "the other image reader".
The old name stays for one release because README examples and user code import
``keras_transfer.io_utils.save_model``: every name is still there and each use warns with a
`DeprecationWarning` pointing at the new module.

Example:
    >>> import warnings
    >>> from keras_transfer import atomic_files, io_utils
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     io_utils.save_model is atomic_files.save_model
    True
    >>> "keras_transfer.atomic_files" in str(caught[0].message)
    True
"""

from __future__ import annotations

import warnings

from keras_transfer import atomic_files

# The names that moved, each still reachable here (with a warning) for one release.
MOVED = ("atomic_write", "remove_stale_temporaries", "save_model", "staged_files")


def __getattr__(name: str):
    if name in MOVED:
        warnings.warn(
            f"`keras_transfer.io_utils` was renamed to `keras_transfer.atomic_files`; use "
            f"`keras_transfer.atomic_files.{name}` (the old name goes in the next release).",
            DeprecationWarning,
            stacklevel=2,
        )
        return getattr(atomic_files, name)
    raise AttributeError(f"module 'keras_transfer.io_utils' has no attribute {name!r}")


def __dir__():
    return sorted(MOVED)
