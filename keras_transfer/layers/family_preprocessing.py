"""Each Keras Applications family's `preprocess_input`, as a layer that lives inside the model."""

from __future__ import annotations

import keras
from keras import ops

from keras_transfer._validation import check_choice
from keras_transfer.api_export import export

# mode -> (flip RGB to BGR, scale, per-channel offset, per-channel divisor); y = (x*scale - offset) / divisor
_MODES = {
    "caffe": (True, 1.0, (103.939, 116.779, 123.68), (1.0, 1.0, 1.0)),
    "tf": (False, 1.0 / 127.5, (1.0, 1.0, 1.0), (1.0, 1.0, 1.0)),
    "torch": (False, 1.0 / 255.0, (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)),
    "lite": (False, 1.0 / 128.0, (127.0 / 128.0,) * 3, (1.0, 1.0, 1.0)),
    "none": (False, 1.0, (0.0, 0.0, 0.0), (1.0, 1.0, 1.0)),
}


@export
class FamilyPreprocessing(keras.layers.Layer):
    """Map raw RGB pixels in [0, 255] to what a backbone family expects.

    Modes follow `keras.applications.imagenet_utils.preprocess_input`:
    ``"caffe"`` (RGB to BGR, minus the ImageNet mean: VGG, ResNet v1), ``"tf"`` (to [-1, 1]:
    ResNetV2, Inception, Xception, MobileNet V1/V2, NASNet), ``"torch"`` (to [0, 1], then ImageNet
    mean/std: DenseNet), ``"lite"`` ((x - 127) / 128: EfficientNet-Lite) and ``"none"`` (families
    whose model already contains its preprocessing: EfficientNet, EfficientNetV2, ConvNeXt,
    MobileNetV3).

    Args:
        mode: one of ``"caffe"``, ``"tf"``, ``"torch"``, ``"lite"``, ``"none"``.

    Example:
        >>> import numpy as np
        >>> from keras_transfer.layers import FamilyPreprocessing
        >>> layer = FamilyPreprocessing("tf")
        >>> np.asarray(layer(np.array([[[[0.0, 127.5, 255.0]]]]))).round(3).tolist()
        [[[[-1.0, 0.0, 1.0]]]]
    """

    def __init__(self, mode: str = "none", **kwargs):
        super().__init__(**kwargs)
        self.mode = check_choice(mode, sorted(_MODES), "mode")
        self._flip, self._scale, self._offset, self._divisor = _MODES[mode]

    def call(self, inputs):
        x = ops.cast(inputs, "float32")
        if self.mode == "none":
            return x
        if self._flip:
            x = ops.flip(x, axis=-1)
        x = x * self._scale
        x = (x - ops.convert_to_tensor(self._offset, "float32")) / ops.convert_to_tensor(
            self._divisor, "float32"
        )
        return x

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "mode": self.mode}
