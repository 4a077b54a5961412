"""Shared input checks for two-domain data: errors name the argument and echo what came."""

from __future__ import annotations


def _shape(x):
    shape = getattr(x, "shape", None)
    if shape is None:
        import numpy as np

        shape = np.shape(x)
    return tuple(shape)


def check_feature_pair(source, target, source_name: str = "source", target_name: str = "target"):
    """Raise ValueError unless both are non-empty ``(n, d)`` batches with the same ``d``."""
    s_shape, t_shape = _shape(source), _shape(target)
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
