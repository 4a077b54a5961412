"""Two-conv backbones registered for fast estimator tests (16x16 inputs, random weights only):
``tiny_cnn_test`` (no BatchNorm) and ``tiny_bn_cnn_test`` (BatchNorm after each conv, for AdaBN)."""

import keras

from keras_transfer.backbones.registry import BACKBONES, register_backbone

NAME = "tiny_cnn_test"
BN_NAME = "tiny_bn_cnn_test"


def _build(input_shape, weights, batch_norm=False):
    if weights is not None:
        raise ValueError("the tiny test backbones have no pretrained weights.")
    x = inputs = keras.Input(input_shape)
    for i, filters in enumerate((8, 16), start=1):
        x = keras.layers.Conv2D(filters, 3, strides=2, padding="same", name=f"block{i}_conv")(x)
        if batch_norm:
            x = keras.layers.BatchNormalization(name=f"block{i}_bn")(x)
        x = keras.layers.ReLU(name=f"block{i}_relu")(x)
    return keras.Model(inputs, x, name="tiny_bn_cnn" if batch_norm else "tiny_cnn")


def _spec(builder):
    return {
        "builder": builder,
        "family": "tiny",
        "preprocessing": BACKBONES["mobilenet_v2"]["preprocessing"],
        "num_features": 16,
        "input_size": (16, 16),
        "min_size": 8,
        "block_pattern": r"^(block\d)_",
        "block_anchor": "start",
    }


if NAME not in BACKBONES:
    register_backbone(NAME, _spec(_build))
if BN_NAME not in BACKBONES:
    register_backbone(BN_NAME, _spec(lambda input_shape, weights: _build(input_shape, weights, True)))

TINY_CNN = dict(backbone=NAME, weights=None, input_shape=(16, 16, 3))
TINY_BN_CNN = dict(backbone=BN_NAME, weights=None, input_shape=(16, 16, 3))
