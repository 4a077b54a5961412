"""A sweep of bad inputs across the public API, each classified as clear / cryptic / silent.

- **clear**: an exception whose message names the argument in backticks (`` `x` ``), or, for the
  cases documented as warnings, a warning that names it;
- **cryptic**: an exception that does not name the argument (a traceback from deep inside TF);
- **silent**: no error and no warning: training or prediction went on with garbage.

``python -m tests.bad_inputs`` prints the table; ``tests/test_bad_inputs.py`` requires every case
to be clear. Each case builds the smallest real object that shows the defect (tiny backbones at
32x32 with ``weights=None``, the shipped EfficientNet-Lite0 weights where the pixel range matters).
"""

from __future__ import annotations

import re
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


def _images(n=8, side=32, channels=3, dtype="uint8", seed=0):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, size=(n, side, side, channels)).astype(dtype)


def _labels(n=8, k=2):
    return np.arange(n) % k


def _backbone(**kwargs):
    from keras_transfer.backbones import get_backbone

    return get_backbone("mobilenet_v3_small", input_shape=(32, 32, 3), weights=None, **kwargs)


def _classifier(**kwargs):
    from keras_transfer.models import TransferClassifier

    model = TransferClassifier(_backbone(), 2, **kwargs)
    model.compile()
    return model


def _mlp(d=4):
    import keras

    return keras.Sequential([keras.Input((d,)), keras.layers.Dense(8, activation="relu")])


def _dann(**kwargs):
    from keras_transfer.models import DANN

    model = DANN(_mlp(), 2, **kwargs)
    model.compile(optimizer="adam")
    return model


def _features(n=16, d=4, seed=0):
    return np.random.default_rng(seed).normal(size=(n, d)).astype("float32")


def _nan(x):
    x = x.astype("float32")
    x[0, 0] = np.nan
    return x


def _extractor(**kwargs):
    from keras_transfer.sklearn import FeatureExtractor

    return FeatureExtractor(
        backbone="mobilenet_v3_small", weights=None, input_shape=(32, 32, 3), verbose=0, **kwargs
    )


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


