"""`get_backbone(name, ...)`: the one way to build any registered backbone."""

from __future__ import annotations

import os

from keras_transfer._validation import suggest
from keras_transfer.backbones.backbone import POOLING, Backbone
from keras_transfer.backbones.blocks import block_groups_from_pattern
from keras_transfer.backbones.registry import BACKBONES, list_backbones
from keras_transfer.backbones.weights import check_weights_file, describe_weights, explain_download_failure

DEFAULT_BACKBONE = "efficientnet_lite0"


def _lookup(name: str) -> dict:
    names = list_backbones()  # also loads plugin entries
    if isinstance(name, str) and name.startswith("hub:") and name not in BACKBONES:
        from keras_transfer.backbones.hub_handles import hub_entry

        return hub_entry(name)  # any TF-Hub URL or SavedModel folder: "hub:<handle>"
    if not isinstance(name, str) or name not in BACKBONES:
        raise ValueError(
            f"`backbone` must be one of list_backbones(); received backbone={name!r}."
            + suggest(str(name), names)
        )
    return BACKBONES[name]


def _check_input_shape(name: str, entry: dict, input_shape) -> tuple[int, int, int]:
    if input_shape is None:
        return (*entry["input_size"], 3)
    shape = tuple(input_shape)
    if len(shape) != 3 or any(not isinstance(s, int) for s in shape):
        raise ValueError(
            f"`input_shape` must be (height, width, channels) of ints; received input_shape={input_shape!r}."
        )
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

    Returns:
        ``(model, block_groups)``.
    """
    entry = _lookup(name)
    shape = _check_input_shape(name, entry, input_shape)
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


def get_backbone(
    name: str = DEFAULT_BACKBONE,
    *,
    input_shape: tuple[int, int, int] | None = None,
    weights: str | os.PathLike | None = "imagenet",
    pooling: str | None = "avg",
    trainable: bool = True,
    **kwargs,
) -> Backbone:
    """Build a registered backbone as a `Backbone` (raw images in, pooled features out).

    Args:
        name: a name from `list_backbones()`, e.g. ``"efficientnet_lite0"`` (the default, whose
            ImageNet weights ship in an installed package and work offline) or ``"resnet50"``.
        input_shape: ``(height, width, channels)`` the backbone works at; defaults to the family's
            native size. Inputs of other sizes are resized, 1-channel inputs become RGB.
        weights: ``None`` (random), ``"imagenet"`` (Keras' download, cached in
            ``$KERAS_HOME/models``; for EfficientNet-Lite, the embedded weights), or a path to a
            ``.weights.h5``/``.h5`` file.
        pooling: ``"avg"``, ``"max"`` or ``None``.
        trainable: initial trainability of the whole backbone.
        **kwargs: passed to `Backbone` (e.g. ``name``).

    Raises:
        ValueError: unknown ``name`` (with a close-match suggestion), bad ``input_shape``/``pooling``,
            or a weights file that does not fit.
        WeightsUnavailableError: ``"imagenet"`` weights cannot be downloaded and are not cached.

    Example:
        >>> from keras_transfer.backbones import get_backbone
        >>> bb = get_backbone("resnet50", input_shape=(32, 32, 3), weights=None)
        >>> bb.num_features, bb.block_names[:3]
        (2048, ['stem', 'conv2_block1', 'conv2_block2'])
    """
    if pooling not in POOLING:
        raise ValueError(f"`pooling` must be one of {POOLING}; received pooling={pooling!r}.")
    entry = _lookup(name)
    custom = entry.get("make_backbone")
    if custom is not None:  # entries that build their own Backbone (TF-Hub handles)
        return custom(
            input_shape=input_shape, weights=weights, pooling=pooling, trainable=trainable, **kwargs
        )
    model, groups = build_base(name, input_shape=input_shape, weights=weights)
    kwargs.setdefault("name", f"{name}_backbone")
    backbone = Backbone(
        model,
        backbone=name,
        preprocessing=entry["preprocessing"],
        block_groups=groups,
        pooling=pooling,
        weights_source=describe_weights(weights, name),
        **kwargs,
    )
    backbone.trainable = trainable
    return backbone
