"""Helpers of the source-free models (SHOT, TENT): copying a model and splitting a classifier into
its feature extractor and classifier head (private)."""

from __future__ import annotations

import keras
import numpy as np

from keras_transfer._validation import check_finite
from keras_transfer.layers import WeightNormalizedDense
from keras_transfer.models._guards import check_image_batch
from keras_transfer.policies.batch_norm import walk_layers

_CLASSIFIERS = (keras.layers.Dense, WeightNormalizedDense)


def check_inputs(x, name: str = "x"):
    """A non-empty numpy array of finite inputs (images are checked as images)."""
    if not isinstance(x, np.ndarray):
        raise TypeError(f"`{name}` must be a numpy array of unlabelled inputs; received {type(x).__name__}.")
    if len(x) == 0:
        raise ValueError(f"`{name}` must hold at least one example; received shape {x.shape}.")
    if x.ndim == 4 and x.shape[-1] in (1, 3):  # images; other 4-D inputs (feature maps) are arrays
        check_image_batch(x, name, pixels=False)
    else:
        check_finite(x, name)
    return x


def input_shape_of(layer):
    """The ``(None, ...)`` input shape of a built layer or model, or None when it has none."""
    try:
        shape = layer.input_shape if layer.built else None
    except (AttributeError, ValueError):
        return None
    return tuple(shape) if isinstance(shape, (tuple, list)) and shape and shape[0] is None else None


def copy_model(model):
    """An independent copy of a built Keras model with the same weights (and trainable flags)."""
    if not isinstance(model, keras.Model):
        raise TypeError(f"`model` must be a keras.Model; received {type(model).__name__}.")
    if not model.built:
        raise ValueError("`model` must be built (trained, or called once on data) before it is adapted.")
    clone = keras.models.clone_model(model)
    clone.set_weights(model.get_weights())
    flags = [layer.trainable for layer in walk_layers(model)]
    for layer, flag in zip(walk_layers(clone), flags):
        layer.trainable = flag
    return clone


def is_functional(model) -> bool:
    """Whether ``model`` is a functional `keras.Model` (a graph of layers with symbolic inputs)."""
    try:
        return isinstance(model, keras.Model) and bool(model.inputs) and bool(model.outputs)
    except (AttributeError, ValueError):
        return False


def _is_softmax(layer) -> bool:
    if isinstance(layer, keras.layers.Softmax):
        return True
    activation = getattr(layer, "activation", None)
    return isinstance(layer, keras.layers.Activation) and getattr(activation, "__name__", "") == "softmax"


def _flat_sequential(model):
    for layer in model.layers:
        if isinstance(layer, keras.Sequential):
            yield from _flat_sequential(layer)
        else:
            yield layer


def _head(dense, after):
    """The classifier: the Dense layer, then its softmax (added when the Dense outputs logits)."""
    if after:
        return keras.Sequential([dense, *after], name="classifier")
    if getattr(dense.activation, "__name__", "") == "softmax":
        return dense
    return keras.Sequential(
        [dense, keras.layers.Activation("softmax", dtype="float32", name="classifier_softmax")],
        name="classifier",
    )


def split_classifier(model, name: str = "model"):
    """``(feature_extractor, classifier)`` of a classifier, sharing its layers."""
    expected = (
        f"`{name}` must be a built classifier ending in a Dense layer (a keras.Sequential, a functional "
        "keras.Model or a keras_transfer TransferClassifier)"
    )
    if hasattr(model, "backbone") and hasattr(model, "classifier") and hasattr(model, "softmax"):
        return model.backbone, keras.Sequential([model.classifier, model.softmax], name="classifier")
    if hasattr(model, "feature_extractor") and hasattr(model, "label_head"):  # a two-domain model
        parts = [model.feature_extractor, getattr(model, "bottleneck", None), model.label_head]
        shape = input_shape_of(model.feature_extractor) or model.input_shape
        model = keras.Sequential([keras.Input(tuple(shape)[1:]), *(p for p in parts if p is not None)])
    if isinstance(model, keras.Sequential):
        layers = list(_flat_sequential(model))
        after = []
        while layers and _is_softmax(layers[-1]):
            after.insert(0, layers.pop())
        if not layers or not isinstance(layers[-1], _CLASSIFIERS):
            last = type(layers[-1]).__name__ if layers else "nothing"
            raise ValueError(f"{expected}; its last layer is {last}.")
        dense = layers.pop()
        features = keras.Sequential([keras.Input(model.input_shape[1:]), *layers], name="feature_extractor")
        return features, _head(dense, after)
    if is_functional(model):
        layers = [layer for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)]
        after = []
        while layers and _is_softmax(layers[-1]):
            after.insert(0, layers.pop())
        if not layers or not isinstance(layers[-1], _CLASSIFIERS) or len(model.outputs) != 1:
            raise ValueError(f"{expected}; received a functional model that does not.")
        dense = layers[-1]
        features = keras.Model(model.inputs, dense.input, name="feature_extractor")
        return features, _head(dense, after)
    raise ValueError(f"{expected}; received {type(model).__name__}.")
