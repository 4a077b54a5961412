"""HubLayer: a TF2 SavedModel as a Keras 3 layer that fine-tunes, freezes, saves and exports."""

import os

import keras
import numpy as np
import pytest

from keras_transfer.backbones.hub_layer import HubLayer
from tests.backbones._hub_fixtures import (
    REG_SCALE,
    changed,
    images,
    snapshot,
)


def _model(layer):
    return keras.Sequential([keras.Input((8, 8, 3)), layer, keras.layers.Dense(2, name="head")])


def test_hub_layer_variables_share_module_storage(hub_module_dir):
    layer = HubLayer(hub_module_dir)
    module_vars = list(layer._module.variables)
    assert len(layer.weights) == len(module_vars) == 6
    assert layer.variable_names == [
        "bn_beta",
        "dense_kernel",
        "bn_gamma",
        "conv_kernel",
        "bn_moving_mean",
        "bn_moving_variance",
    ]
    assert [w.trainable for w in layer.module_variables] == [True] * 4 + [False] * 2
    x, _ = images()
    out = np.asarray(layer(x))
    dense = layer.module_variables[layer.variable_names.index("dense_kernel")]
    dense.assign(2.0 * dense.numpy())  # through the keras.Variable ...
    np.testing.assert_allclose(np.asarray(layer(x)), 2 * out, rtol=1e-5)  # ... the module sees it


def test_hub_layer_fine_tune_changes_every_module_variable(hub_module_dir):
    layer = HubLayer(hub_module_dir)
    model = _model(layer)
    model.compile(keras.optimizers.Adam(1e-2), "mse")
    before = snapshot(layer._module.variables)
    x, y = images()
    model.fit(x, y, batch_size=4, epochs=1, verbose=0)
    # trainable ones by Adam, BN moving statistics because training=True reached the module
    assert all(changed(before, layer._module.variables))


def test_hub_layer_frozen_changes_nothing_and_bn_stays(hub_module_dir):
    layer = HubLayer(hub_module_dir, trainable=False)
    model = _model(layer)
    assert layer.trainable_weights == [] and len(model.trainable_weights) == 2
    model.compile(keras.optimizers.Adam(1e-2), "mse")
    before = snapshot(layer._module.variables)
    head = snapshot(model.get_layer("head").weights)
    x, y = images()
    model.fit(x, y, batch_size=4, epochs=1, verbose=0)
    assert not any(changed(before, layer._module.variables))
    assert all(changed(head, model.get_layer("head").weights))


def test_hub_layer_regularization_losses_in_model_losses(hub_module_dir):
    layer = HubLayer(hub_module_dir)
    model = _model(layer)
    x, _ = images(n=2)
    model(x)
    kernel = layer._module.net.kernel.numpy()
    assert len(model.losses) == 1
    np.testing.assert_allclose(float(model.losses[0]), REG_SCALE * np.sum(kernel**2), rtol=1e-5)
    layer.trainable = False
    model(x)
    assert model.losses == []


def test_hub_layer_set_variables_trainable_by_regex(hub_module_dir):
    layer = HubLayer(hub_module_dir)
    assert layer.set_variables_trainable(r"^conv_", False) == ["conv_kernel"]
    assert layer.set_variables_trainable(r"moving", True) == []  # statistics never train
    assert layer.frozen_variables == ["conv_kernel"]
    layer.trainable = False
    layer.trainable = True  # Keras' own setter would unfreeze every variable again
    assert [w.name for w in layer.trainable_weights] == ["bn_beta", "dense_kernel", "bn_gamma"]
    model = _model(layer)
    model.compile(keras.optimizers.Adam(1e-2), "mse")
    before = snapshot(layer.module_variables)
    x, y = images()
    model.fit(x, y, batch_size=4, epochs=1, verbose=0)
    moved = dict(zip(layer.variable_names, changed(before, layer.module_variables)))
    assert moved.pop("conv_kernel") is False and all(moved.values())
    with pytest.raises(ValueError, match="unknown"):
        layer.set_variables_trainable(["nope"], False)


