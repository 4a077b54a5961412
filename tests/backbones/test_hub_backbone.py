"""HubBackbone, the curated hub: table, handle resolution through the TF-Hub cache, offline errors."""

import hashlib
import shutil
import time

import keras
import numpy as np
import pytest

from keras_transfer.backbones import Backbone, get_backbone, list_backbones
from keras_transfer.backbones.hub_backbone import HubBackbone
from keras_transfer.backbones.hub_handles import HUB_HANDLES, hub_entry
from keras_transfer.backbones.hub_layer import HubLayer
from keras_transfer.backbones.hub_loading import HubHandleUnavailableError, hub_cache_path
from keras_transfer.backbones.registry import BACKBONES
from tests.backbones._hub_fixtures import (
    NUM_FEATURES,
    changed,
    images,
    save_keras_export,
    snapshot,
)

URL = "https://tfhub.dev/google/imagenet/mobilenet_v2_100_224/feature_vector/5"


def _raw(n=8, side=20, channels=3, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (n, side, side, channels)).astype("uint8")


def _seed_cache(monkeypatch, tmp_path, module_dir, handle=URL):
    cache = tmp_path / "tfhub_cache"
    monkeypatch.setenv("TFHUB_CACHE_DIR", str(cache))
    target = cache / hashlib.sha1(handle.encode("utf8")).hexdigest()
    shutil.copytree(module_dir, target)
    return str(target)


def test_hub_url_handle_resolves_offline_from_the_cache(hub_module_dir, monkeypatch, tmp_path):
    target = _seed_cache(monkeypatch, tmp_path, hub_module_dir)
    assert hub_cache_path(URL) == target
    x, _ = images(n=3)
    from_url = HubLayer(URL)
    np.testing.assert_allclose(np.asarray(from_url(x)), np.asarray(HubLayer(hub_module_dir)(x)), atol=1e-6)
    assert from_url.get_config()["handle"] == URL


def test_hub_missing_handle_fails_fast_with_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setenv("TFHUB_CACHE_DIR", str(tmp_path / "empty_cache"))
    handle = "https://tfhub.dev/nobody/no-such-model/1"
    start = time.time()
    with pytest.raises(HubHandleUnavailableError) as info:
        HubLayer(handle)
    assert time.time() - start < 60
    message = str(info.value)
    assert handle in message
    assert str(tmp_path / "empty_cache" / hashlib.sha1(handle.encode()).hexdigest()) in message
    assert "TFHUB_CACHE_DIR" in message and "offline" in message and "saved_model.pb" in message
    assert isinstance(info.value, OSError)


def test_hub_backbone_is_a_backbone_with_module_groups(hub_module_dir):
    bb = HubBackbone(hub_module_dir, input_size=(16, 16))
    assert isinstance(bb, Backbone)
    assert bb.block_groups == {"stem": ["image", "rescaling"], "module": ["hub_module"], "top": []}
    assert [layer.name for layer in bb.group_layers("module")] == ["hub_module"]
    assert bb.num_features == NUM_FEATURES
    out = bb(_raw(channels=1))  # any size, grayscale
    assert tuple(out.shape) == (8, NUM_FEATURES)
    # [0, 255] -> [0, 1] before the module
    x = _raw(side=16)
    np.testing.assert_allclose(
        np.asarray(bb(x)), np.asarray(bb.hub_layer(x.astype("float32") / 255.0)), atol=1e-5
    )


def test_hub_backbone_freeze_module_group_keeps_bn_and_weights(hub_module_dir):
    bb = HubBackbone(hub_module_dir, input_size=(8, 8))
    for layer in bb.group_layers("module"):  # what the policies helper does
        layer.trainable = False
    model = keras.Sequential([keras.Input((8, 8, 3)), bb, keras.layers.Dense(2)])
    assert len(model.trainable_weights) == 2
    model.compile(keras.optimizers.Adam(1e-2), "mse")
    module_vars = bb.hub_layer._module.variables
    before = snapshot(module_vars)
    model.fit(_raw(side=8), np.ones((8, 2)), epochs=1, verbose=0)
    assert not any(changed(before, module_vars))
    config = bb.get_config()
    assert config["frozen_layers"] == [2]  # positions in base.layers, as in every Backbone
    for frozen in ([2], ["hub_module"]):  # names: what files saved by earlier versions hold
        again = HubBackbone.from_config({**config, "frozen_layers": frozen})
        assert again.hub_layer.trainable is False and again.trainable_weights == []


