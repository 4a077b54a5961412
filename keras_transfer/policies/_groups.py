"""Helpers shared by the policies: find the backbone in a model and walk its block groups."""

from __future__ import annotations

import keras

STEM, TOP, HEAD = "stem", "top", "head"
BN_MODES = ("frozen", "train")


def find_backbone(model, argument: str = "model"):
    """Return the one layer of ``model`` that carries ``block_groups`` (the model itself included).

    A backbone is anything with an ordered ``block_groups`` dict and a ``group_layers(group)``
    method: `keras_transfer.backbones.Backbone`, the TF-Hub backbone, or a user's model wrapped as
    ``Backbone(model, block_groups=...)``.

    Raises:
        ValueError: ``model`` holds no backbone with block groups, or more than one.
    """
    if _is_backbone(model):
        return model
    found = []
    if isinstance(model, keras.layers.Layer):
        found = [layer for layer in model._flatten_layers(include_self=False) if _is_backbone(layer)]
    if not found:
        raise ValueError(
            f"`{argument}` must be a Backbone or a model that contains one (a layer with named "
            f"`block_groups`); received {type(model).__name__} {getattr(model, 'name', '')!r} without "
            "block groups. Wrap your feature extractor as keras_transfer.backbones.Backbone(model, "
            "block_groups={'stem': [...], 'block1': [...], 'top': [...]})."
        )
    if len(found) > 1:
        raise ValueError(
            f"`{argument}` contains {len(found)} backbones ({[b.name for b in found]}); a policy "
            "applies to one. Apply it to the backbone itself."
        )
    return found[0]


def _is_backbone(obj) -> bool:
    groups = getattr(obj, "block_groups", None)
    return isinstance(groups, dict) and len(groups) > 0 and callable(getattr(obj, "group_layers", None))


def named_blocks(backbone) -> list[str]:
    """Block group names without ``'stem'`` and ``'top'``, bottom to top."""
    return [g for g in backbone.block_groups if g not in (STEM, TOP)]


def groups_top_down(backbone) -> list[str]:
    """``['top', <last block>, ..., <first block>, 'stem']`` (groups that exist only)."""
    groups = list(backbone.block_groups)
    order = [TOP] if TOP in groups else []
    order += list(reversed(named_blocks(backbone)))
    if STEM in groups:
        order.append(STEM)
    return order


def group_of_layer(backbone, layer_name: str) -> str | None:
    for group, names in backbone.block_groups.items():
        if layer_name in names:
            return group
    return None


def group_weights(backbone, group: str) -> list:
    """Every weight of the layers of ``group`` (trainable or not)."""
    out = []
    for layer in backbone.group_layers(group):
        out.extend(layer.weights)
    return out


def is_batch_norm(layer) -> bool:
    return isinstance(layer, keras.layers.BatchNormalization)


def check_bn(bn) -> str:
    if bn not in BN_MODES:
        raise ValueError(
            f"`bn` must be one of {BN_MODES} ('frozen': BatchNorm layers stay in inference mode even "
            f"in unfrozen blocks; 'train': they train with their block); received bn={bn!r}."
        )
    return bn
