"""`get_backbone(name, ...)`: the one way to build any registered backbone."""

from __future__ import annotations

import os

from keras_transfer._validation import ArgumentTypeError, check_bool
from keras_transfer.backbones.backbone import POOLING, Backbone
from keras_transfer.backbones.bases import build_base, lookup
from keras_transfer.backbones.hub_handles import hub_entry
from keras_transfer.backbones.keras_hub_backbone import KERAS_HUB_PREFIX, load_keras_hub_backbone
from keras_transfer.backbones.registry import HUB_PREFIX, is_hub_name
from keras_transfer.backbones.text_backbone import TextBackbone
from keras_transfer.backbones.text_loading import TEXT_PREFIX, load_text_backbone
from keras_transfer.backbones.weights import describe_weights

# The backbone of the demo, the estimators and the notebooks: its ImageNet weights ship in an
# installed package, so it works offline.
DEFAULT_BACKBONE = "efficientnet_lite0"
# Names that are not registry entries but handles: TF-Hub, keras-hub image presets, text backbones.
HANDLE_PREFIXES = (HUB_PREFIX, KERAS_HUB_PREFIX, TEXT_PREFIX)


def check_backbone_name(name, argument: str = "backbone") -> None:
    """Refuse an unknown registry name with an error naming ``argument`` (and the closest names);
    handles (``hub:``, ``kerashub:``, ``text:``) pass: they are checked when they are loaded.

    Example:
        >>> from keras_transfer.backbones import check_backbone_name
        >>> check_backbone_name("hub:mobilenet_v2_100_224")
        >>> check_backbone_name("resnet5")
        Traceback (most recent call last):
        ...
        ValueError: `backbone` must be one of list_backbones(); received backbone='resnet5'. Did you mean ...?
    """
    if not (isinstance(name, str) and name.startswith(HANDLE_PREFIXES)):
        lookup(name, argument)


def get_backbone(
    name: str = DEFAULT_BACKBONE,
    *,
    input_shape: tuple[int, int, int] | None = None,
    weights: str | os.PathLike | None = "imagenet",
    pooling: str | None = "avg",
    trainable: bool = True,
    **kwargs,
) -> Backbone | TextBackbone:
    """Build a registered backbone as a `Backbone` (raw images in, pooled features out).

    Args:
        name: a name from `list_backbones()`, e.g. ``DEFAULT_BACKBONE`` (``"efficientnet_lite0"``,
            whose ImageNet weights ship in an installed package and work offline) or ``"resnet50"``;
            or ``"hub:<TF-Hub URL or SavedModel folder>"``; or ``"kerashub:<preset>"`` for a
            keras-hub image backbone (built-in name, ``hf://``, ``kaggle://`` or a local preset
            folder; a `KerasHubBackbone`); or ``"text:<name>"`` for a `TextBackbone` (strings in:
            ``"text:minilm"`` or a keras-hub text preset / Hugging Face folder, see
            `load_text_backbone`; ``input_shape``, ``weights`` and ``pooling`` do not apply).
            keras-hub is an optional extra: ``pip install "keras-transfer[hub]"``.
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
    if isinstance(name, str) and name.startswith(TEXT_PREFIX):  # strings in: pooling is "mean"/"cls"
        return load_text_backbone(name, trainable=trainable, **kwargs)
    if pooling not in POOLING:
        raise ValueError(f"`pooling` must be one of {POOLING}; received pooling={pooling!r}.")
    if isinstance(name, str) and name.startswith(KERAS_HUB_PREFIX):
        return load_keras_hub_backbone(
            name[len(KERAS_HUB_PREFIX) :],
            input_shape=input_shape,
            weights=weights,
            pooling=pooling,
            trainable=trainable,
            **kwargs,
        )
    entry = hub_entry(name) if is_hub_name(name) else lookup(name, "name")
    trainable = check_bool(trainable, "trainable")
    if weights is not None and not isinstance(weights, (str, os.PathLike)):
        raise ArgumentTypeError(
            "`weights` must be None, 'imagenet' or the path of a .weights.h5/.h5 file; received "
            f"weights={weights!r} of type {type(weights).__name__}."
        )
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
