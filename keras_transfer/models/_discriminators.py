"""The built-in domain discriminators of DANN and CDAN, by name."""

from __future__ import annotations

import keras

from keras_transfer._validation import suggest
from keras_transfer.models import _two_domain as td


def _small():
    """Two 64-unit ReLU layers: enough for small feature sizes, and fast."""
    return [keras.layers.Dense(64, activation="relu"), keras.layers.Dense(64, activation="relu")]


def _tllib():
    """Two 1024-unit layers with BatchNorm and ReLU (the Transfer-Learning-Library's default)."""
    layers = []
    for _ in range(2):
        layers += [keras.layers.Dense(1024), keras.layers.BatchNormalization(), keras.layers.ReLU()]
    return layers


def _paper():
    """Two 1024-unit ReLU layers with dropout 0.5 (Ganin et al. 2016, Office experiments)."""
    layers = []
    for _ in range(2):
        layers += [keras.layers.Dense(1024, activation="relu"), keras.layers.Dropout(0.5)]
    return layers


DISCRIMINATORS = {"small": _small, "tllib": _tllib, "paper": _paper}


def resolve_discriminator(value, name: str = "domain_head"):
    """Return ``(layer, config_value)``: a named discriminator (None means ``"small"``) or a layer.

    The layer maps its input to one domain logit per row (target = 1).
    """
    if value is None:
        value = "small"
    if isinstance(value, str):
        if value not in DISCRIMINATORS:
            raise ValueError(
                f"`{name}` must be one of {sorted(DISCRIMINATORS)} or a Keras layer; received "
                f"{name}={value!r}.{suggest(value, DISCRIMINATORS)}"
            )
        layers = [*DISCRIMINATORS[value](), keras.layers.Dense(1, dtype="float32")]
        return keras.Sequential(layers, name="domain_head"), value
    layer = td.resolve_layer(value, name)
    return layer, None
