"""Options every two-domain model shares: bottleneck, named discriminators, label smoothing,
new layers at a higher learning rate, and AdaBN (per-domain BatchNorm, target statistics)."""

import keras
import numpy as np
import pytest

from keras_transfer.models import DANN, DiscrepancyModel, TargetRegularizedModel
from keras_transfer.schedules import DANNLearningRate
from tests.models._synthetic import mlp, rescaled_blobs, target_accuracy


def _small(seed=0, n_source=96, n_target=64):
    rng = np.random.default_rng(seed)
    xs = rng.normal(size=(n_source, 4)).astype("float32")
    ys = rng.integers(0, 3, n_source)
    xt = (rng.normal(size=(n_target, 4)) * 2.0 + 1.0).astype("float32")
    return xs, ys, xt


@pytest.mark.backend_neutral
def test_tllib_practices_train_save_and_load(tmp_path):
    xs, ys, xt = _small()
    model = DANN(
        mlp((8,)),
        3,
        domain_head="tllib",
        bottleneck=6,
        label_smoothing=0.1,
        head_lr_multiplier=10.0,
        adapt_batch_norm=True,
    )
    model.compile(optimizer=keras.optimizers.SGD(1e-3, momentum=0.9))
    history = model.fit(x=(xs, xt), y=ys, epochs=1, batch_size=32, verbose=0).history
    assert np.isfinite(history["loss"][0])
    assert [type(layer).__name__ for layer in model.bottleneck.layers] == [
        "Dense",
        "BatchNormalization",
        "ReLU",
    ]
    assert [layer.units for layer in model.domain_head.layers if hasattr(layer, "units")] == [1024, 1024, 1]
    path = str(tmp_path / "dann.keras")
    model.save(path)
    loaded = keras.models.load_model(path)
    np.testing.assert_allclose(loaded.predict(xt, verbose=0), model.predict(xt, verbose=0), rtol=1e-6)
    config = loaded.get_config()
    assert config["bottleneck"] == 6 and config["domain_head"] == "tllib"
    assert config["label_smoothing"] == 0.1 and config["head_lr_multiplier"] == 10.0
    assert config["adapt_batch_norm"] is True
    assert isinstance(loaded.optimizer, keras.optimizers.MultiOptimizer)
    saved_state = [keras.ops.convert_to_numpy(v) for v in model.optimizer.variables]
    loaded_state = [keras.ops.convert_to_numpy(v) for v in loaded.optimizer.variables]
    assert len(saved_state) == len(loaded_state)
    for a, b in zip(saved_state, loaded_state):
        np.testing.assert_array_equal(a, b)
    loaded.fit(x=(xs, xt), y=ys, epochs=1, batch_size=32, verbose=0)  # keeps training


@pytest.mark.backend_neutral
def test_paper_discriminator_and_layer_bottleneck_round_trip():
    model = DANN(mlp((8,)), 2, domain_head="paper", bottleneck=keras.layers.Dense(5, name="neck"))
    model.build((None, 4))
    assert [type(layer).__name__ for layer in model.domain_head.layers].count("Dropout") == 2
    again = DANN.from_config(model.get_config())
    again.build((None, 4))
    assert again.bottleneck.units == 5 and again.get_config()["domain_head"] == "paper"


@pytest.mark.backend_neutral
def test_head_lr_multiplier_gives_new_layers_ten_times_the_rate():
    xs, ys, xt = _small()
    extractor = keras.Sequential([keras.layers.Dense(8, activation="relu")], name="extractor")
    model = DANN(extractor, 3, bottleneck=4, head_lr_multiplier=10)
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    model.fit(x=(xs, xt), y=ys, epochs=1, batch_size=32, verbose=0)
    selector = model.optimizer._optimizer_map  # the MultiOptimizer's variable -> optimizer
    by_path = {
        variable.path: float(keras.ops.convert_to_numpy(selector(variable).learning_rate))
        for variable in model.trainable_variables
    }
    for path, rate in by_path.items():
        expected = 1e-3 if "/extractor/" in path else 1e-2
        np.testing.assert_allclose(rate, expected, rtol=1e-6, err_msg=path)
    assert any("/bottleneck/" in p for p in by_path) and any("/domain_head/" in p for p in by_path)
    # a schedule with an initial learning rate is scaled as well
    scheduled = DANN(mlp((8,)), 3, head_lr_multiplier=10)
    scheduled.compile(optimizer=keras.optimizers.SGD(DANNLearningRate(total_steps=10)))
    heads = scheduled.optimizer._optimizer_map.heads
    assert heads.get_config()["learning_rate"]["config"]["initial_learning_rate"] == pytest.approx(0.1)


