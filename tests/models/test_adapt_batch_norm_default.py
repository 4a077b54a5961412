"""``adapt_batch_norm="auto"``, the default of the two-domain models: AdaBN when the prediction
path has a trainable BatchNorm layer, the plain method otherwise; True / False as before."""

import keras
import numpy as np
import pytest

from keras_transfer.models import CDAN, DANN, DiscrepancyModel, SelfTraining, TargetRegularizedModel


def _data(n=64, seed=0):
    rng = np.random.default_rng(seed)
    xs = rng.normal(size=(n, 4)).astype("float32")
    xt = (rng.normal(size=(n, 4)) * 2.0 + 3.0).astype("float32")
    return xs, rng.integers(0, 3, n), xt


def _fit(model, xs, ys, xt, **kwargs):
    model.compile(optimizer=keras.optimizers.Adam(0.01))
    return model.fit(x=(xs, xt), y=ys, verbose=0, **{"epochs": 2, "batch_size": len(xt), **kwargs})


@pytest.mark.parametrize("cls", [DANN, CDAN, DiscrepancyModel, TargetRegularizedModel, SelfTraining])
def test_the_default_is_auto_in_every_two_domain_model(cls):
    kwargs = {}
    if cls is SelfTraining:
        kwargs = dict(
            weak_augmentation=keras.layers.GaussianNoise(0.1), strong_augmentation=keras.layers.Identity()
        )
    model = cls(keras.layers.Dense(4), 3, **kwargs)
    assert model.adapt_batch_norm == "auto" and model.get_config()["adapt_batch_norm"] == "auto"
    assert not model.uses_adabn()  # no BatchNorm layer


@pytest.mark.backend_neutral
def test_default_on_a_batch_norm_model_ends_with_the_target_features_statistics():
    xs, ys, xt = _data()
    dense, norm = keras.layers.Dense(6), keras.layers.BatchNormalization()
    extractor = keras.Sequential([dense, norm, keras.layers.ReLU()])
    model = DANN(extractor, 3)
    assert model.uses_adabn()
    _fit(model, xs, ys, xt)  # one target batch in the re-estimation: the exact mean and variance
    features = keras.ops.convert_to_numpy(dense(xt))  # the BatchNorm's input on the target
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(norm.moving_mean), features.mean(0), rtol=1e-4, atol=1e-4
    )
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(norm.moving_variance), features.var(0), rtol=1e-3, atol=1e-4
    )
    # and per-domain statistics in training: each domain's normalised features have mean 0
    out = DiscrepancyModel(keras.layers.BatchNormalization(center=False, scale=False), 3)(
        (xs, xt), training=True
    )
    for features in out.extras:  # the source rows' features, then the target rows'
        np.testing.assert_allclose(keras.ops.convert_to_numpy(features).mean(0), 0.0, atol=1e-4)


@pytest.mark.backend_neutral
@pytest.mark.parametrize("adapt", ["auto", False], ids=["default", "false"])
def test_statistics_left_by_training_with_false_and_by_the_default(adapt):
    """BatchNorm on the inputs with momentum 0 keeps the last training batch's statistics: with
    False, Keras' plain training over the mixed batch (one batch holds every source and target
    row); by default, the target's, re-estimated after fit."""
    xs, ys, xt = _data()
    norm = keras.layers.BatchNormalization(momentum=0.0)
    extractor = keras.Sequential([norm, keras.layers.Dense(6, activation="relu")])
    model = TargetRegularizedModel(extractor, 3, adapt_batch_norm=adapt)
    _fit(model, xs, ys, xt, epochs=1)
    expected = np.concatenate([xs, xt]).mean(0) if adapt is False else xt.mean(0)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(norm.moving_mean), expected, rtol=1e-4, atol=1e-4)


@pytest.mark.backend_neutral
@pytest.mark.parametrize(
    "domain_head", [None, "tllib"], ids=["no_batch_norm", "batch_norm_only_in_the_domain_head"]
)
def test_default_without_batch_norm_on_the_prediction_path_trains_as_false(domain_head):
    xs, ys, xt = _data(n=48)
    xs = xs[:32]  # the cycled source too
    ys = ys[:32]

    def train(**kwargs):
        keras.utils.set_random_seed(5)
        extractor = keras.Sequential([keras.layers.Dense(8, activation="relu"), keras.layers.Dropout(0.2)])
        model = DANN(extractor, 3, domain_head=domain_head, **kwargs)
        history = _fit(model, xs, ys, xt, epochs=1, batch_size=16)
        return model, history.history

    default, history = train()
    plain, plain_history = train(adapt_batch_norm=False)
    assert not default.uses_adabn()
    assert history == plain_history
    for a, b in zip(plain.weights, default.weights):
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(b), keras.ops.convert_to_numpy(a))


@pytest.mark.backend_neutral
def test_auto_is_decided_at_fit_time():
    xs, ys, xt = _data()
    norm = keras.layers.BatchNormalization()
    model = TargetRegularizedModel(keras.Sequential([norm, keras.layers.Dense(6)]), 3)
    assert model.uses_adabn()
    norm.trainable = False  # e.g. a frozen pretrained backbone: its statistics are kept
    _fit(model, xs, ys, xt, epochs=1)
    assert not model.uses_adabn()
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(norm.moving_mean), np.zeros(4))  # initial


def test_auto_round_trips_through_config_and_keras_file(tmp_path):
    xs, ys, xt = _data()
    model = DANN(keras.Sequential([keras.layers.Dense(6)]), 3, bottleneck=4)
    _fit(model, xs, ys, xt, epochs=1)
    config = model.get_config()
    assert config["adapt_batch_norm"] == "auto"
    assert DANN.from_config(config).adapt_batch_norm == "auto"
    path = str(tmp_path / "dann.keras")
    model.save(path)
    loaded = keras.models.load_model(path)
    assert loaded.adapt_batch_norm == "auto" and loaded.uses_adabn()
    np.testing.assert_allclose(
        loaded.predict(xt, verbose=0), model.predict(xt, verbose=0), rtol=1e-5, atol=1e-6
    )


def test_adapt_batch_norm_accepts_true_false_auto_and_numpy_bools_only():
    for value, expected in ((True, True), (False, False), ("auto", "auto"), (np.bool_(True), True)):
        model = DANN(keras.layers.Dense(4), 2, adapt_batch_norm=value)
        assert model.adapt_batch_norm == expected and type(model.adapt_batch_norm) is type(expected)
    with pytest.raises(
        ValueError, match="`adapt_batch_norm` must be True, False or 'auto'.*Did you mean 'auto'"
    ):
        DANN(keras.layers.Dense(4), 2, adapt_batch_norm="Auto")
    for bad in (1, None, "yes", 0.0):
        with pytest.raises(TypeError, match="`adapt_batch_norm` must be True, False or 'auto'"):
            DANN(keras.layers.Dense(4), 2, adapt_batch_norm=bad)
    xs, ys, xt = _data()
    model = DANN(keras.layers.Dense(4), 3, adapt_batch_norm=True)  # True still needs BatchNorm
    model.compile(optimizer="adam")
    with pytest.raises(ValueError, match="needs a trainable BatchNormalization layer"):
        model.fit(x=(xs, xt), y=ys, verbose=0)