def test_hub_layer_config_round_trip(hub_module_dir):
    layer = HubLayer(hub_module_dir, output_key=None, frozen_variables=["conv_kernel"], name="hub")
    config = layer.get_config()
    assert config["handle"] == hub_module_dir and config["frozen_variables"] == ["conv_kernel"]
    clone = HubLayer.from_config(config)
    assert clone.get_config() == config


def test_hub_layer_keras_save_load_identical_predictions(hub_module_dir, tmp_path):
    layer = HubLayer(hub_module_dir, frozen_variables=["dense_kernel"])
    model = _model(layer)
    model.compile(keras.optimizers.Adam(5e-2), "mse")
    x, y = images()
    model.fit(x, y, batch_size=8, epochs=1, verbose=0)
    expected = model.predict(x, verbose=0)
    path = str(tmp_path / "hub.keras")
    model.save(path)
    with pytest.raises(ValueError, match="HubLayer.*safe_mode=False.*enable_unsafe_deserialization"):
        keras.models.load_model(path)  # the default safe_mode: the file names outside code
    loaded = keras.models.load_model(path, safe_mode=False)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), expected, atol=1e-6)
    assert loaded.layers[0].frozen_variables == ["dense_kernel"]
    # the weights came from the file, not from the (untrained) SavedModel
    fresh = _model(HubLayer(hub_module_dir))
    fresh.set_weights([w.numpy() for w in fresh.weights])
    assert not np.allclose(np.asarray(fresh.layers[0](x)), np.asarray(loaded.layers[0](x)))


def test_hub_layer_model_export_serves_same_predictions(hub_module_dir, tmp_path):
    import tensorflow as tf

    model = _model(HubLayer(hub_module_dir))
    x, _ = images()
    expected = np.asarray(model(x))
    model.export(str(tmp_path / "served"), verbose=False)
    reloaded = tf.saved_model.load(str(tmp_path / "served"))
    np.testing.assert_allclose(reloaded.serve(x).numpy(), expected, atol=1e-6)


def test_hub_layer_signature_and_output_key(hub_module_dir):
    x, _ = images(n=3)
    pooled = HubLayer(hub_module_dir, signature="image_feature_vector", output_key="pooled_map")
    assert tuple(pooled(x).shape) == (3, 4)
    default = HubLayer(hub_module_dir, signature="serving_default", output_key="default")
    np.testing.assert_allclose(np.asarray(default(x)), np.asarray(HubLayer(hub_module_dir)(x)), atol=1e-6)
    both = HubLayer(hub_module_dir, signature="serving_default")(x)  # no key: the whole dict
    assert sorted(both) == ["default", "pooled_map"]
    with pytest.raises(ValueError, match="output_key"):
        HubLayer(hub_module_dir, signature="serving_default", output_key="logits")(x)
    with pytest.raises(ValueError, match=r"`signature`='nope' is not one of the module's signatures"):
        HubLayer(hub_module_dir, signature="nope")


def test_hub_layer_loads_and_trains_a_keras_export_artifact(keras_export_dir):
    path, x, expected = keras_export_dir
    layer = HubLayer(path)
    np.testing.assert_allclose(np.asarray(layer(x)), expected, atol=1e-5)
    assert len(layer.trainable_weights) == 4  # conv kernel/bias, bn gamma/beta
    model = keras.Sequential([keras.Input((16, 16, 3)), layer, keras.layers.Dense(1)])
    model.compile(keras.optimizers.Adam(1e-2), "mse")
    before = snapshot(layer.trainable_weights)
    model.fit(x, np.ones((len(x), 1)), epochs=1, verbose=0)
    assert all(changed(before, layer.trainable_weights))


def test_hub_layer_tf1_hub_format_is_a_clear_error(tmp_path):
    folder = tmp_path / "tf1_module"
    folder.mkdir()
    (folder / "tfhub_module.pb").write_bytes(b"")
    (folder / "saved_model.pb").write_bytes(b"")
    with pytest.raises(ValueError, match="TF1 Hub format"):
        HubLayer(str(folder))


def test_hub_layer_bad_handle_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="handle"):
        HubLayer(str(tmp_path / "missing"))
    with pytest.raises(TypeError, match="handle"):
        HubLayer(3)
    os.makedirs(tmp_path / "empty")
    with pytest.raises(ValueError, match="saved_model.pb"):
        HubLayer(str(tmp_path / "empty"))
