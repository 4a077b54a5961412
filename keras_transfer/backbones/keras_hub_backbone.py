"""`KerasHubBackbone`: a keras-hub image backbone preset as a `Backbone` (``get_backbone("kerashub:...")``)."""

from __future__ import annotations

import os
import re

import keras

from keras_transfer._validation import ArgumentTypeError
from keras_transfer.api_export import export
from keras_transfer.backbones.backbone import POOLING, Backbone
from keras_transfer.backbones.bases import check_backbone_input_shape
from keras_transfer.backbones.blocks import block_groups_from_pattern
from keras_transfer.backbones.keras_hub_support import import_keras_hub

KERAS_HUB_PREFIX = "kerashub:"
# Layer-name anchors of keras-hub image backbones, tried in order: the first that matches cuts the
# layers into block groups (layers before the first block are "stem", after the last "top").
BLOCK_PATTERNS = (
    r"^(stack\d+_block\d+)_",  # ResNet (stack<i>_block<j>_...)
    r"^(stage_?\d+_block_?\d+)",  # staged families
    r"^(block_?\d+[a-z]?)_",  # EfficientNet / MobileNet style
    r"^(transformer_layer_\d+)$",
)


@export
class KerasHubBackbone(Backbone):
    """A keras-hub image backbone (ResNet, MobileNet, EfficientNet, ... feature-map models) as a
    `Backbone`: raw [0, 255] images in, the preset's image converter fused, pooled features out.

    The preset's image converter (its per-channel ``scale`` and ``offset``) runs as the
    preprocessing, after our resize to ``input_size`` (the converter's crop-to-aspect-ratio is not
    applied: images are resized whole, as for every `Backbone`). Block groups come from the
    keras-hub layer names (``stack0_block0`` ... for ResNet; see ``BLOCK_PATTERNS``), so every
    trainability policy works unchanged. Backbones that return token sequences (ViT) are not
    supported: pooling expects feature maps.

    Args:
        model: the keras-hub backbone (a functional model of feature maps at a fixed image size).
        scale: the converter's scale (a float or one per channel), or None.
        offset: the converter's offset (a float or one per channel), or None.
        preset: where it came from (informational, kept in the config).
        **kwargs: passed to `Backbone` (``block_groups``, ``pooling``, ``name``, ...).

    Example:
        >>> from keras_transfer.backbones import get_backbone
        >>> bb = get_backbone("kerashub:/path/to/preset", input_shape=(64, 64, 3))  # doctest: +SKIP
        >>> bb.block_names[:2]  # doctest: +SKIP
        ['stem', 'stack0_block0']
    """

    def __init__(self, model=None, *, scale=None, offset=None, preset: str | None = None, **kwargs):
        kwargs.setdefault("preprocessing", "none")
        super().__init__(model, **kwargs)
        self.scale = _as_list(scale)
        self.offset = _as_list(offset)
        self.preset = preset
        if self.scale is not None or self.offset is not None:
            self.preprocess = keras.layers.Rescaling(
                scale=1.0 if self.scale is None else self.scale,
                offset=0.0 if self.offset is None else self.offset,
                name="image_converter",
            )

    def get_config(self):
        return {**super().get_config(), "scale": self.scale, "offset": self.offset, "preset": self.preset}


def _as_list(value):
    if value is None:
        return None
    if isinstance(value, (int, float)):
        return float(value)
    return [float(v) for v in value]


def load_keras_hub_backbone(
    preset: str,
    *,
    input_shape=None,
    weights: str | None = "imagenet",
    pooling: str | None = "avg",
    trainable: bool = True,
    **kwargs,
) -> KerasHubBackbone:
    """Build ``get_backbone("kerashub:<preset>")``: load the backbone and image converter of a
    keras-hub preset (built-in name, ``hf://``, ``kaggle://`` or a local preset folder).

    ``weights="imagenet"`` (any non-None value) loads the preset's weights; ``None`` builds the
    same architecture randomly initialised. ``input_shape`` defaults to the converter's image size.
    """
    keras_hub = import_keras_hub(f"get_backbone({KERAS_HUB_PREFIX + str(preset)!r})")
    if not isinstance(preset, (str, os.PathLike)) or not os.fspath(preset):
        raise ArgumentTypeError(f"`name` must be 'kerashub:<preset or folder>'; received preset={preset!r}.")
    if pooling not in POOLING:
        raise ValueError(f"`pooling` must be one of {POOLING}; received pooling={pooling!r}.")
    preset = os.fspath(preset)
    hub_model = keras_hub.models.Backbone.from_preset(preset, load_weights=weights is not None)
    try:
        converter = keras_hub.layers.ImageConverter.from_preset(preset)
    except (ValueError, FileNotFoundError):  # a preset without an image converter
        converter = None
    if len(hub_model.output_shape) != 4:
        raise ValueError(
            f"The keras-hub preset {preset!r} ({type(hub_model).__name__}) returns shape "
            f"{hub_model.output_shape}; a kerashub: backbone needs feature maps (batch, h, w, channels)."
        )
    size = getattr(converter, "image_size", None) if input_shape is None else None
    if input_shape is None and size is None:
        raise ValueError(
            f"`input_shape` is required for the keras-hub preset {preset!r}: it has no image converter "
            "with an image size."
        )
    shape = check_backbone_input_shape(preset, {"min_size": 1}, input_shape or (*size, 3))
    config = hub_model.get_config()
    if "image_shape" in config and tuple(config["image_shape"]) != shape:  # fix the input size
        fixed = type(hub_model).from_config({**config, "image_shape": shape})
        fixed.set_weights(hub_model.get_weights())
        hub_model = fixed
    # input layers hold no weights, and their auto-numbered names change when a file is loaded
    names = [layer.name for layer in hub_model.layers if not isinstance(layer, keras.layers.InputLayer)]
    groups = {"all": names}
    for pattern in BLOCK_PATTERNS:
        if any(re.search(pattern, n) for n in names):
            groups = block_groups_from_pattern(names, pattern)
            break
    kwargs.setdefault("name", "kerashub_backbone")
    backbone = KerasHubBackbone(
        hub_model,
        scale=getattr(converter, "scale", None),
        offset=getattr(converter, "offset", None),
        preset=preset,
        block_groups=groups,
        pooling=pooling,
        weights_source=preset if weights is not None else None,
        **kwargs,
    )
    backbone.trainable = trainable
    return backbone
