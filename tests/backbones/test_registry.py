"""The registry covers every Keras Applications family; each builds, groups, preprocesses and saves."""

import os

import keras
import numpy as np
import pytest

from keras_transfer.backbones import BACKBONES, Backbone, get_backbone, list_backbones
from keras_transfer.layers import FamilyPreprocessing

# One small member per family runs by default; every member runs with `-m slow`.
FAMILY_REPRESENTATIVES = {
    "vgg": "vgg16",
    "resnet": "resnet50",
    "resnet_v2": "resnet50_v2",
    "inception_v3": "inception_v3",
    "inception_resnet_v2": "inception_resnet_v2",
    "xception": "xception",
    "mobilenet": "mobilenet",
    "mobilenet_v2": "mobilenet_v2",
    "mobilenet_v3": "mobilenet_v3_small",
    "densenet": "densenet121",
    "nasnet": "nasnet_mobile",
    "efficientnet": "efficientnet_b0",
    "efficientnet_v2": "efficientnet_v2_b0",
    "convnext": "convnext_tiny",
}
# Expected block counts: one block per named anchor in the architecture's layer names (MobileNetV2
# `block_<n>_`, ResNet `conv<s>_block<b>_`, EfficientNet `block<s><x>_`, ...), counted from the
# Keras Applications models.
EXPECTED_BLOCKS = {
    "vgg16": 5,
    "resnet50": 16,
    "resnet50_v2": 16,
    "inception_v3": 11,
    "inception_resnet_v2": 40,
    "xception": 14,
    "mobilenet": 13,
    "mobilenet_v2": 16,
    "mobilenet_v3_small": 11,
    "densenet121": 58,
    "nasnet_mobile": 14,
    "efficientnet_b0": 16,
    "efficientnet_v2_b0": 21,
    "convnext_tiny": 18,
}
PREPROCESS_INPUT = {
    "vgg": keras.applications.vgg16.preprocess_input,
    "resnet": keras.applications.resnet.preprocess_input,
    "resnet_v2": keras.applications.resnet_v2.preprocess_input,
    "inception_v3": keras.applications.inception_v3.preprocess_input,
    "inception_resnet_v2": keras.applications.inception_resnet_v2.preprocess_input,
    "xception": keras.applications.xception.preprocess_input,
    "mobilenet": keras.applications.mobilenet.preprocess_input,
    "mobilenet_v2": keras.applications.mobilenet_v2.preprocess_input,
    "mobilenet_v3": keras.applications.mobilenet_v3.preprocess_input,
    "densenet": keras.applications.densenet.preprocess_input,
    "nasnet": keras.applications.nasnet.preprocess_input,
    "efficientnet": keras.applications.efficientnet.preprocess_input,
    "efficientnet_v2": keras.applications.efficientnet_v2.preprocess_input,
    "convnext": keras.applications.convnext.preprocess_input,
}


def _small_shape(name):
    side = max(32, BACKBONES[name]["min_size"])
    return (side, side, 3)


def test_registry_covers_every_applications_family():
    families = {BACKBONES[n]["family"] for n in list_backbones()}
    assert set(FAMILY_REPRESENTATIVES) <= families
    app_constructors = [n for n in dir(keras.applications) if n[0].isupper()]
    applications = [n for n in list_backbones() if BACKBONES[n]["family"] in FAMILY_REPRESENTATIVES]
    assert len(applications) == len(app_constructors)


def test_list_backbones_filters_by_pattern():
    effnets = list_backbones("efficientnet*")
    assert "efficientnet_b0" in effnets and "efficientnet_v2_s" in effnets
    assert all(n.startswith("efficientnet") for n in effnets)
    assert list_backbones("nothing-matches-*") == []


def _check_backbone(name):
    shape = _small_shape(name)
    bb = get_backbone(name, input_shape=shape, weights=None)
    entry = BACKBONES[name]
    assert isinstance(bb, Backbone)
    assert bb.num_features == entry["num_features"]
    assert bb.input_size == shape[:2]
    # block groups: ordered, contiguous, covering every layer exactly once
    flat = [n for group in bb.block_names for n in bb.block_groups[group]]
    assert flat == [layer.name for layer in bb.base.layers]
    assert bb.block_names[0] == "stem" and bb.block_names[-1] == "top"
    if name in EXPECTED_BLOCKS:
        assert len(bb.block_names) - 2 == EXPECTED_BLOCKS[name]
    # raw images of another size and 1 channel work
    out = bb(np.random.default_rng(0).integers(0, 255, (2, shape[0] + 3, shape[1] + 5, 1)).astype("uint8"))
    assert tuple(out.shape) == (2, entry["num_features"])
    assert np.isfinite(np.asarray(out)).all()


@pytest.mark.parametrize("family,name", sorted(FAMILY_REPRESENTATIVES.items()))
def test_backbone_family_builds_groups_and_runs(family, name):
    _check_backbone(name)


