"""A two-conv backbone registered for fast estimator tests (16x16 inputs, random weights only)."""

import keras

from keras_transfer.backbones.registry import BACKBONES, register_backbone

NAME = "tiny_cnn_test"


def _build(input_shape, weights):
    if weights is not None:
        raise ValueError("tiny_cnn_test has no pretrained weights.")
    inputs = keras.Input(input_shape)
    x = keras.layers.Conv2D(8, 3, strides=2, padding="same", activation="relu", name="block1_conv")(inputs)
    x = keras.layers.Conv2D(16, 3, strides=2, padding="same", activation="relu", name="block2_conv")(x)
    return keras.Model(inputs, x, name="tiny_cnn")


if NAME not in BACKBONES:
    register_backbone(
        NAME,
        {
            "builder": _build,
            "family": "tiny",
            "preprocessing": BACKBONES["mobilenet_v2"]["preprocessing"],
            "num_features": 16,
            "input_size": (16, 16),
            "min_size": 8,
            "block_pattern": r"^(block\d)_",
            "block_anchor": "start",
        },
    )

TINY_CNN = dict(backbone=NAME, weights=None, input_shape=(16, 16, 3))
