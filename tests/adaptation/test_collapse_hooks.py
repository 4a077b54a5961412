"""The collapse check runs after every adaptation path: two-domain ``fit`` and ``adapt_batch_norm``."""

import warnings

import keras
import numpy as np
import pytest

from keras_transfer.adaptation import CollapseWarning, adapt_batch_norm
from keras_transfer.models import DANN, DiscrepancyModel

pytestmark = pytest.mark.backend_neutral


def _data():
    rng = np.random.default_rng(0)
    xs = rng.normal(size=(96, 4)).astype("float32")
    ys = np.arange(96) % 3
    xt = (rng.normal(size=(64, 4)) + 0.5).astype("float32")
    return xs, ys, xt


def _stuck_head():
    """A softmax head whose bias sends every row to class 0 (a collapsed model)."""
    bias = keras.initializers.Constant([50.0, 0.0, 0.0])
    return keras.layers.Dense(3, activation="softmax", bias_initializer=bias, kernel_initializer="zeros")


def _fit(model, **kwargs):
    xs, ys, xt = _data()
    model.compile(optimizer=keras.optimizers.SGD(0.0))  # nothing learns: the head stays stuck
    return model.fit(x=(xs, xt), y=ys, epochs=1, batch_size=32, verbose=0, **kwargs)


@pytest.mark.parametrize("cls", [DANN, DiscrepancyModel])
def test_two_domain_fit_warns_naming_the_model_and_the_symptom(cls):
    keras.utils.set_random_seed(0)
    model = cls(keras.layers.Dense(8, activation="relu"), _stuck_head())
    with pytest.warns(CollapseWarning, match=rf"{cls.__name__}.*100% of target predictions are class 0"):
        _fit(model)
    assert model.collapse_report.collapsed and model.collapse_report.num_rows == 64
    # the reference is the source labels' balance (three equal classes)
    np.testing.assert_allclose(model.collapse_report.reference_shares, [1 / 3] * 3, atol=1e-6)


def test_healthy_fit_keeps_a_clean_report_and_the_check_can_be_skipped():
    keras.utils.set_random_seed(0)
    model = DANN(keras.layers.Dense(8, activation="relu"), 3)
    with warnings.catch_warnings():
        warnings.simplefilter("error", CollapseWarning)
        xs, ys, xt = _data()
        model.compile(optimizer="adam")
        model.fit(x=(xs, xt), y=ys, epochs=3, batch_size=32, verbose=0)
    assert not model.collapse_report.collapsed
    stuck = DANN(keras.layers.Dense(8, activation="relu"), _stuck_head())
    with warnings.catch_warnings():
        warnings.simplefilter("error", CollapseWarning)
        _fit(stuck, collapse_check=False)
    assert stuck.collapse_report is None
    with pytest.raises(TypeError, match="collapse_check"):
        _fit(stuck, collapse_check="yes")


def test_dataset_input_is_checked_on_its_first_batches():
    tf = pytest.importorskip("tensorflow")
    if keras.backend.backend() != "tensorflow":
        pytest.skip("tf.data input of a two-domain model is exercised on the TensorFlow backend")
    xs, ys, xt = _data()
    dataset = tf.data.Dataset.from_tensor_slices(((xs[:64], xt), ys[:64])).batch(16)
    model = DANN(keras.layers.Dense(8, activation="relu"), _stuck_head())
    model.compile(optimizer=keras.optimizers.SGD(0.0))
    with pytest.warns(CollapseWarning, match="DANN"):
        model.fit(dataset, epochs=1, verbose=0)
    assert model.collapse_report.num_rows == 64


def test_adapt_batch_norm_warns_when_the_adapted_model_collapses():
    rng = np.random.default_rng(0)
    model = keras.Sequential([keras.Input((4,)), keras.layers.BatchNormalization(), _stuck_head()])
    target = rng.normal(3.0, 1.0, (128, 4)).astype("float32")
    with pytest.warns(CollapseWarning, match=r"AdaBN \(adapt_batch_norm\).*class 0"):
        assert adapt_batch_norm(model, target) == 1
    with warnings.catch_warnings():
        warnings.simplefilter("error", CollapseWarning)
        adapt_batch_norm(model, target, collapse_check=False)
        # a model that outputs features, not probabilities, is not checked
        features = keras.Sequential(
            [keras.Input((4,)), keras.layers.BatchNormalization(), keras.layers.Dense(3)]
        )
        adapt_batch_norm(features, target)
        # a healthy classifier passes; the reference balance is the caller's
        healthy = keras.Sequential(
            [
                keras.Input((4,)),
                keras.layers.BatchNormalization(),
                keras.layers.Dense(3, activation="softmax"),
            ]
        )
        adapt_batch_norm(healthy, target, reference_distribution=[1, 1, 1])