@pytest.mark.slow
@pytest.mark.parametrize("name", [n for n in sorted(BACKBONES) if BACKBONES[n]["family"] != "hub"])
def test_every_registered_backbone_builds(name):
    _check_backbone(name)


@pytest.mark.parametrize("family", sorted(PREPROCESS_INPUT))
def test_fused_preprocessing_equals_family_preprocess_input(family):
    name = FAMILY_REPRESENTATIVES[family]
    x = np.random.default_rng(1).uniform(0, 255, (2, 5, 5, 3)).astype("float32")
    ours = np.asarray(FamilyPreprocessing(BACKBONES[name]["preprocessing"])(x))
    theirs = np.asarray(PREPROCESS_INPUT[family](x.copy()))
    np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-4)


def test_family_preprocessing_rejects_unknown_mode():
    with pytest.raises(ValueError, match=r"`mode` must be one of .*received mode='bgr'"):
        FamilyPreprocessing("bgr")


def test_backbone_keras_round_trip_in_a_model_keeps_predictions_and_frozen_layers(tmp_path):
    bb = get_backbone("resnet50_v2", input_shape=(32, 32, 3), weights=None)
    for layer in bb.group_layers("stem"):
        layer.trainable = False
    inputs = keras.Input((40, 40, 3))
    model = keras.Model(inputs, keras.layers.Dense(3)(bb(inputs)))
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    x = np.random.default_rng(0).uniform(0, 255, (2, 40, 40, 3)).astype("float32")
    np.testing.assert_allclose(model.predict(x, verbose=0), loaded.predict(x, verbose=0), atol=1e-5)
    loaded_bb = [layer for layer in loaded.layers if isinstance(layer, Backbone)][0]
    assert loaded_bb.backbone == "resnet50_v2"
    assert loaded_bb.block_names == bb.block_names
    frozen = [i for i, layer in enumerate(loaded_bb.base.layers) if not layer.trainable]
    assert frozen == list(range(len(bb.block_groups["stem"])))
    assert [len(loaded_bb.block_groups[g]) for g in loaded_bb.block_names] == [
        len(bb.block_groups[g]) for g in bb.block_names
    ]


def test_backbone_config_round_trip():
    bb = get_backbone("mobilenet", input_shape=(32, 32, 3), weights=None, pooling="max")
    clone = Backbone.from_config(bb.get_config())
    assert clone.get_config() == bb.get_config()
    clone.set_weights(bb.get_weights())
    x = np.random.default_rng(0).uniform(0, 255, (2, 32, 32, 3)).astype("float32")
    np.testing.assert_allclose(np.asarray(bb(x)), np.asarray(clone(x)), atol=1e-5)


def test_custom_model_backbone_with_explicit_block_groups_round_trips(tmp_path):
    inputs = keras.Input((16, 16, 3))
    x = keras.layers.Conv2D(4, 3, name="low_conv")(inputs)
    x = keras.layers.Conv2D(8, 3, name="high_conv")(x)
    base = keras.Model(inputs, x, name="tiny")
    groups = {"stem": [base.layers[0].name], "low": ["low_conv"], "high": ["high_conv"], "top": []}
    bb = Backbone(base, block_groups=groups, preprocessing="tf")
    assert bb.num_features == 8 and bb.block_names == ["stem", "low", "high", "top"]
    model = keras.Sequential([keras.Input((20, 20, 1)), bb, keras.layers.Dense(2)])
    model.save(tmp_path / "custom.keras")
    loaded = keras.models.load_model(tmp_path / "custom.keras")
    x = np.random.default_rng(0).uniform(0, 255, (3, 20, 20, 1)).astype("float32")
    np.testing.assert_allclose(model.predict(x, verbose=0), loaded.predict(x, verbose=0), atol=1e-5)


def test_unknown_backbone_name_suggests_close_match():
    with pytest.raises(
        ValueError, match=r"`name` must be one of.*received name='resnet5'\. Did you mean 'resnet50'\?"
    ):
        get_backbone("resnet5", weights=None)
    with pytest.raises(ValueError, match="`name` must be one of list_backbones"):
        get_backbone(123, weights=None)
    with pytest.raises(TypeError, match="`pattern` must be a shell-style pattern"):
        list_backbones(123)


def test_bad_input_shape_and_pooling_are_named():
    with pytest.raises(ValueError, match="`input_shape` must end in 1 or 3 channels"):
        get_backbone("mobilenet", input_shape=(32, 32, 4), weights=None)
    with pytest.raises(ValueError, match="at least 75x75"):
        get_backbone("inception_v3", input_shape=(32, 32, 3), weights=None)
    with pytest.raises(ValueError, match="`pooling` must be one of"):
        get_backbone("mobilenet", input_shape=(32, 32, 3), weights=None, pooling="mean")
    with pytest.raises(ValueError, match="`input_shape` must hold positive sizes"):
        get_backbone("resnet50", input_shape=(-32, 32, 3), weights=None)
    bb = get_backbone("mobilenet_v3_small", input_shape=(np.int64(32), np.int64(32), 3), weights=None)
    assert bb.input_size == (32, 32) and all(type(s) is int for s in bb.input_size)


