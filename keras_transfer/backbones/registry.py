"""The backbone registry: a plain dict from name to how to build, preprocess and cut a backbone.

Each entry holds:
    builder        callable(input_shape, weights) -> Keras model of feature maps (no top, no pooling)
    family         family name, for grouping and docs
    preprocessing  a `FamilyPreprocessing` mode
    num_features   channels of the last feature map (the pooled feature size)
    input_size     native (height, width)
    min_size       smallest input side the architecture accepts
    block_pattern  regex whose first group names a block; layers are cut by position
    block_anchor   "start" (the first match opens a block) or "end" (a match closes a block)

Entries may also hold ``make_backbone``: a callable ``(input_shape, weights, pooling, trainable,
**kwargs) -> Backbone`` for entries that build their own backbone (TF-Hub handles).

This module holds the Keras Applications entries. Importing ``keras_transfer.backbones`` adds the
EfficientNet-Lite entries (``efficientnet_lite.py``) and the curated TF-Hub handles
(``hub_handles.py``), so every import of the package sees the full registry.
"""

from __future__ import annotations

import fnmatch

import keras

from keras_transfer._validation import ArgumentTypeError

_APPS = keras.applications


def _app(fn, **extra):
    """Builder for a Keras Applications constructor: no top, no pooling (the Backbone pools)."""

    def build(input_shape, weights):
        return fn(include_top=False, weights=weights, input_shape=input_shape, pooling=None, **extra)

    build.__name__ = f"build_{fn.__name__}"
    return build


def _entry(fn, family, preprocessing, num_features, size, pattern, anchor="start", min_size=32, **extra):
    return {
        "builder": _app(fn, **extra),
        "family": family,
        "preprocessing": preprocessing,
        "num_features": num_features,
        "input_size": (size, size),
        "min_size": min_size,
        "block_pattern": pattern,
        "block_anchor": anchor,
    }


_RESNET = r"^(conv\d_block\d+)_"
_EFFNET = r"^(block\d+[a-z]+)_"
_CONVNEXT = r"_(stage_\d+_block_\d+)_"
_DENSENET = r"^(conv\d_block\d+)_"

# Backbone names that start with this are TF-Hub handles (``"hub:<short name>"``, ``"hub:<URL>"``
# or ``"hub:<SavedModel folder>"``), built by `keras_transfer.backbones.hub_handles.hub_entry`.
HUB_PREFIX = "hub:"


def is_hub_name(name) -> bool:
    """Whether ``name`` is a TF-Hub backbone name (a string starting with ``"hub:"``).

    Example:
        >>> from keras_transfer.backbones.registry import is_hub_name
        >>> is_hub_name("hub:mobilenet_v2_100_224"), is_hub_name("resnet50"), is_hub_name(None)
        (True, False, False)
    """
    return isinstance(name, str) and name.startswith(HUB_PREFIX)