def test_hub_backbone_variable_groups(hub_module_dir):
    bb = HubBackbone(hub_module_dir, input_size=(8, 8), variable_pattern=r"^(conv|bn|dense)_")
    assert bb.variable_groups == {
        "bn": ["bn_beta", "bn_gamma", "bn_moving_mean", "bn_moving_variance"],
        "conv": ["conv_kernel"],
        "dense": ["dense_kernel"],
    }
    assert bb.set_variable_groups_trainable(["conv", "bn"], False) == ["conv_kernel", "bn_beta", "bn_gamma"]
    assert [w.name for w in bb.trainable_weights] == ["dense_kernel"]
    assert HubBackbone(hub_module_dir, input_size=(8, 8)).variable_groups["all"][0] == "bn_beta"
    with pytest.raises(ValueError, match="variable_groups"):
        bb.set_variable_groups_trainable("blocks_9", True)


def test_hub_backbone_keras_save_load(hub_module_dir, tmp_path):
    bb = HubBackbone(hub_module_dir, input_size=(8, 8), variable_pattern=r"^(conv|bn|dense)_")
    bb.set_variable_groups_trainable("conv", False)
    model = keras.Sequential([keras.Input((8, 8, 3)), bb, keras.layers.Dense(2)])
    model.compile(keras.optimizers.Adam(5e-2), "mse")
    x = _raw(side=8)
    model.fit(x, np.ones((8, 2)), epochs=1, verbose=0)
    expected = model.predict(x, verbose=0)
    model.save(str(tmp_path / "bb.keras"))
    with pytest.raises(ValueError, match="HubBackbone.*tiny_module.*safe_mode=False"):
        keras.models.load_model(str(tmp_path / "bb.keras"))
    loaded = keras.models.load_model(str(tmp_path / "bb.keras"), safe_mode=False)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), expected, atol=1e-6)
    again = loaded.layers[0]
    assert isinstance(again, HubBackbone)
    assert again.get_config() == bb.get_config()
    assert again.hub_layer.frozen_variables == ["conv_kernel"]


def test_hub_backbone_load_names_the_handle_when_it_is_gone(hub_module_dir, tmp_path):
    copy = str(tmp_path / "module_copy")
    shutil.copytree(hub_module_dir, copy)
    model = keras.Sequential([keras.Input((8, 8, 3)), HubBackbone(copy, input_size=(8, 8))])
    model.save(str(tmp_path / "gone.keras"))
    shutil.rmtree(copy)
    with pytest.raises(FileNotFoundError, match="module_copy"):
        keras.models.load_model(str(tmp_path / "gone.keras"), safe_mode=False)


def test_hub_backbone_pools_feature_map_modules(tmp_path):
    path = str(tmp_path / "fmap")
    save_keras_export(path, pooled=False)
    bb = HubBackbone(path, input_size=(16, 16), input_range=None, pooling="max")
    assert tuple(bb(_raw(n=2)).shape) == (2, 5)
    assert bb.num_features == 5
    with pytest.raises(ValueError, match="pooling"):
        HubBackbone(path, pooling="mean")
    with pytest.raises(ValueError, match="input_range"):
        HubBackbone(path, input_range=(1, 0))
    for bad in [("a", "z"), (0.0, float("inf")), 5, (0.0, 1.0, 2.0)]:
        with pytest.raises(ValueError, match="`input_range` must be \\(low, high\\) of finite numbers"):
            HubBackbone("/nonexistent-handle", input_range=bad)  # checked before the handle
    assert HubBackbone(path, input_size=np.int64(16)).input_size == (16, 16)  # one int: square


def test_list_backbones_shows_curated_hub_handles():
    names = list_backbones("hub:*")
    assert len(names) == len(HUB_HANDLES) >= 15
    for key in (
        "hub:mobilenet_v2_100_224",
        "hub:mobilenet_v3_small_100_224",
        "hub:efficientnet_b0",
        "hub:resnet_50",
        "hub:bert_en_uncased_L-12_H-768_A-12",
    ):
        assert key in names
    entry = BACKBONES["hub:mobilenet_v3_large_100_224"]
    assert entry["num_features"] == 1280 and entry["input_size"] == (224, 224)
    assert entry["keras_hub"] == "mobilenet_v3_large_100_imagenet"
    bert = BACKBONES["hub:bert_en_uncased_L-12_H-768_A-12"]
    assert bert["modality"] == "text" and bert["preprocessor"].endswith("bert_en_uncased_preprocess/3")
    for name in names:
        assert BACKBONES[name]["handle"].startswith("https://tfhub.dev/")


