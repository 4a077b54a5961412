"""`fold_batch_norm`: BatchNorm folded into the convolution before it, the same outputs."""

import keras
import numpy as np
import pytest

from keras_transfer.backbones import FoldedBatchNormalization, fold_batch_norm, get_backbone


def _with_statistics(model, seed=0):
    """Give every BatchNorm layer non-trivial gamma, beta and moving statistics."""
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            gamma, beta, mean, variance = layer.get_weights()
            layer.set_weights(
                [
                    rng.uniform(0.5, 2.0, gamma.shape),
                    rng.normal(size=beta.shape),
                    rng.normal(size=mean.shape),
                    rng.uniform(0.1, 3.0, variance.shape),
                ]
            )
    return model


def _small_model():
    inputs = keras.Input((10, 10, 3))
    a = keras.layers.Conv2D(4, 3, use_bias=False, name="plain")(inputs)
    a = keras.layers.BatchNormalization(name="plain_bn")(a)
    b = keras.layers.DepthwiseConv2D(3, depth_multiplier=2, padding="same", name="dw")(a)
    b = keras.layers.BatchNormalization(epsilon=1e-3, name="dw_bn")(b)
    c = keras.layers.Conv2D(8, 1, activation="relu", name="activated")(b)
    c = keras.layers.BatchNormalization(name="after_relu")(c)  # not foldable: an activation between
    shared = keras.layers.Conv2D(8, 1, name="shared")(c)
    d = keras.layers.BatchNormalization(name="shared_bn")(shared)  # not foldable: conv read twice
    out = keras.layers.Add()([d, shared])
    return _with_statistics(keras.Model(inputs, out))


@pytest.mark.backend_neutral
def test_fold_batch_norm_same_outputs_and_only_foldable_layers_folded():
    model = _small_model()
    folded = fold_batch_norm(model)
    kinds = {layer.name: type(layer).__name__ for layer in folded.layers}
    assert kinds["plain_bn"] == kinds["dw_bn"] == "FoldedBatchNormalization"
    assert kinds["after_relu"] == kinds["shared_bn"] == "BatchNormalization"
    assert folded.get_layer("plain").use_bias  # a bias was created for the folded shift
    x = np.random.default_rng(1).normal(size=(4, 10, 10, 3)).astype("float32")
    expected = model.predict(x, verbose=0)
    np.testing.assert_allclose(folded.predict(x, verbose=0), expected, rtol=1e-4, atol=1e-5)
    # the original is untouched
    assert type(model.get_layer("plain_bn")).__name__ == "BatchNormalization"
    assert not model.get_layer("plain").use_bias


@pytest.mark.backend_neutral
def test_fold_batch_norm_pretrained_lite0_features_agree():
    """The shipped EfficientNet-Lite0: every BatchNorm folds, pooled features agree to round-off."""
    backbone = get_backbone(
        "efficientnet_lite0", input_shape=(32, 32, 3), weights="imagenet", trainable=False
    )
    folded = fold_batch_norm(backbone.base)
    bns = [layer for layer in backbone.base.layers if isinstance(layer, keras.layers.BatchNormalization)]
    assert sum(isinstance(layer, FoldedBatchNormalization) for layer in folded.layers) == len(bns) > 40
    x = np.random.default_rng(0).integers(0, 256, (6, 32, 32, 3)).astype("float32")
    pre = backbone.preprocess(x)
    expected = keras.ops.convert_to_numpy(backbone.base(pre, training=False))
    got = keras.ops.convert_to_numpy(folded(pre, training=False))
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4 * np.abs(expected).max())


def test_fold_batch_norm_round_trips_and_refuses_subclassed_models(tmp_path):
    model = _small_model()
    folded = fold_batch_norm(model)
    path = str(tmp_path / "folded.keras")
    folded.save(path)
    loaded = keras.models.load_model(path)
    x = np.random.default_rng(2).normal(size=(2, 10, 10, 3)).astype("float32")
    np.testing.assert_allclose(loaded.predict(x, verbose=0), folded.predict(x, verbose=0), rtol=1e-6)
    layer = FoldedBatchNormalization(name="f")
    assert FoldedBatchNormalization.from_config(layer.get_config()).name == "f"

    class Sub(keras.Model):
        def call(self, x):
            return x

    with pytest.raises(TypeError, match="`model` must be a functional or Sequential"):
        fold_batch_norm(Sub())