@pytest.mark.backend_neutral
def test_label_smoothing_loss_matches_numpy():
    model = DANN(mlp((8,)), 3, label_smoothing=0.2)
    p = np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]], "float32")
    y = np.array([0, 1])
    target = np.full((2, 3), 0.2 / 3) + 0.8 * np.eye(3)[y]
    expected = np.mean(-(target * np.log(p)).sum(1))
    np.testing.assert_allclose(float(model.label_loss_fn(y, p)), expected, rtol=1e-5)


@pytest.mark.backend_neutral
def test_adapt_batch_norm_normalises_each_domain_with_its_own_statistics_in_training():
    xs, ys, xt = _small()
    for adapt in (False, True):
        model = DiscrepancyModel(
            keras.layers.BatchNormalization(center=False, scale=False), 3, adapt_batch_norm=adapt
        )
        out = model((xs, xt), training=True)
        means = [keras.ops.convert_to_numpy(part).mean(0) for part in out.extras]
        assert np.allclose(means, 0.0, atol=1e-4) == adapt


@pytest.mark.backend_neutral
def test_adapt_batch_norm_fit_ends_with_target_statistics():
    xs, ys, xt = _small()
    extractor = keras.Sequential(
        [keras.layers.BatchNormalization(), keras.layers.Dense(8, activation="relu")]
    )
    model = TargetRegularizedModel(extractor, 3, adapt_batch_norm=True)
    model.compile(optimizer="adam")
    model.fit(x=(xs, xt), y=ys, epochs=1, batch_size=32, verbose=0)
    moving_mean = keras.ops.convert_to_numpy(extractor.layers[0].moving_mean)
    np.testing.assert_allclose(moving_mean, xt.mean(0), rtol=1e-4, atol=1e-4)


def test_adapt_batch_norm_fit_on_a_dataset_uses_its_target_part():
    import tensorflow as tf

    xs, ys, xt = _small(n_target=96)
    data = tf.data.Dataset.from_tensor_slices(((xs, xt), ys)).batch(32)
    extractor = keras.Sequential(
        [keras.layers.BatchNormalization(), keras.layers.Dense(8, activation="relu")]
    )
    model = DANN(extractor, 3, adapt_batch_norm=True)
    model.compile(optimizer="adam")
    model.fit(data, epochs=1, verbose=0)
    moving_mean = keras.ops.convert_to_numpy(extractor.layers[0].moving_mean)
    np.testing.assert_allclose(moving_mean, xt.mean(0), rtol=1e-4, atol=1e-4)


@pytest.mark.backend_neutral
def test_adapt_batch_norm_beats_source_only_on_rescaled_inputs():
    def make(adapt):
        def model():
            extractor = keras.Sequential([keras.layers.BatchNormalization(), mlp()])
            return TargetRegularizedModel(extractor, 2, adaptation_weight=0.0, adapt_batch_norm=adapt)

        return model

    source_only = target_accuracy(make(False), rescaled_blobs, seed=0, epochs=6)
    adabn = target_accuracy(make(True), rescaled_blobs, seed=0, epochs=6)
    assert adabn > source_only + 0.1 and adabn > 0.95, (source_only, adabn)


@pytest.mark.backend_neutral
def test_two_domain_options_bad_values():
    xs, ys, xt = _small()
    with pytest.raises(ValueError, match="`bottleneck` must be a positive number of units"):
        DANN(mlp(), 2, bottleneck=0)
    with pytest.raises(ValueError, match="`label_smoothing` must be a finite number >= 0.0 and < 1.0"):
        DANN(mlp(), 2, label_smoothing=1.0)
    with pytest.raises(ValueError, match="`head_lr_multiplier` must be a finite number > 0"):
        DANN(mlp(), 2, head_lr_multiplier=0)
    with pytest.raises(ValueError, match="Did you mean 'tllib'"):
        DANN(mlp(), 2, domain_head="tlib")
    with pytest.raises(TypeError, match="`adapt_batch_norm` must be True, False or 'auto'"):
        DANN(mlp(), 2, adapt_batch_norm="yes")
    assert DANN(mlp(), 2, bottleneck=np.int64(4), label_smoothing=np.float32(0.1)).bottleneck is not None
    model = DANN(mlp(), 2, adapt_batch_norm=True)
    model.compile(optimizer="adam")
    with pytest.raises(ValueError, match="needs a trainable BatchNormalization layer"):
        model.fit(x=(xs, xt), y=ys % 2, epochs=1, verbose=0)
    custom = DANN(mlp(), 2, head_lr_multiplier=10)
    with pytest.raises(ValueError, match="`head_lr_multiplier` needs the optimizer's learning rate"):
        custom.compile(
            optimizer=keras.optimizers.SGD(
                keras.optimizers.schedules.PiecewiseConstantDecay([5], [0.1, 0.01])
            )
        )