BACKBONES: dict[str, dict] = {
    "vgg16": _entry(_APPS.VGG16, "vgg", "caffe", 512, 224, r"^(block\d)_"),
    "vgg19": _entry(_APPS.VGG19, "vgg", "caffe", 512, 224, r"^(block\d)_"),
    "resnet50": _entry(_APPS.ResNet50, "resnet", "caffe", 2048, 224, _RESNET),
    "resnet101": _entry(_APPS.ResNet101, "resnet", "caffe", 2048, 224, _RESNET),
    "resnet152": _entry(_APPS.ResNet152, "resnet", "caffe", 2048, 224, _RESNET),
    "resnet50_v2": _entry(_APPS.ResNet50V2, "resnet_v2", "tf", 2048, 224, _RESNET),
    "resnet101_v2": _entry(_APPS.ResNet101V2, "resnet_v2", "tf", 2048, 224, _RESNET),
    "resnet152_v2": _entry(_APPS.ResNet152V2, "resnet_v2", "tf", 2048, 224, _RESNET),
    "inception_v3": _entry(_APPS.InceptionV3, "inception_v3", "tf", 2048, 299, r"^(mixed\d+)$", "end", 75),
    "inception_resnet_v2": _entry(
        _APPS.InceptionResNetV2, "inception_resnet_v2", "tf", 1536, 299, r"^(block\d+_\d+)_", min_size=75
    ),
    "xception": _entry(_APPS.Xception, "xception", "tf", 2048, 299, r"^(block\d+)_", min_size=71),
    "mobilenet": _entry(_APPS.MobileNet, "mobilenet", "tf", 1024, 224, r"^conv_(?:dw|pw|pad)_(\d+)"),
    "mobilenet_v2": _entry(_APPS.MobileNetV2, "mobilenet_v2", "tf", 1280, 224, r"^(block_\d+)_"),
    "mobilenet_v3_small": _entry(
        _APPS.MobileNetV3Small, "mobilenet_v3", "none", 576, 224, r"^(expanded_conv(?:_\d+)?)_"
    ),
    "mobilenet_v3_large": _entry(
        _APPS.MobileNetV3Large, "mobilenet_v3", "none", 960, 224, r"^(expanded_conv(?:_\d+)?)_"
    ),
    "densenet121": _entry(_APPS.DenseNet121, "densenet", "torch", 1024, 224, _DENSENET),
    "densenet169": _entry(_APPS.DenseNet169, "densenet", "torch", 1664, 224, _DENSENET),
    "densenet201": _entry(_APPS.DenseNet201, "densenet", "torch", 1920, 224, _DENSENET),
    "nasnet_mobile": _entry(
        _APPS.NASNetMobile,
        "nasnet",
        "tf",
        1056,
        224,
        r"^((?:normal|reduction)_concat(?:_reduce)?_\d+)$",
        "end",
    ),
    "nasnet_large": _entry(
        _APPS.NASNetLarge,
        "nasnet",
        "tf",
        4032,
        331,
        r"^((?:normal|reduction)_concat(?:_reduce)?_\d+)$",
        "end",
    ),
    **{
        f"efficientnet_b{i}": _entry(
            getattr(_APPS, f"EfficientNetB{i}"), "efficientnet", "none", feat, size, _EFFNET
        )
        for i, (feat, size) in enumerate(
            [
                (1280, 224),
                (1280, 240),
                (1408, 260),
                (1536, 300),
                (1792, 380),
                (2048, 456),
                (2304, 528),
                (2560, 600),
            ]
        )
    },
    **{
        f"efficientnet_v2_{key.lower()}": _entry(
            getattr(_APPS, f"EfficientNetV2{key}"), "efficientnet_v2", "none", feat, size, _EFFNET
        )
        for key, feat, size in [
            ("B0", 1280, 224),
            ("B1", 1280, 240),
            ("B2", 1408, 260),
            ("B3", 1536, 300),
            ("S", 1280, 384),
            ("M", 1280, 480),
            ("L", 1280, 480),
        ]
    },
    **{
        f"convnext_{key.lower()}": _entry(
            getattr(_APPS, f"ConvNeXt{key}"), "convnext", "none", feat, 224, _CONVNEXT
        )
        for key, feat in [("Tiny", 768), ("Small", 768), ("Base", 1024), ("Large", 1536), ("XLarge", 2048)]
    },
}


def register_backbone(name: str, entry: dict, overwrite: bool = False) -> None:
    """Add a backbone family member to the registry (used by EfficientNet-Lite and plugins).

    Args:
        name: registry key, e.g. ``"efficientnet_lite0"``.
        entry: a dict with the keys listed in this module's docstring.
        overwrite: replace an existing entry of the same name.

    Example:
        >>> from keras_transfer.backbones.registry import BACKBONES, register_backbone
        >>> register_backbone("my_vgg", dict(BACKBONES["vgg16"]))
        >>> "my_vgg" in BACKBONES
        True
        >>> del BACKBONES["my_vgg"]
    """
    required = {
        "builder",
        "family",
        "preprocessing",
        "num_features",
        "input_size",
        "min_size",
        "block_pattern",
        "block_anchor",
    }
    missing = required - set(entry)
    if missing:
        raise ValueError(
            f"`entry` for {name!r} is missing keys {sorted(missing)}; expected {sorted(required)}."
        )
    if name in BACKBONES and not overwrite:
        raise ValueError(f"`name`={name!r} is already registered; pass overwrite=True to replace it.")
    BACKBONES[name] = entry


def list_backbones(pattern: str = "*") -> list[str]:
    """Names of the registered backbones matching a shell-style ``pattern``, sorted.

    Args:
        pattern: an `fnmatch` pattern such as ``"efficientnet*"`` or ``"hub:*"``.

    Example:
        >>> from keras_transfer.backbones import list_backbones
        >>> list_backbones("vgg*")
        ['vgg16', 'vgg19']
    """
    if not isinstance(pattern, str):
        raise ArgumentTypeError(
            f"`pattern` must be a shell-style pattern (str) such as 'resnet*'; received "
            f"pattern={pattern!r} of type {type(pattern).__name__}."
        )
    return sorted(n for n in BACKBONES if fnmatch.fnmatchcase(n, pattern))