def cases() -> list[Case]:
    """Every case of the sweep (built lazily: nothing heavy runs until a case is called)."""
    from keras_transfer import backbones, models, policies, schedules

    x, y = _images(), _labels()
    f = _features()
    out = [
        # -- non-finite and out-of-range pixels ----------------------------------------------
        Case("NaN image into a Backbone call", "inputs", lambda: _backbone()(_nan(x)), area="backbones"),
        Case(
            "inf image into a Backbone call",
            "inputs",
            lambda: _backbone()(np.full((2, 32, 32, 3), np.inf, "float32")),
            area="backbones",
        ),
        Case(
            "empty batch into a Backbone call",
            "inputs",
            lambda: _backbone()(np.zeros((0, 32, 32, 3), "float32")),
            area="backbones",
        ),
        Case(
            "complex images into a Backbone call",
            "inputs",
            lambda: _backbone()(x.astype("complex64")),
            area="backbones",
        ),
        Case(
            "pixels far outside 0-255",
            "inputs",
            lambda: _backbone()(x.astype("float32") * 1000.0),
            warning=True,
            area="backbones",
        ),
        Case(
            "images scaled to 0-1 into a 0-255 backbone",
            "inputs",
            lambda: backbones.get_backbone("efficientnet_lite0", input_shape=(32, 32, 3))(
                x.astype("float32") / 255.0
            ),
            warning=True,
            area="backbones",
        ),
        Case(
            "NaN images into TransferClassifier.fit",
            "x",
            lambda: _classifier().fit(_nan(x), y, verbose=0),
            area="models",
        ),
        Case(
            "NaN images into TransferClassifier.predict",
            "x",
            lambda: _classifier().predict(_nan(x), verbose=0),
            area="models",
        ),
        Case(
            "NaN source into DANN.fit",
            "x",
            lambda: _dann().fit(x=(_nan(f), f), y=_labels(16), verbose=0),
            area="models",
        ),
        Case(
            "NaN target into DANN.fit",
            "x",
            lambda: _dann().fit(x=(f, _nan(f)), y=_labels(16), verbose=0),
            area="models",
        ),
        Case(
            "NaN images into FeatureExtractor",
            "X",
            lambda: _extractor().fit_transform(_nan(x)),
            area="sklearn",
        ),
        # -- empty data -----------------------------------------------------------------------
        Case(
            "empty data into TransferClassifier.fit",
            "x",
            lambda: _classifier().fit(x[:0], y[:0], verbose=0),
            area="models",
        ),
        Case(
            "empty data into DANN.fit",
            "x",
            lambda: _dann().fit(x=(f[:0], f), y=y[:0], verbose=0),
            area="models",
        ),
        Case(
            "empty target into DANN.fit",
            "x",
            lambda: _dann().fit(x=(f, f[:0]), y=_labels(16), verbose=0),
            area="models",
        ),
        # -- labels ---------------------------------------------------------------------------
        Case(
            "float labels 0.5 into TransferClassifier.fit",
            "y",
            lambda: _classifier().fit(x, y * 0.5 + 0.25, verbose=0),
            area="models",
        ),
        Case(
            "out-of-range labels into TransferClassifier.fit",
            "y",
            lambda: _classifier().fit(x, y + 5, verbose=0),
            area="models",
        ),
        Case(
            "negative labels into TransferClassifier.fit",
            "y",
            lambda: _classifier().fit(x, y - 1, verbose=0),
            area="models",
        ),
        Case(
            "string labels into TransferClassifier.fit",
            "y",
            lambda: _classifier().fit(x, np.array(["a", "b"] * 4), verbose=0),
            area="models",
        ),
        Case(
            "one-hot labels into TransferClassifier.fit",
            "y",
            lambda: _classifier().fit(x, np.eye(2)[y], verbose=0),
            area="models",
        ),
        Case(
            "labels of the wrong length into TransferClassifier.fit",
            "y",
            lambda: _classifier().fit(x, y[:5], verbose=0),
            area="models",
        ),
        Case(
            "float labels into DANN.fit",
            "y",
            lambda: _dann().fit(x=(f, f), y=_labels(16) * 0.5, verbose=0),
            area="models",
        ),
        Case(
            "out-of-range labels into DANN.fit",
            "y",
            lambda: _dann().fit(x=(f, f), y=_labels(16) + 2, verbose=0),
            area="models",
        ),
        Case(
            "negative labels into DANN.fit",
            "y",
            lambda: _dann().fit(x=(f, f), y=_labels(16) - 1, verbose=0),
            area="models",
        ),
        Case(
            "string labels into DANN.fit",
            "y",
            lambda: _dann().fit(x=(f, f), y=np.array(["a", "b"] * 8), verbose=0),
            area="models",
        ),
        Case(
            "one-hot labels into DANN.fit",
            "y",
            lambda: _dann().fit(x=(f, f), y=np.eye(2)[_labels(16)], verbose=0),
            area="models",
        ),
        # -- rates, weights, flags ------------------------------------------------------------
        Case(
            "negative learning rate in fine_tune",
            "learning_rate",
            lambda: _classifier().fine_tune(x, y, learning_rate=-1e-3, verbose=0),
            area="models",
        ),
        Case(
            "zero head learning rate in fine_tune",
            "head_learning_rate",
            lambda: _classifier().fine_tune(x, y, head_learning_rate=0.0, verbose=0),
            area="models",
        ),
        Case(
            "negative DANNLearningRate",
            "initial_learning_rate",
            lambda: schedules.DANNLearningRate(100, initial_learning_rate=-0.01),
            area="schedules",
        ),
        Case(
            "zero base_lr in DiscriminativeLR",
            "base_lr",
            lambda: policies.DiscriminativeLR(0.0),
            area="policies",
        ),
        Case(
            "negative learning_rate in FineTunedClassifier",
            "learning_rate",
            lambda: _fine_tuned(learning_rate=-1.0).fit(x, y),
            area="sklearn",
        ),
        Case(
            "trainable='no' in get_backbone", "trainable", lambda: _backbone(trainable="no"), area="backbones"
        ),
        Case(
            "weight=inf in DiscrepancyModel",
            "weight",
            lambda: models.DiscrepancyModel(_mlp(), 2, weight=float("inf")),
            area="models",
        ),
        Case(
            "weight=-1 in DiscrepancyModel",
            "weight",
            lambda: models.DiscrepancyModel(_mlp(), 2, weight=-1.0),
            area="models",
        ),
        Case(
            "adaptation_weight=inf in DomainAdaptationClassifier",
            "adaptation_weight",
            lambda: _da_classifier(adaptation_weight=float("inf")).fit(x, y, X_target=x),
            area="sklearn",
        ),
        Case("scale=nan in DANN", "scale", lambda: models.DANN(_mlp(), 2, scale=float("nan")), area="models"),
        Case(
            "dropout=1.5 in TransferClassifier",
            "dropout",
            lambda: models.TransferClassifier(_backbone(), 2, dropout=1.5),
            area="models",
        ),
        # -- shapes and constructor arguments ------------------------------------------------
        Case(
            "input_shape=(32.7, 32, 3)",
            "input_shape",
            lambda: backbones.get_backbone("mobilenet_v3_small", input_shape=(32.7, 32, 3), weights=None),
            area="backbones",
        ),
        Case(
            "input_shape='abc'",
            "input_shape",
            lambda: backbones.get_backbone("mobilenet_v3_small", input_shape="abc", weights=None),
            area="backbones",
        ),
        Case(
            "weights=123",
            "weights",
            lambda: backbones.get_backbone("mobilenet_v3_small", input_shape=(32, 32, 3), weights=123),
            area="backbones",
        ),
        Case("HubBackbone(123)", "handle", lambda: backbones.HubBackbone(123), area="backbones"),
        Case(
            "variable_pattern='('",
            "variable_pattern",
            lambda: backbones.HubBackbone("/nonexistent-handle", variable_pattern="("),
            area="backbones",
        ),
        Case(
            "random_state='abc' in FeatureExtractor",
            "random_state",
            lambda: _da_classifier(random_state="abc").fit(x, y, X_target=x),
            area="sklearn",
        ),
        Case(
            "random_state=-1",
            "random_state",
            lambda: _da_classifier(random_state=-1).fit(x, y, X_target=x),
            area="sklearn",
        ),
        Case(
            "num_classes=np.int64(1)",
            "num_classes",
            lambda: models.TransferClassifier(_backbone(), np.int64(1)),
            area="models",
        ),
        # -- X_target errors name X_target ---------------------------------------------------
        Case(
            "X_target missing", "X_target", lambda: _da_classifier().fit(x, y), warning=True, area="sklearn"
        ),
        Case(
            "X_target of the wrong channels",
            "X_target",
            lambda: _da_classifier().fit(x, y, X_target=x[..., :2]),
            area="sklearn",
        ),
        Case(
            "X_target with NaN",
            "X_target",
            lambda: _da_classifier().fit(x, y, X_target=_nan(x)),
            area="sklearn",
        ),
        Case(
            "X_target empty", "X_target", lambda: _da_classifier().fit(x, y, X_target=x[:0]), area="sklearn"
        ),
        Case(
            "X_target a folder without images",
            "X_target",
            lambda: _da_classifier().fit(x, y, X_target="/proc/self"),
            area="sklearn",
        ),
        Case(
            "unknown method",
            "method",
            lambda: _da_classifier(method="dnn").fit(x, y, X_target=x),
            area="sklearn",
        ),
    ]
    return out


