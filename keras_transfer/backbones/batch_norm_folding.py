"""Inference copies with BatchNorm folded into the convolution before it.

In inference mode a BatchNormalization layer is a per-channel affine map,
``y = (x - mean) * gamma / sqrt(variance + epsilon) + beta``. When ``x`` is the output of a
convolution with no activation, the map folds into that convolution's kernel and bias, and the
BatchNorm layer disappears from the graph. On a 2-core CPU, EfficientNet-Lite0 at 96 px spent
about a quarter of its op time in BatchNorm's elementwise ``Mul``/``AddV2`` (TensorFlow profiler)
and the folded copy extracted features 1.2-2.6x faster at 32-160 px on TensorFlow (no measurable
change on JAX, not profiled there); see benchmarks/README.md ("Where the time goes"). The features agree with the unfolded model to float32 round-off.
"""

from __future__ import annotations

import keras
import numpy as np

from keras_transfer.api_export import export

_FOLDABLE = (keras.layers.Conv2D, keras.layers.DepthwiseConv2D)


@export
class FoldedBatchNormalization(keras.layers.Layer):
    """Where a BatchNormalization layer was folded into the convolution before it: the identity.

    `fold_batch_norm` puts one in place of every folded layer, under the same name, so the folded
    copy keeps the original's layer names.

    Example:
        >>> import numpy as np
        >>> from keras_transfer.backbones import FoldedBatchNormalization
        >>> tuple(FoldedBatchNormalization()(np.ones((1, 2), "float32")).shape)
        (1, 2)
    """

    def call(self, inputs, training=None, mask=None):
        return inputs

    def compute_output_shape(self, input_shape):
        return input_shape


def fold_batch_norm(model: keras.Model) -> keras.Model:
    """An inference copy of ``model`` with BatchNorm folded into the convolution it follows.

    Every ``BatchNormalization`` whose only input is the output of a ``Conv2D`` or
    ``DepthwiseConv2D`` without activation (channels last), used by nothing else, is folded into
    that convolution's kernel and bias (which is created when the convolution had none) and
    replaced by `FoldedBatchNormalization`. The weights are read once, when the copy is made: the
    copy is for inference with frozen weights (it does not follow later training of ``model``,
    and BatchNorm in it no longer has a training mode). Other layers keep their weights.

    Args:
        model: a functional or ``Sequential`` Keras model (nested models are copied unfolded).

    Returns:
        A new model with the same inputs, outputs and layer names.

    Raises:
        TypeError: ``model`` is not a functional or ``Sequential`` Keras model.

    Example:
        >>> import keras, numpy as np
        >>> from keras_transfer.backbones import fold_batch_norm
        >>> inputs = keras.Input((8, 8, 3))
        >>> x = keras.layers.Conv2D(4, 3, use_bias=False)(inputs)
        >>> x = keras.layers.BatchNormalization()(x)
        >>> model = keras.Model(inputs, keras.layers.ReLU()(x))
        >>> folded = fold_batch_norm(model)
        >>> [type(layer).__name__ for layer in folded.layers]
        ['InputLayer', 'Conv2D', 'FoldedBatchNormalization', 'ReLU']
        >>> x = np.random.default_rng(0).normal(size=(2, 8, 8, 3)).astype("float32")
        >>> bool(np.allclose(model.predict(x, verbose=0), folded.predict(x, verbose=0), atol=1e-5))
        True
    """
    if not isinstance(model, keras.Model) or not (
        isinstance(model, keras.Sequential) or type(model).__name__ == "Functional"
    ):
        raise TypeError(
            f"`model` must be a functional or Sequential keras.Model; received {type(model).__name__}."
        )
    pairs = _foldable_pairs(model)  # conv name -> the BatchNormalization layer after it
    folded = {bn.name for bn in pairs.values()}

    def clone(layer):
        if layer.name in folded:
            return FoldedBatchNormalization(name=layer.name, dtype=layer.dtype_policy.name)
        config = layer.get_config()
        if layer.name in pairs:
            config["use_bias"] = True
        return type(layer).from_config(config)

    copy = keras.models.clone_model(model, clone_function=clone)
    for layer in model.layers:
        if layer.name in folded or not layer.weights:
            continue
        target = copy.get_layer(layer.name)
        if layer.name in pairs:
            target.set_weights(_folded_weights(layer, pairs[layer.name]))
        else:
            target.set_weights(layer.get_weights())
    return copy


def _single(get):
    """``get()`` (a layer's ``input`` or ``output``), or None for a layer used at several places."""
    try:
        return get()
    except (AttributeError, ValueError):  # Keras raises these for layers with several nodes
        return None


def _foldable_pairs(model) -> dict:
    consumers: dict[int, int] = {}  # id(tensor) -> how many layers (and model outputs) read it
    for layer in model.layers:
        inputs = _single(lambda layer=layer: layer.input)
        for tensor in inputs if isinstance(inputs, (list, tuple)) else [inputs]:
            if tensor is not None:
                consumers[id(tensor)] = consumers.get(id(tensor), 0) + 1
    for tensor in model.outputs:
        consumers[id(tensor)] = consumers.get(id(tensor), 0) + 1
    producers = {}
    for layer in model.layers:
        output = _single(lambda layer=layer: layer.output)
        if isinstance(layer, _FOLDABLE) and output is not None:
            producers[id(output)] = layer
    pairs = {}
    for layer in model.layers:
        if not isinstance(layer, keras.layers.BatchNormalization):
            continue
        conv = producers.get(id(_single(lambda layer=layer: layer.input)))
        if (
            conv is not None
            and consumers.get(id(conv.output)) == 1
            and conv.get_config().get("activation") in ("linear", None)
            and conv.get_config().get("data_format", "channels_last") == "channels_last"
            and layer.axis in (-1, len(conv.output.shape) - 1)
        ):
            pairs[conv.name] = layer
    return pairs


def _folded_weights(conv, bn) -> list[np.ndarray]:
    weights = [np.asarray(w) for w in conv.get_weights()]
    kernel = weights[0]
    bias = (
        weights[1]
        if len(weights) > 1
        else np.zeros(kernel.shape[-1] * (kernel.shape[2] if _depthwise(conv) else 1))
    )
    variance = keras.ops.convert_to_numpy(bn.moving_variance).astype(np.float64)
    scale = 1.0 / np.sqrt(variance + bn.epsilon)
    if bn.scale:
        scale = scale * keras.ops.convert_to_numpy(bn.gamma)
    shift = -keras.ops.convert_to_numpy(bn.moving_mean) * scale
    if bn.center:
        shift = shift + keras.ops.convert_to_numpy(bn.beta)
    if _depthwise(conv):  # kernel (h, w, in, multiplier): output channel = in * multiplier + m
        kernel = kernel * scale.reshape(kernel.shape[2], kernel.shape[3])
    else:  # kernel (..., out)
        kernel = kernel * scale
    return [kernel.astype(weights[0].dtype), (bias * scale + shift).astype(weights[0].dtype)]


def _depthwise(conv) -> bool:
    return isinstance(conv, keras.layers.DepthwiseConv2D)
