"""Cut a model's layer list into named, ordered block groups from a layer-name regex.

Applications models contain auto-numbered layers (``re_lu_7``, ``add_3``) whose numbers depend on
the session, so we match the named anchors only and cut ``model.layers`` by position: every layer
belongs to the block of the nearest anchor before it ("start" anchors) or after it ("end" anchors).
Layers before the first block form ``"stem"``, layers after the last form ``"top"``.
"""

from __future__ import annotations

import re


def block_groups_from_pattern(
    layer_names: list[str], pattern: str, anchor: str = "start"
) -> dict[str, list[str]]:
    """Group ``layer_names`` (in model order) into ``{"stem": [...], <block>: [...], "top": [...]}``.

    Example:
        >>> from keras_transfer.backbones.blocks import block_groups_from_pattern
        >>> names = ["input", "conv", "block1_a", "relu_3", "block1_b", "block2_a", "head"]
        >>> block_groups_from_pattern(names, r"^(block\\d)_")
        {'stem': ['input', 'conv'], 'block1': ['block1_a', 'relu_3', 'block1_b'], 'block2': ['block2_a'], 'top': ['head']}
    """
    if anchor not in ("start", "end"):
        raise ValueError(f"`anchor` must be 'start' or 'end'; received anchor={anchor!r}.")
    regex = re.compile(pattern)
    keys = []
    for name in layer_names:
        match = regex.search(name)
        keys.append(match.group(1) if match else None)
    hits = [i for i, k in enumerate(keys) if k is not None]
    if not hits:
        raise ValueError(
            f"`block_pattern`={pattern!r} matches no layer of the model; cannot build block groups."
        )
    groups: dict[str, list[str]] = {"stem": []}
    if anchor == "start":
        first, last = hits[0], hits[-1]
        groups["stem"] = list(layer_names[:first])
        current = None
        for i in range(first, last + 1):
            if keys[i] is not None:
                current = _group_key(keys[i])
            groups.setdefault(current, []).append(layer_names[i])
        groups["top"] = list(layer_names[last + 1 :])
    else:
        start = 0
        for i in hits:
            key = _group_key(keys[i])
            groups.setdefault(key, []).extend(layer_names[start : i + 1])
            start = i + 1
        groups["top"] = list(layer_names[start:])
    return groups


def _group_key(raw: str) -> str:
    return f"block_{raw}" if raw.isdigit() else raw