def test_get_backbone_builds_a_curated_hub_entry_from_the_cache(hub_module_dir, monkeypatch, tmp_path):
    _seed_cache(monkeypatch, tmp_path, hub_module_dir)  # the tiny module stands in for MobileNet V2
    bb = get_backbone("hub:mobilenet_v2_100_224", input_shape=(16, 16, 3), trainable=False)
    assert isinstance(bb, HubBackbone) and bb.handle == URL and bb.backbone == "hub:mobilenet_v2_100_224"
    assert bb.trainable_weights == [] and bb.input_size == (16, 16)
    assert bb.variable_pattern == HUB_HANDLES["mobilenet_v2_100_224"][4]


def test_hub_entry_routes_any_handle(hub_module_dir, monkeypatch, tmp_path):
    monkeypatch.setenv("TFHUB_CACHE_DIR", str(tmp_path / "empty_cache"))
    entry = hub_entry(f"hub:{hub_module_dir}")
    bb = entry["make_backbone"](input_shape=(8, 8, 3), weights=None, pooling="avg", trainable=True)
    assert isinstance(bb, HubBackbone) and bb.handle == hub_module_dir
    assert hub_entry("hub:mobilenet_v2_100_224") is BACKBONES["hub:mobilenet_v2_100_224"]
    with pytest.raises(ValueError, match="hub:"):
        hub_entry("mobilenet_v2")
    with pytest.raises(ValueError, match="Did you mean 'hub:mobilenet_v2_100_224'"):
        hub_entry("hub:mobilenet_v2_100")
    with pytest.raises(HubHandleUnavailableError, match="bert_en_uncased_preprocess/3"):
        hub_entry("hub:small_bert_L-2_H-128_A-2")["make_backbone"]()  # text: a strings-in model


def test_hub_backbone_model_export_serves_raw_images(hub_module_dir, tmp_path):
    import tensorflow as tf

    model = keras.Sequential(
        [keras.Input((8, 8, 3)), HubBackbone(hub_module_dir, input_size=(8, 8)), keras.layers.Dense(2)]
    )
    x = _raw(side=8).astype("float32")
    expected = np.asarray(model(x))
    model.export(str(tmp_path / "served"), verbose=False)
    served = tf.saved_model.load(str(tmp_path / "served"))  # keep a reference: it owns the variables
    np.testing.assert_allclose(served.serve(x).numpy(), expected, atol=1e-5)


def test_hub_backbone_runs_float32_under_mixed_precision(hub_module_dir):
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        bb = HubBackbone(hub_module_dir, input_size=(8, 8))
        out = bb(_raw(n=2, side=8))
    finally:
        keras.mixed_precision.set_global_policy("float32")
    assert bb.hub_layer.dtype_policy.name == "float32"  # the module was traced for float32
    assert tuple(out.shape) == (2, NUM_FEATURES)


def test_hub_layer_variable_names_of_a_keras_export_carry_layer_paths(tmp_path):
    path = str(tmp_path / "named")
    save_keras_export(path)
    names = HubLayer(path).variable_names
    assert names[:2] == ["exported_conv_kernel", "exported_conv_bias"]
    bb = HubBackbone(path, input_size=(16, 16), variable_pattern=r"^exported_(conv|bn)_")
    assert list(bb.variable_groups) == ["bn", "conv"]


def test_hub_stale_download_lock_fails_at_once(monkeypatch, tmp_path):
    cache = tmp_path / "locked_cache"
    cache.mkdir()
    monkeypatch.setenv("TFHUB_CACHE_DIR", str(cache))
    handle = "https://tfhub.dev/nobody/locked/1"
    lock = cache / (hashlib.sha1(handle.encode()).hexdigest() + ".lock")
    lock.write_text("crashed-download")
    with pytest.raises(HubHandleUnavailableError, match="delete the lock file"):
        HubLayer(handle)


def test_hub_backbone_bad_arguments_name_themselves(hub_module_dir):
    with pytest.raises(
        TypeError, match="`handle` must be a TF-Hub URL or a SavedModel folder.*received handle=123"
    ):
        HubBackbone(123)
    with pytest.raises(ValueError, match="`variable_pattern` is not a valid regular expression"):
        HubBackbone(hub_module_dir, input_size=(8, 8), variable_pattern="(")
    assert HubBackbone(hub_module_dir, input_size=8).input_size == (8, 8)  # an int is a square