def test_wrong_channel_count_at_call_time_is_a_clear_error():
    bb = get_backbone("mobilenet", input_shape=(32, 32, 3), weights=None)
    with pytest.raises(
        ValueError, match=r"`inputs` must have 1 \(grayscale\) or 3 \(RGB\) channels; received 4"
    ):
        bb(np.zeros((2, 32, 32, 4), "float32"))
    with pytest.raises(
        ValueError, match=r"1 or 3\); received shape=\(2, 32, 32, 4\)"
    ):  # a tensor: checked in call
        bb(keras.ops.zeros((2, 32, 32, 4)))


def test_backbone_call_refuses_bad_numpy_batches_and_warns_on_pixel_range():
    bb = get_backbone("mobilenet_v3_small", input_shape=(32, 32, 3), weights=None)
    with pytest.raises(ValueError, match="`inputs` contains NaN or infinite pixels in 1 of 2"):
        bb(np.stack([np.zeros((32, 32, 3)), np.full((32, 32, 3), np.nan)]).astype("float32"))
    with pytest.raises(ValueError, match="`inputs` is empty"):
        bb(np.zeros((0, 32, 32, 3), "float32"))
    with pytest.raises(TypeError, match="`inputs` must hold real numeric pixels"):
        bb(np.zeros((1, 32, 32, 3), "complex64"))
    with pytest.warns(UserWarning, match="`inputs`.*looks scaled to 0-1"):
        bb(np.random.default_rng(0).random((2, 32, 32, 3)).astype("float32"))
    with pytest.warns(UserWarning, match="`inputs`.*far outside the expected 0-255"):
        bb(np.full((2, 32, 32, 3), 1e5, "float32"))
    with pytest.raises(ValueError, match="`x` contains NaN or infinite pixels"):
        bb.predict(np.full((2, 32, 32, 3), np.nan, "float32"), verbose=0)
    with pytest.raises(ValueError, match="`x` is empty"):
        bb.predict(np.zeros((0, 32, 32, 3), "float32"), verbose=0)


def test_get_backbone_refuses_bad_weights_and_trainable():
    with pytest.raises(TypeError, match="`weights` must be None, 'imagenet' or the path"):
        get_backbone("mobilenet_v3_small", input_shape=(32, 32, 3), weights=123)
    with pytest.raises(TypeError, match="`trainable` must be True or False; received trainable='no'"):
        get_backbone("mobilenet_v3_small", input_shape=(32, 32, 3), weights=None, trainable="no")
    bb = get_backbone("mobilenet_v3_small", input_shape=(32, 32, 3), weights=None, trainable=np.bool_(False))
    assert bb.trainable_weights == []


def test_missing_weights_file_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        get_backbone("mobilenet", input_shape=(32, 32, 3), weights=str(tmp_path / "nope.weights.h5"))


def test_weights_file_checked_before_keras_sees_it(tmp_path):
    vgg = get_backbone("vgg16", input_shape=(32, 32, 3), weights=None)
    good = tmp_path / "vgg.weights.h5"
    vgg.base.save_weights(good)
    loaded = get_backbone("vgg16", input_shape=(32, 32, 3), weights=str(good))
    for a, b in zip(vgg.base.get_weights(), loaded.base.get_weights()):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match=r"holds weights for 13 layers but the model .* has 16"):
        get_backbone("vgg19", input_shape=(32, 32, 3), weights=str(good))
    corrupt = tmp_path / "corrupt.weights.h5"
    corrupt.write_bytes(b"not an hdf5 file at all")
    with pytest.raises(ValueError, match="not a readable HDF5 weights file"):
        get_backbone("vgg16", input_shape=(32, 32, 3), weights=str(corrupt))
    wrong_ext = tmp_path / "vgg.pt"
    wrong_ext.write_bytes(b"x")
    with pytest.raises(ValueError, match="must be a Keras weights file ending in"):
        get_backbone("vgg16", input_shape=(32, 32, 3), weights=str(wrong_ext))


def test_offline_imagenet_download_names_file_cache_and_fix(monkeypatch):
    """Keras' real download path runs; only name resolution fails, as on a machine with no network."""
    import socket

    from keras_transfer.backbones import WeightsUnavailableError, keras_cache_dir

    def refuse(*args, **kwargs):
        raise socket.gaierror(-3, "Temporary failure in name resolution")

    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    cached = os.path.join(keras_cache_dir(), "mobilenet_1_0_224_tf_no_top.h5")
    if os.path.exists(cached):
        pytest.skip("the weights are already cached on this machine")
    with pytest.raises(WeightsUnavailableError) as info:
        get_backbone("mobilenet", weights="imagenet")
    text = str(info.value)
    assert "mobilenet_1_0_224_tf_no_top.h5" in text
    assert keras_cache_dir() in text and "KERAS_HOME" in text
    assert "pre-seed" in text
