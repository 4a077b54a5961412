"""`build_base(name, ...)`: the raw feature-map model of a registry entry and its block groups.

`Backbone.from_config` rebuilds registry backbones through this function (with ``weights=None``:
the weights come from the saved file), and `get_backbone` builds them through it.
"""

from __future__ import annotations

import numbers
import os

import numpy as np

from keras_transfer._validation import suggest
from keras_transfer.backbones.blocks import block_groups_from_pattern
from keras_transfer.backbones.registry import BACKBONES, is_hub_name, list_backbones
from keras_transfer.backbones.weights import check_weights_file, explain_download_failure


def lookup(name: str, argument: str = "backbone") -> dict:
    """The registry entry of ``name``, or a ValueError that suggests the closest name.

    Example:
        >>> from keras_transfer.backbones.bases import lookup
        >>> lookup("resnet50")["family"]
        'resnet'
    """
    if isinstance(name, str) and name in BACKBONES:
        return BACKBONES[name]
    if is_hub_name(name):
        raise ValueError(
            f"backbone={name!r} is a TF-Hub model: build it with get_backbone({name!r}) or "
            "keras_transfer.backbones.HubBackbone, not build_base."
        )
    names = list_backbones()
    raise ValueError(
        f"`{argument}` must be one of list_backbones(); received {argument}={name!r}."
        + suggest(str(name), names)
    )


def check_backbone_input_shape(name: str, entry: dict, input_shape) -> tuple[int, int, int]:
    """``input_shape`` as ``(height, width, 3)`` (1-channel shapes become RGB), checked against ``entry``."""
    if input_shape is None:
        return (*entry["input_size"], 3)
    shape = tuple(input_shape) if isinstance(input_shape, (tuple, list)) else ()
    integral = all(isinstance(s, numbers.Integral) and not isinstance(s, (bool, np.bool_)) for s in shape)
    if len(shape) != 3 or not integral:
        raise ValueError(
            f"`input_shape` must be (height, width, channels) of ints; received input_shape={input_shape!r}."
        )
    shape = tuple(int(s) for s in shape)
    if min(shape) < 1:
        raise ValueError(f"`input_shape` must hold positive sizes; received input_shape={shape}.")
    if shape[-1] not in (1, 3):
        raise ValueError(
            f"`input_shape` must end in 1 or 3 channels (1-channel images are turned into RGB); "
            f"received input_shape={shape}."
        )
    if min(shape[:2]) < entry["min_size"]:
        raise ValueError(
            f"`input_shape` for backbone={name!r} must be at least {entry['min_size']}x{entry['min_size']}; "
            f"received input_shape={shape}. Smaller images are resized up if you keep a larger input_shape."
        )
    return (shape[0], shape[1], 3)


def build_base(name: str, input_shape=None, weights=None):
    """Build the raw feature-map model of registry entry ``name`` and its block groups.

    Args:
        name: a registry name (not a ``hub:`` name: those build a `HubBackbone` whole).
        input_shape: ``(height, width, channels)``; defaults to the family's native size.
        weights: ``None``, ``"imagenet"`` or the path of a ``.weights.h5``/``.h5`` file.

    Returns:
        ``(model, block_groups)``.

    Example:
        >>> from keras_transfer.backbones.bases import build_base
        >>> model, groups = build_base("vgg16", input_shape=(32, 32, 3))
        >>> list(groups)[:3], model.output_shape
        (['stem', 'block1', 'block2'], (None, 1, 1, 512))
    """
    entry = lookup(name, "name")
    shape = check_backbone_input_shape(name, entry, input_shape)
    path = None
    if weights not in (None, "imagenet"):
        path = os.fspath(weights)
        if not os.path.exists(path):
            raise FileNotFoundError(
                f"`weights`={path!r} does not exist. Pass None (random init), 'imagenet', or the path "
                "of an existing .weights.h5 / .h5 file."
            )
        weights = None
    try:
        model = entry["builder"](shape, weights)
    except Exception as exc:
        better = explain_download_failure(exc, name) if weights == "imagenet" else None
        if better is not None:
            raise better from exc
        raise
    if path is not None:
        check_weights_file(path, model)
        try:
            model.load_weights(path)
        except Exception as exc:
            raise ValueError(f"`weights`={path!r} could not be loaded into backbone={name!r}: {exc}") from exc
    groups = block_groups_from_pattern(
        [layer.name for layer in model.layers], entry["block_pattern"], entry["block_anchor"]
    )
    return model, groups
