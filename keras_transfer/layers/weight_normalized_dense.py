"""`WeightNormalizedDense`: a Dense layer whose kernel columns are reparameterised as g * v / |v|."""

from __future__ import annotations

import keras
from keras import ops

from keras_transfer._validation import check_int
from keras_transfer.api_export import export


@export
class WeightNormalizedDense(keras.layers.Layer):
    """A dense layer with weight normalisation: each output unit's weights are ``g * v / ||v||``.

    Salimans and Kingma, "Weight Normalization: A Simple Reparameterization to Accelerate
    Training of Deep Neural Networks", NeurIPS 2016: the direction ``v`` (a kernel of shape
    ``(input_dim, units)``) and the length ``g`` (one per unit) are learned separately;
    ``g`` starts at ``||v||`` so the layer starts as a plain Dense layer with the same kernel. SHOT
    (Liang et al., ICML 2020) uses it for its classifier head (PyTorch's ``weight_norm`` on
    ``nn.Linear``, the norm taken per output unit), with `keras_transfer.models.TransferClassifier`
    offering it as ``weight_norm=True``.

    Args:
        units: number of output units (>= 1).
        activation: a Keras activation (name or callable), or None.
        use_bias: whether to add a bias.
        kernel_initializer: initializer of ``v``.
        **kwargs: arguments of `keras.layers.Layer` (``name``, ``dtype``).

    Example:
        >>> import numpy as np
        >>> from keras_transfer.layers import WeightNormalizedDense
        >>> layer = WeightNormalizedDense(3)
        >>> y = layer(np.ones((2, 4), "float32"))
        >>> kernel = layer.g.numpy() * layer.v.numpy() / np.linalg.norm(layer.v.numpy(), axis=0)
        >>> bool(np.allclose(np.asarray(y), np.ones((2, 4)) @ kernel, atol=1e-5))
        True
    """

    def __init__(
        self,
        units: int,
        activation=None,
        use_bias: bool = True,
        kernel_initializer="glorot_uniform",
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.units = check_int(units, "units", min_value=1)
        self.activation = keras.activations.get(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)

    def build(self, input_shape):
        dim = input_shape[-1]
        self.v = self.add_weight(name="v", shape=(dim, self.units), initializer=self.kernel_initializer)
        self.g = self.add_weight(name="g", shape=(self.units,), initializer="ones")
        self.g.assign(ops.sqrt(ops.sum(ops.square(self.v), axis=0)))
        self.bias = (
            self.add_weight(name="bias", shape=(self.units,), initializer="zeros") if self.use_bias else None
        )

    @property
    def kernel(self):
        """The effective kernel ``g * v / ||v||`` (per output unit)."""
        norm = ops.sqrt(ops.sum(ops.square(self.v), axis=0) + 1e-12)
        return self.v * (self.g / norm)

    def call(self, inputs):
        outputs = ops.matmul(ops.cast(inputs, self.compute_dtype), ops.cast(self.kernel, self.compute_dtype))
        if self.use_bias:
            outputs = outputs + ops.cast(self.bias, self.compute_dtype)
        return self.activation(outputs) if self.activation is not None else outputs

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.units)

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "units": self.units,
            "activation": keras.activations.serialize(self.activation),
            "use_bias": self.use_bias,
            "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
        }