VALID_NUMPY_SCALARS = [
    # numpy scalars are valid wherever a Python int/float is: these must NOT raise.
    (
        "np.int64 num_classes",
        lambda: __import__("keras_transfer.models", fromlist=["x"]).TransferClassifier(
            _backbone(), np.int64(3)
        ),
    ),
    (
        "np.float32 base_lr",
        lambda: __import__("keras_transfer.policies", fromlist=["x"]).DiscriminativeLR(np.float32(1e-3)),
    ),
    (
        "np.float32 DiscrepancyModel weight",
        lambda: __import__("keras_transfer.models", fromlist=["x"]).DiscrepancyModel(
            _mlp(), 2, weight=np.float32(0.5)
        ),
    ),
    (
        "np.float32 DANN scale",
        lambda: __import__("keras_transfer.models", fromlist=["x"]).DANN(
            _mlp(), np.int64(2), scale=np.float32(0.5)
        ),
    ),
    (
        "np.int64 DANNLearningRate total_steps",
        lambda: __import__("keras_transfer.schedules", fromlist=["x"]).DANNLearningRate(np.int64(10)),
    ),
    (
        "np.int64 UnfreezeTop",
        lambda: __import__("keras_transfer.policies", fromlist=["x"]).UnfreezeTop(np.int64(1)),
    ),
]


def classify(case: Case) -> tuple[str, str]:
    """Run one case; return (verdict, what happened)."""
    pattern = re.compile(rf"`{re.escape(case.argument)}`")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            case.call()
        except Exception as exc:  # the sweep's point is to look at whatever comes out
            message = f"{type(exc).__name__}: {exc}"
            verdict = "clear" if pattern.search(str(exc)) and not case.warning else "cryptic"
            if case.warning and pattern.search(str(exc)):
                verdict = "clear"  # an error is at least as clear as the documented warning
            return verdict, message.splitlines()[0][:200]
    named = [w for w in caught if pattern.search(str(w.message))]
    if named:
        return "clear", f"{named[0].category.__name__}: {str(named[0].message).splitlines()[0][:200]}"
    return "silent", "no error, no warning naming the argument"


def main() -> None:
    import os

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    counts = {"clear": 0, "cryptic": 0, "silent": 0}
    rows = []
    for case in cases():
        verdict, what = classify(case)
        counts[verdict] += 1
        rows.append((verdict, case.area, case.name, what))
    ok_scalars = 0
    for name, call in VALID_NUMPY_SCALARS:
        try:
            call()
            ok_scalars += 1
        except Exception as exc:
            rows.append(("cryptic", "numpy", f"{name} refused", str(exc)[:200]))
            counts["cryptic"] += 1
    for verdict, area, name, what in sorted(rows, key=lambda r: (r[0] != "silent", r[0] != "cryptic", r[1])):
        print(f"{verdict:8s} {area:10s} {name:55s} {what}")
    tried = sum(counts.values())
    print(
        f"\n| tried | clear | cryptic | silent |\n|---|---|---|---|\n| {tried} | {counts['clear']} | {counts['cryptic']} | {counts['silent']} |"
    )
    print(f"numpy scalars accepted: {ok_scalars} of {len(VALID_NUMPY_SCALARS)}")


if __name__ == "__main__":
    main()
